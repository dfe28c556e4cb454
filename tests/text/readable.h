// Names ctest shows for a parameterised case: letters and digits as they are, any other
// byte as _HH. Shared by the text suites' tables.
#pragma once

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>

namespace cp::testing_util {

inline std::string Readable(std::string_view s) {
  if (s.empty()) return "_";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "_%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace cp::testing_util
