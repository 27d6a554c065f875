// Calendar arithmetic shared by the file decoders and the station registry
// (private to floodwarn_ingest_files). Proleptic Gregorian calendar, no leap
// seconds, no dependence on the process time zone or locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest::detail {

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
inline std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// A validated civil date-time to a UTC time point, given the offset of the
// local clock from UTC in minutes (UTC+1 -> 60). nullopt for an invalid date
// (month 13, 31 April, hour 24...).
inline std::optional<TimePoint> CivilToTime(int y, int mo, int d, int h, int mi, int s, int ms,
                                            int offset_minutes) {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h < 0 ||
      h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0 || ms > 999)
    return std::nullopt;
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_minutes * 60LL;
  return TimePoint(std::chrono::milliseconds(secs * 1000 + ms));
}

// Parses exactly `n` decimal digits at s[pos], advancing pos.
inline bool Digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[pos + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  out = v;
  return true;
}

}  // namespace floodwarn::ingest::detail
