#include "util/date.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace cp {
namespace {

Date D(int y, int m, int d) {
  Date date;
  date.year = static_cast<int16_t>(y);
  date.month = static_cast<uint8_t>(m);
  date.day = static_cast<uint8_t>(d);
  return date;
}

TEST(ParseDateTest, AcceptsRealDates) {
  const struct {
    const char* text;
    Date want;
  } cases[] = {
      {"2019-02-28", D(2019, 2, 28)},  {"2020-02-29", D(2020, 2, 29)},
      {"2000-02-29", D(2000, 2, 29)},  {"2015-03-02", D(2015, 3, 2)},
      {"2019-12-31", D(2019, 12, 31)}, {"2019-04-30", D(2019, 4, 30)},
      {"1800-01-01", D(1800, 1, 1)},   {"2199-12-31", D(2199, 12, 31)},
  };
  for (const auto& c : cases) {
    Result<Date> got = ParseDate(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want) << c.text;
    EXPECT_EQ(got->ToString(), c.text);
  }
}

TEST(ParseDateTest, RejectsDaysThatDoNotExist) {
  for (const char* text : {"2019-02-29", "1900-02-29", "2019-02-30", "2019-04-31", "2019-13-01",
                           "2019-00-10", "2019-01-00", "2019-01-32", "2019-06-31"}) {
    Result<Date> got = ParseDate(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument()) << text;
    EXPECT_NE(got.status().message().find(text), std::string::npos) << got.status().message();
    EXPECT_NE(got.status().message().find("does not exist"), std::string::npos);
  }
}

TEST(ParseDateTest, RejectsWrongShape) {
  for (const char* text :
       {"", "2019-1-01", "2019-01-1", "20190101", "2019-01-01x", "2019-01-01 ", " 2019-01-01",
        "2019/01/01", "19-01-01", "02019-01-01", "+019-01-01", "2019-01-0a", "2019-0x-01",
        "2019--1-01", "01-01-2019", "2019-01-01T00:00"}) {
    Result<Date> got = ParseDate(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument()) << text;
    EXPECT_NE(got.status().message().find("YYYY-MM-DD"), std::string::npos)
        << got.status().message();
  }
}

TEST(ParseDateTest, RejectsYearsOutsideRange) {
  for (const char* text : {"1799-12-31", "2200-01-01", "0000-01-01", "9999-12-31"}) {
    Result<Date> got = ParseDate(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_NE(got.status().message().find("1800..2199"), std::string::npos)
        << got.status().message();
  }
}

TEST(ParseDateTest, MessageNamesTextButTruncatesAndMasksControlBytes) {
  Result<Date> got = ParseDate("2019-02-30");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "date \"2019-02-30\" does not exist");

  got = ParseDate(std::string(1000, '9'));
  ASSERT_FALSE(got.ok());
  EXPECT_LT(got.status().message().size(), 100u);
  EXPECT_NE(got.status().message().find("..."), std::string::npos);

  got = ParseDate(std::string("2019\n01-01", 10));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message().find('\n'), std::string::npos);
}

TEST(DateTest, ToStringPadsAndEmptyIsBlank) {
  EXPECT_EQ(D(2015, 3, 2).ToString(), "2015-03-02");
  EXPECT_EQ(D(1800, 1, 1).ToString(), "1800-01-01");
  EXPECT_EQ(Date{}.ToString(), "");
}

TEST(DateTest, PackedAndEmpty) {
  EXPECT_EQ(D(2015, 3, 2).Packed(), 20150302u);
  EXPECT_TRUE(Date{}.empty());
  EXPECT_EQ(Date{}.Packed(), 0u);
  EXPECT_FALSE(D(2015, 3, 2).empty());
}

TEST(DateTest, OrderingIsChronological) {
  EXPECT_LT(D(2019, 12, 31), D(2020, 1, 1));
  EXPECT_LT(D(2020, 1, 31), D(2020, 2, 1));
  EXPECT_LT(D(2020, 2, 1), D(2020, 2, 2));
  EXPECT_EQ(D(2020, 2, 1), D(2020, 2, 1));
}

TEST(DateTest, ToDaysKnownValues) {
  EXPECT_EQ(D(1970, 1, 1).ToDays(), 0);
  EXPECT_EQ(D(1969, 12, 31).ToDays(), -1);
  EXPECT_EQ(D(2000, 1, 1).ToDays(), 10957);
  EXPECT_EQ(D(2000, 3, 1).ToDays(), 11017);  // 2000 is a leap year
  EXPECT_EQ(D(1900, 1, 1).ToDays(), -25567);
  EXPECT_EQ(Date::FromDays(0), D(1970, 1, 1));
  EXPECT_EQ(Date::FromDays(-1), D(1969, 12, 31));
  EXPECT_EQ(Date::FromDays(11016), D(2000, 2, 29));
}

