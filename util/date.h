// Calendar dates (proleptic Gregorian), as held for a date of birth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace cp {

struct Date {
  int16_t year = 0;  // 0 means "no date"
  uint8_t month = 0;  // 1..12
  uint8_t day = 0;    // 1..31, valid for the month

  bool empty() const { return year == 0; }
  friend bool operator==(const Date&, const Date&) = default;
  friend auto operator<=>(const Date&, const Date&) = default;

  // "YYYY-MM-DD".
  std::string ToString() const;
  // Days since 1970-01-01 (negative before). Requires a valid date.
  int32_t ToDays() const;
  static Date FromDays(int32_t days);
  // Packed yyyymmdd as an integer, e.g. 20150302; 0 when empty.
  uint32_t Packed() const { return empty() ? 0 : year * 10000u + month * 100u + day; }
};

bool IsValidDate(int year, int month, int day);

// Parses exactly "YYYY-MM-DD" (four-digit year 1800..2199). Anything else, including a
// date that does not exist (2019-02-30), is InvalidArgument with a message naming the text.
Result<Date> ParseDate(std::string_view text);

// Whole years between `birth` and `on` (age on that day; a 29 Feb birthday counts on 1 Mar).
int AgeInYears(const Date& birth, const Date& on);

// Today's date in UTC.
Date TodayUtc();

}  // namespace cp
