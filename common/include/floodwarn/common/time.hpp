// The one time type of floodwarn and its calendar: a UTC instant with
// millisecond resolution (what readings, alerts and CAP messages carry), and
// the proleptic Gregorian calendar without leap seconds (H. Hinnant's
// days-from-civil algorithms). No time zone database, no locale, no
// dependence on the process time zone. ISO 8601 text: iso8601.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace floodwarn::common {

using Clock = std::chrono::system_clock;
using Duration = std::chrono::milliseconds;
// Milliseconds since 1970-01-01T00:00:00Z (C++20's sys_time<milliseconds>).
using TimePoint = std::chrono::time_point<Clock, Duration>;

// Now, truncated to milliseconds.
TimePoint Now();

// A date of the proleptic Gregorian calendar.
struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};

// A UTC time point split into calendar fields (never a leap second).
struct CivilTime {
  CivilDate date;
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59
  int millisecond = 0;
};

bool IsLeapYear(std::int64_t year);
// 28..31; `month` must be 1..12.
int DaysInMonth(std::int64_t year, unsigned month);

// Days since 1970-01-01 of a date (negative before it); the date is not checked.
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);
// The date `days` days after 1970-01-01.
CivilDate CivilFromDays(std::int64_t days);
// 0 = Sunday .. 6 = Saturday.
unsigned WeekdayFromDays(std::int64_t days);

// `t` in calendar fields (UTC); before 1970 too (rounding towards the past).
CivilTime ToCivil(TimePoint t);

// A validated local date-time (year 1..9999, real day of month, hour 0..23,
// minute 0..59, second 0..59, millisecond 0..999) to UTC, given the offset of
// the local clock from UTC in minutes (UTC+1 -> 60). nullopt when invalid
// (month 13, 31 April, hour 24...).
std::optional<TimePoint> CivilToTime(std::int64_t year, int month, int day, int hour, int minute,
                                     int second, int millisecond, int utc_offset_minutes);

}  // namespace floodwarn::common
