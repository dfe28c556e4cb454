// Double Metaphone (Lawrence Philips, 2000), faithful to the reference implementation as
// Apache commons-codec's DoubleMetaphone carries it.
#pragma once

#include <string>
#include <string_view>

namespace cp {

struct PhoneticCodes {
  std::string primary;
  std::string alternate;  // equals `primary` when the word has no distinct alternate
  friend bool operator==(const PhoneticCodes&, const PhoneticCodes&) = default;
};

// Codes of at most `max_length` characters for one word. The input is case-insensitive
// ASCII (fold names first: index/normalize.h); characters other than letters are
// skipped as the reference skips them. An empty or letterless word gives empty codes.
// Thread safe (pure function).
PhoneticCodes DoubleMetaphone(std::string_view word, size_t max_length = 4);

}  // namespace cp