// Every day in the parseable range: FromDays inverts ToDays, consecutive days differ by one,
// and ToString/ParseDate round-trip.
TEST(DateTest, DaysRoundTripAcrossParseableRange) {
  const int32_t first = D(1800, 1, 1).ToDays();
  const int32_t last = D(2199, 12, 31).ToDays();
  Date previous = Date::FromDays(first - 1);
  for (int32_t days = first; days <= last; ++days) {
    const Date d = Date::FromDays(days);
    ASSERT_TRUE(IsValidDate(d.year, d.month, d.day)) << days;
    ASSERT_EQ(d.ToDays(), days);
    ASSERT_LT(previous, d);
    previous = d;
    if (days % 97 == 0) {
      Result<Date> parsed = ParseDate(d.ToString());
      ASSERT_TRUE(parsed.ok()) << d.ToString();
      ASSERT_EQ(*parsed, d);
    }
  }
  EXPECT_EQ(previous, D(2199, 12, 31));
}

TEST(IsValidDateTest, CalendarRules) {
  EXPECT_TRUE(IsValidDate(2020, 2, 29));
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(2019, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_TRUE(IsValidDate(2019, 1, 31));
  EXPECT_FALSE(IsValidDate(2019, 11, 31));
  EXPECT_FALSE(IsValidDate(2019, 0, 1));
  EXPECT_FALSE(IsValidDate(2019, 13, 1));
  EXPECT_FALSE(IsValidDate(2019, 1, 0));
  EXPECT_FALSE(IsValidDate(2019, 1, 32));
  EXPECT_FALSE(IsValidDate(2019, 1, -1));
  EXPECT_FALSE(IsValidDate(0, 1, 1));  // year 0 is Date's "no date"
  EXPECT_FALSE(IsValidDate(-5, 1, 1));
  EXPECT_FALSE(IsValidDate(10000, 1, 1));
}

TEST(AgeInYearsTest, AroundAnOrdinaryBirthday) {
  const Date birth = D(2010, 6, 15);
  EXPECT_EQ(AgeInYears(birth, D(2010, 6, 15)), 0);
  EXPECT_EQ(AgeInYears(birth, D(2011, 6, 14)), 0);
  EXPECT_EQ(AgeInYears(birth, D(2011, 6, 15)), 1);
  EXPECT_EQ(AgeInYears(birth, D(2020, 6, 14)), 9);
  EXPECT_EQ(AgeInYears(birth, D(2020, 6, 15)), 10);
  EXPECT_EQ(AgeInYears(birth, D(2020, 6, 16)), 10);
  EXPECT_EQ(AgeInYears(birth, D(2020, 5, 31)), 9);
  EXPECT_EQ(AgeInYears(D(2010, 12, 31), D(2011, 1, 1)), 0);
  EXPECT_EQ(AgeInYears(D(2010, 12, 31), D(2011, 12, 31)), 1);
}

TEST(AgeInYearsTest, TwentyNinthOfFebruaryCountsOnFirstOfMarch) {
  const Date birth = D(2012, 2, 29);
  EXPECT_EQ(AgeInYears(birth, D(2013, 2, 28)), 0);
  EXPECT_EQ(AgeInYears(birth, D(2013, 3, 1)), 1);
  EXPECT_EQ(AgeInYears(birth, D(2015, 2, 28)), 2);
  EXPECT_EQ(AgeInYears(birth, D(2015, 3, 1)), 3);
  // In a leap year the birthday itself exists.
  EXPECT_EQ(AgeInYears(birth, D(2016, 2, 28)), 3);
  EXPECT_EQ(AgeInYears(birth, D(2016, 2, 29)), 4);
  EXPECT_EQ(AgeInYears(birth, D(2016, 3, 1)), 4);
}

TEST(AgeInYearsTest, NegativeExactlyWhenOnIsBeforeBirth) {
  const Date birth = D(2020, 5, 1);
  EXPECT_EQ(AgeInYears(birth, D(2020, 4, 30)), -1);
  EXPECT_EQ(AgeInYears(birth, D(2019, 5, 2)), -1);
  EXPECT_EQ(AgeInYears(birth, D(2019, 5, 1)), -1);
  EXPECT_EQ(AgeInYears(birth, D(2019, 4, 30)), -2);
}

Date FromTm(const std::tm& tm) { return D(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday); }

TEST(TodayUtcTest, MatchesGmtime) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const Date before = FromTm(tm);
  const Date today = TodayUtc();
  now = std::time(nullptr);
  gmtime_r(&now, &tm);
  const Date after = FromTm(tm);
  EXPECT_TRUE(today == before || today == after) << today.ToString();
}

}  // namespace
}  // namespace cp
