// The calendar date and time of day in Europe/London, where the index's dates are read: the
// day a retention run archives as of, and the day a data manager reads on.
//
// GMT, or BST (UTC+1) from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
// Sunday of October (the rule since 1996), computed directly: no time-zone database, and
// the process's TZ is not consulted.
#pragma once

#include <cstdint>

#include "util/date.h"

namespace cp::server {

Date LondonDate(int64_t unix_seconds);
// Minutes after local midnight, 0..1439.
int LondonMinuteOfDay(int64_t unix_seconds);

}  // namespace cp::server
