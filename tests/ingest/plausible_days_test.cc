// PlausibleDays lists, of a date's own year, exactly the dates blocking's date filter
// accepts: checked against every (month, day) of the year, judged by the rule written out
// here digit by digit (the same date, day and month swapped, one digit of YYYYMMDD changed,
// or two neighbouring digits swapped).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ingest/matcher.h"

namespace cp {
namespace {

std::string EightDigits(int year, int month, int day) {
  char out[16];
  std::snprintf(out, sizeof out, "%04d%02d%02d", year, month, day);
  return out;
}

bool PlausibleByTheRule(const Date& d, int month, int day) {
  if (d.month == month && d.day == day) return true;
  if (d.month == day && d.day == month) return true;
  const std::string a = EightDigits(d.year, d.month, d.day), b = EightDigits(d.year, month, day);
  std::vector<size_t> differ;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) differ.push_back(i);
  }
  if (differ.size() == 1) return true;
  return differ.size() == 2 && differ[1] == differ[0] + 1 && a[differ[0]] == b[differ[1]] &&
         a[differ[1]] == b[differ[0]];
}

TEST(PlausibleDaysTest, ExactlyTheDatesOfTheYearTheRuleAccepts) {
  size_t dates = 0;
  for (int year : {1999, 2000, 2012, 2019, 2020, 2021}) {
    for (int month = 1; month <= 12; ++month) {
      for (int day = 1; day <= 31; ++day) {
        const Date d{static_cast<int16_t>(year), static_cast<uint8_t>(month),
                     static_cast<uint8_t>(day)};
        std::vector<std::pair<uint8_t, uint8_t>> expected;
        for (int m = 1; m <= 12; ++m) {
          for (int dd = 1; dd <= 31; ++dd) {
            if (PlausibleByTheRule(d, m, dd)) expected.emplace_back(m, dd);
          }
        }
        ASSERT_EQ(PlausibleDays(d), expected) << EightDigits(year, month, day);
        ++dates;
      }
    }
  }
  EXPECT_EQ(dates, 6u * 12 * 31);
}

TEST(PlausibleDaysTest, OneDateWrittenOut) {
  // 2015-03-14: a digit of the month (14 January), of the day (24 and 19 March), and day
  // and month swapped in 2015-12-21 (21 December); not 13 April, two digits away.
  auto has = [](const Date& d, uint8_t month, uint8_t day) {
    const std::vector<std::pair<uint8_t, uint8_t>> days = PlausibleDays(d);
    return std::find(days.begin(), days.end(), std::pair<uint8_t, uint8_t>{month, day}) !=
           days.end();
  };
  EXPECT_TRUE(has(Date{2015, 3, 14}, 1, 14));
  EXPECT_TRUE(has(Date{2015, 3, 14}, 3, 24));
  EXPECT_TRUE(has(Date{2015, 3, 14}, 3, 19));
  EXPECT_FALSE(has(Date{2015, 3, 14}, 4, 13));
  EXPECT_TRUE(has(Date{2015, 12, 21}, 12, 21));
  EXPECT_TRUE(has(Date{2015, 12, 7}, 7, 12));
  EXPECT_TRUE(PlausibleDays(Date{}).empty());
}

}  // namespace
}  // namespace cp
