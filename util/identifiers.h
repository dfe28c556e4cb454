// National identifiers carried by a child's record and their check digits.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace cp {

// NHS number: 10 digits, the last a modulus-11 check digit (weights 10..2 over the first
// nine; 11 - (sum mod 11), 11 -> 0, 10 -> invalid). Spaces and hyphens are allowed in
// input ("943 476 5919") and removed by NormaliseNhsNumber.
// Returns the 10 digits, or InvalidArgument saying what is wrong (length, non-digit,
// check digit).
Result<std::string> NormaliseNhsNumber(std::string_view text);
bool IsValidNhsNumber(std::string_view text);
// The check digit for nine leading digits, or -1 when no check digit exists (remainder 10).
int NhsCheckDigit(std::string_view nine_digits);

// Unique pupil number (DfE): 13 characters; the first is a check letter computed from the
// other 12 (weights 2..13, sum mod 23, mapped onto "ABCDEFGHJKLMNPQRTUVWXYZ"); characters
// 2..12 are digits and the 13th is a digit or, for a temporary UPN, a letter from the same
// alphabet (valued by its position in it). Input is upper-cased and trimmed.
Result<std::string> NormaliseUpn(std::string_view text);
bool IsValidUpn(std::string_view text);
// The check letter for the 12 characters after it, or '\0' when they are malformed.
char UpnCheckLetter(std::string_view twelve_chars);

}  // namespace cp
