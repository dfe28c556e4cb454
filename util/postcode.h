// UK postcodes.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace cp {

// Canonical form: upper case, one space before the three-character inward code
// ("sw1a1aa" -> "SW1A 1AA"). InvalidArgument when the text is not UK postcode shaped
// (outward code A9, A99, AA9, AA99, A9A, AA9A; inward code 9AA).
Result<std::string> NormalisePostcode(std::string_view text);

// The outward code (district) of a canonical postcode: "SW1A 1AA" -> "SW1A".
std::string_view PostcodeOutward(std::string_view canonical);

}  // namespace cp
