// Character classes of ASCII alone, whatever the locale (std::isdigit and its kin take the
// C library's locale and an int that must not be a negative char).
#pragma once

namespace cp {

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace cp
