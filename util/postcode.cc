#include "util/postcode.h"

#include "util/ascii.h"

namespace cp {
namespace {

// Shape only, as the header promises: the finer letter rules (no Q, V, X first; no C, I, K,
// M, O, V in the inward code; ...) and special cases such as GIR 0AA and BFPO are not
// applied, so a well-shaped postcode that Royal Mail never issued is accepted.

constexpr size_t kInwardLength = 3;

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// Upper-cased input with every space and tab removed, or "" when a byte is not a letter,
// digit, space or tab.
std::string Compact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!IsAsciiDigit(c) && !IsUpper(c)) return "";
    out += c;
  }
  return out;
}

// 9AA.
bool IsInward(std::string_view s) {
  return s.size() == kInwardLength && IsAsciiDigit(s[0]) && IsUpper(s[1]) && IsUpper(s[2]);
}

// A9, A99, AA9, AA99, A9A, AA9A: one or two letters, a digit, then optionally one more
// digit or letter.
bool IsOutward(std::string_view s) {
  size_t letters = 0;
  while (letters < s.size() && IsUpper(s[letters])) ++letters;
  if (letters < 1 || letters > 2) return false;
  std::string_view rest = s.substr(letters);
  if (rest.empty() || !IsAsciiDigit(rest[0])) return false;
  if (rest.size() == 1) return true;
  return rest.size() == 2 && (IsAsciiDigit(rest[1]) || IsUpper(rest[1]));
}

}  // namespace

// Spaces and tabs anywhere are ignored ("SW1A1AA", " sw1a  1aa "); the inward code is always
// the last three characters, which is what makes the space recoverable.
Result<std::string> NormalisePostcode(std::string_view text) {
  const std::string compact = Compact(text);
  const bool shaped = compact.size() > kInwardLength &&
                      IsOutward(std::string_view(compact).substr(0, compact.size() - 3)) &&
                      IsInward(std::string_view(compact).substr(compact.size() - 3));
  if (!shaped) return Status::InvalidArgument("not a UK postcode");
  return compact.substr(0, compact.size() - kInwardLength) + " " +
         compact.substr(compact.size() - kInwardLength);
}

// For text that is not canonical (no space with exactly three characters after it) the
// result is empty rather than a guess.
std::string_view PostcodeOutward(std::string_view canonical) {
  const size_t space = canonical.find(' ');
  if (space == std::string_view::npos || canonical.size() - space - 1 != kInwardLength) {
    return {};
  }
  return canonical.substr(0, space);
}

}  // namespace cp
