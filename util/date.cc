#include "util/date.h"

#include <chrono>
#include <cstdio>

#include "util/ascii.h"

namespace cp {
namespace {

namespace chr = std::chrono;

constexpr int kMinParseYear = 1800;
constexpr int kMaxParseYear = 2199;
// Longest slice of bad input echoed back in an error message; feed rows can hold anything.
constexpr size_t kMaxEchoedChars = 32;

chr::year_month_day ToChrono(const Date& d) {
  return chr::year_month_day{chr::year{d.year}, chr::month{d.month}, chr::day{d.day}};
}

// Value of the `count` ASCII digits at text[pos]; the caller has checked they are digits.
int DigitsValue(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

// True when text is four digits, '-', two digits, '-', two digits and nothing else.
bool HasDateShape(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  constexpr size_t kDigitPositions[] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (size_t i : kDigitPositions) {
    if (!IsAsciiDigit(text[i])) return false;
  }
  return true;
}

// The input quoted for an error message: at most kMaxEchoedChars bytes, control bytes as '?'.
std::string Echo(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, kMaxEchoedChars)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (text.size() > kMaxEchoedChars) out += "...";
  out += '"';
  return out;
}

}  // namespace

// An empty date ("no date") formats as "", so it writes as an empty CSV field.
std::string Date::ToString() const {
  if (empty()) return "";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month, day);
  return buf;
}

int32_t Date::ToDays() const {
  return static_cast<int32_t>(chr::sys_days{ToChrono(*this)}.time_since_epoch().count());
}

// Requires the result's year to fit Date::year (int16_t), i.e. roughly |days| < 11 million.
Date Date::FromDays(int32_t days) {
  const chr::year_month_day ymd{chr::sys_days{chr::days{days}}};
  Date d;
  d.year = static_cast<int16_t>(static_cast<int>(ymd.year()));
  d.month = static_cast<uint8_t>(static_cast<unsigned>(ymd.month()));
  d.day = static_cast<uint8_t>(static_cast<unsigned>(ymd.day()));
  return d;
}

// Years 1..9999 only: year 0 is Date's "no date" marker, and nothing we hold is older.
bool IsValidDate(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return false;
  return chr::year_month_day{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                             chr::day{static_cast<unsigned>(day)}}
      .ok();
}

Result<Date> ParseDate(std::string_view text) {
  if (!HasDateShape(text)) {
    return Status::InvalidArgument("date " + Echo(text) + " is not in the form YYYY-MM-DD");
  }
  const int year = DigitsValue(text, 0, 4);
  const int month = DigitsValue(text, 5, 2);
  const int day = DigitsValue(text, 8, 2);
  if (year < kMinParseYear || year > kMaxParseYear) {
    return Status::InvalidArgument("date " + Echo(text) + " has a year outside " +
                                   std::to_string(kMinParseYear) + ".." +
                                   std::to_string(kMaxParseYear));
  }
  if (!IsValidDate(year, month, day)) {
    return Status::InvalidArgument("date " + Echo(text) + " does not exist");
  }
  Date d;
  d.year = static_cast<int16_t>(year);
  d.month = static_cast<uint8_t>(month);
  d.day = static_cast<uint8_t>(day);
  return d;
}

// Counts completed birthdays: the years between, less one if the birthday has not come round
// yet in `on`'s year. Comparing (month, day) pairs gives the 29 February rule for free: in a
// common year 28 Feb < 29 Feb (not yet) and 1 Mar > 29 Feb (counted). The result is floored,
// so it is negative exactly when `on` is before `birth` (a date of birth in the future).
// Requires both dates non-empty.
int AgeInYears(const Date& birth, const Date& on) {
  int years = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --years;
  return years;
}

Date TodayUtc() {
  const auto today = chr::floor<chr::days>(chr::system_clock::now());
  return Date::FromDays(static_cast<int32_t>(today.time_since_epoch().count()));
}

}  // namespace cp
