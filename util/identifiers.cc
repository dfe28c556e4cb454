#include "util/identifiers.h"

#include <cstddef>

#include "util/ascii.h"

namespace cp {
namespace {

// Error messages here never repeat the identifier: it is personal data, and messages end up
// in logs. Callers that need to show the value (e.g. to the person who typed it) can.

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (!IsAsciiDigit(c)) return false;
  }
  return true;
}

// --- NHS number -------------------------------------------------------------------------

constexpr size_t kNhsDigits = 10;

// --- Unique pupil number ----------------------------------------------------------------
//
// The rule, from the UK Government Data Standards Catalogue entry "Unique Pupil Number"
// v2.0 (GovTalk, agreed 18 November 2004; owner DfE), matching DfE school census validation
// rule 1510 ("UPN invalid (wrong check letter at character 1)"):
//  - characters 2..13 are weighted by their position, 2..13, and summed;
//  - the sum mod 23 is the index of the check letter in "ABCDEFGHJKLMNPQRTUVWXYZ"
//    (A=0 .. Z=22; I, O and S are never used);
//  - for a temporary UPN the 13th character is a letter from that same alphabet and counts
//    as its index there (A=0, B=1, ...).
// The tests check the examples of DfE's "Unique Pupil Numbers - guidance" (H801200001001,
// temporary G80120000101A).

constexpr std::string_view kUpnAlphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";
constexpr size_t kUpnLength = 13;

// Index of c in kUpnAlphabet, or -1 (lower case, I, O, S, anything else).
int UpnLetterValue(char c) {
  const size_t i = kUpnAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

char ToUpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool IsSpaceAscii(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimAscii(std::string_view text) {
  while (!text.empty() && IsSpaceAscii(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpaceAscii(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

// Separators may appear anywhere (the header allows spaces and hyphens, not a layout); other
// characters, tabs included, are rejected so a mistyped digit cannot vanish silently.
Result<std::string> NormaliseNhsNumber(std::string_view text) {
  std::string digits;
  digits.reserve(kNhsDigits);
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    if (!IsAsciiDigit(c)) {
      return Status::InvalidArgument(
          "NHS number contains a character other than a digit, "
          "space or hyphen");
    }
    digits += c;
  }
  if (digits.size() != kNhsDigits) {
    return Status::InvalidArgument("NHS number has " + std::to_string(digits.size()) +
                                   " digits; it needs 10");
  }
  const int check = NhsCheckDigit(std::string_view(digits).substr(0, 9));
  if (check < 0 || digits[9] - '0' != check) {
    return Status::InvalidArgument("NHS number has a wrong check digit");
  }
  return digits;
}

bool IsValidNhsNumber(std::string_view text) { return NormaliseNhsNumber(text).ok(); }

// Also -1 when the input is not exactly nine digits.
int NhsCheckDigit(std::string_view nine_digits) {
  if (nine_digits.size() != 9 || !AllDigits(nine_digits)) return -1;
  int sum = 0;
  for (size_t i = 0; i < 9; ++i) sum += (nine_digits[i] - '0') * static_cast<int>(10 - i);
  const int check = 11 - sum % 11;
  if (check == 11) return 0;
  if (check == 10) return -1;
  return check;
}

// Only surrounding whitespace is removed; a space inside the UPN is an error.
Result<std::string> NormaliseUpn(std::string_view text) {
  const std::string_view trimmed = TrimAscii(text);
  std::string upn;
  upn.reserve(trimmed.size());
  for (char c : trimmed) upn += ToUpperAscii(c);
  if (upn.size() != kUpnLength) {
    return Status::InvalidArgument("UPN has " + std::to_string(upn.size()) +
                                   " characters; it needs 13");
  }
  if (UpnLetterValue(upn[0]) < 0) {
    return Status::InvalidArgument("UPN does not start with a check letter (A-Z except I, O, S)");
  }
  if (!AllDigits(std::string_view(upn).substr(1, 11))) {
    return Status::InvalidArgument("UPN characters 2 to 12 must be digits");
  }
  const char check = UpnCheckLetter(std::string_view(upn).substr(1));
  if (check == '\0') {
    return Status::InvalidArgument(
        "UPN character 13 must be a digit or a letter A-Z except I, O, S");
  }
  if (upn[0] != check) return Status::InvalidArgument("UPN has a wrong check letter");
  return upn;
}

bool IsValidUpn(std::string_view text) { return NormaliseUpn(text).ok(); }

// Expects the upper-case form (NormaliseUpn upper-cases first); lower case is malformed here.
char UpnCheckLetter(std::string_view twelve_chars) {
  if (twelve_chars.size() != kUpnLength - 1) return '\0';
  if (!AllDigits(twelve_chars.substr(0, 11))) return '\0';
  const char last = twelve_chars[11];
  const int last_value = IsAsciiDigit(last) ? last - '0' : UpnLetterValue(last);
  if (last_value < 0) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += (twelve_chars[i] - '0') * static_cast<int>(i + 2);
  sum += last_value * 13;
  return kUpnAlphabet[static_cast<size_t>(sum % 23)];
}

}  // namespace cp
