#include "iso_time.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace floodwarn::ingest::detail {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::optional<TimePoint> Fail(std::string* error, std::string_view text, const char* what) {
  if (error) *error = fmt::format("timestamp '{}': {}", text, what);
  return std::nullopt;
}

}  // namespace

std::optional<TimePoint> ParseIso8601(std::string_view s, std::string* error) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second))
    return Fail(error, s, "expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset");
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return Fail(error, s, "month out of range");
  const int max_day = kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > max_day) return Fail(error, s, "day out of range");
  if (hour > 23 || minute > 59 || second > 60) return Fail(error, s, "time of day out of range");
  if (second == 60) second = 59;  // leap second: keep it inside the minute
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return Fail(error, s, "expected digits after the decimal point");
  }
  int offset_min = 0;
  if (pos >= s.size())
    return Fail(error, s, "no UTC offset (expected Z or +HH:MM); a local time is ambiguous");
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh)) return Fail(error, s, "expected offset hours");
    std::size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    if (!Digits(s, mpos, 2, om)) return Fail(error, s, "expected offset minutes");
    if (oh > 23 || om > 59) return Fail(error, s, "offset out of range");
    offset_min = sign * (oh * 60 + om);
    pos = mpos + 2;
  } else {
    return Fail(error, s, "expected Z or an offset after the time");
  }
  if (pos != s.size()) return Fail(error, s, "unexpected characters after the offset");
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second -
                            static_cast<std::int64_t>(offset_min) * 60;
  return TimePoint(std::chrono::milliseconds(secs * 1000 + millis));
}

std::string FormatIso8601(TimePoint t) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t secs = ms / 1000;
  std::int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, sod / 3600,
                                (sod / 60) % 60, sod % 60);
  if (rem != 0) out += fmt::format(".{:03}", rem);
  out += 'Z';
  return out;
}

}  // namespace floodwarn::ingest::detail
