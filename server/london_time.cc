#include "server/london_time.h"

namespace cp::server {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int32_t DaysOf(int64_t unix_seconds) {
  return static_cast<int32_t>(unix_seconds >= 0
                                  ? unix_seconds / kSecondsPerDay
                                  : (unix_seconds - kSecondsPerDay + 1) / kSecondsPerDay);
}

// 01:00 UTC on the last Sunday of `month` (March or October: both have 31 days).
int64_t ClockChange(int year, uint8_t month) {
  const int32_t last_day = Date{static_cast<int16_t>(year), month, 31}.ToDays();
  const int weekday = ((last_day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday; Sunday is 0
  return int64_t{last_day - weekday} * kSecondsPerDay + 3600;
}

int64_t LondonSeconds(int64_t unix_seconds) {
  const int year = Date::FromDays(DaysOf(unix_seconds)).year;
  const bool summer = unix_seconds >= ClockChange(year, 3) && unix_seconds < ClockChange(year, 10);
  return unix_seconds + (summer ? 3600 : 0);
}

}  // namespace

Date LondonDate(int64_t unix_seconds) {
  return Date::FromDays(DaysOf(LondonSeconds(unix_seconds)));
}

int LondonMinuteOfDay(int64_t unix_seconds) {
  const int64_t local = LondonSeconds(unix_seconds);
  return static_cast<int>((local - int64_t{DaysOf(local)} * kSecondsPerDay) / 60);
}

}  // namespace cp::server
