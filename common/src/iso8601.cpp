#include "floodwarn/common/iso8601.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>

namespace floodwarn::common {
namespace {

bool At(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }

std::optional<TimePoint> Fail(std::string* error, std::string what) {
  if (error) *error = std::move(what);
  return std::nullopt;
}

const char* ZoneHint(Iso8601Options::Zone zone) {
  switch (zone) {
    case Iso8601Options::Zone::kRequired:
      return "Z or an offset such as +01:00";
    case Iso8601Options::Zone::kUtc:
      return "Z";
    case Iso8601Options::Zone::kOffset:
      return "an offset such as +01:00";
    case Iso8601Options::Zone::kNoneOrZ:
      return "nothing or Z";
  }
  return "";
}

}  // namespace

Iso8601Options Iso8601Options::UtcSeconds() {
  Iso8601Options o;
  o.zone = Zone::kUtc;
  o.leap_second = true;
  return o;
}

Iso8601Options Iso8601Options::Cap() {
  Iso8601Options o;
  o.zone = Zone::kOffset;
  o.offset_without_colon = false;
  o.max_offset_minutes = 14 * 60;
  return o;
}

Iso8601Options Iso8601Options::Feed() {
  Iso8601Options o;
  o.separators = "Tt ";
  o.fraction = true;
  o.leap_second = true;
  o.max_offset_minutes = 23 * 60 + 59;
  return o;
}

Iso8601Options Iso8601Options::File() {
  Iso8601Options o;
  o.separators = "Tt ";
  o.seconds_optional = true;
  o.fraction = true;
  o.offset_hours_only = true;
  o.max_offset_minutes = 14 * 60 + 59;
  return o;
}

Iso8601Options Iso8601Options::UtcOrNaive() {
  Iso8601Options o;
  o.zone = Zone::kNoneOrZ;
  o.separators = "T ";
  o.leap_second = true;
  return o;
}

std::optional<TimePoint> ParseIso8601(std::string_view text, const Iso8601Options& options,
                                      std::string* error) {
  const std::string_view s = text;
  const Iso8601Options& o = options;
  using Zone = Iso8601Options::Zone;
  std::size_t p = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!ParseDigits(s, p, 4, year) || !At(s, p++, '-') || !ParseDigits(s, p, 2, month) ||
      !At(s, p++, '-') || !ParseDigits(s, p, 2, day))
    return Fail(error, "expected an ISO 8601 date YYYY-MM-DD");
  if (p >= s.size() || o.separators.find(s[p]) == std::string_view::npos)
    return Fail(error, fmt::format("expected '{}' and a time after the date", o.separators[0]));
  ++p;
  const char* time_shape = o.seconds_optional ? "hh:mm[:ss]" : "hh:mm:ss";
  if (!ParseDigits(s, p, 2, hour) || !At(s, p++, ':') || !ParseDigits(s, p, 2, minute))
    return Fail(error, fmt::format("expected a time {}", time_shape));
  if (At(s, p, ':')) {
    ++p;
    if (!ParseDigits(s, p, 2, second)) return Fail(error, "expected seconds ss");
    if (o.fraction && (At(s, p, '.') || At(s, p, ','))) {
      ++p;
      const std::size_t start = p;
      int scale = 100;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        millis += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
      }
      if (p == start) return Fail(error, "expected digits after the decimal point");
    }
  } else if (!o.seconds_optional) {
    return Fail(error, fmt::format("expected a time {}", time_shape));
  }

  int offset = 0;
  if (p >= s.size()) {
    if (o.zone == Zone::kRequired)
      return Fail(error, "no UTC offset (expected Z or +hh:mm): a local time is ambiguous");
    if (o.zone != Zone::kNoneOrZ)
      return Fail(error, fmt::format("expected {} after the time", ZoneHint(o.zone)));
  } else if (s[p] == 'Z' || (s[p] == 'z' && o.zone != Zone::kUtc)) {
    if (o.zone == Zone::kOffset)
      return Fail(error, "expected an offset such as +01:00 after the time, not Z");
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    if (o.zone == Zone::kNoneOrZ)
      return Fail(error, "expected a UTC time (nothing or Z after it), not an offset");
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!ParseDigits(s, p, 2, oh)) return Fail(error, "expected an offset +hh:mm");
    const bool colon = At(s, p, ':');
    if (colon) ++p;
    if (!ParseDigits(s, p, 2, om)) {
      if (colon || !o.offset_hours_only || p < s.size())
        return Fail(error, "expected an offset +hh:mm");
      om = 0;
    } else if (!colon && !o.offset_without_colon) {
      return Fail(error, "expected an offset +hh:mm (with the colon)");
    }
    if (o.zone == Zone::kUtc && (oh != 0 || om != 0 || !colon))
      return Fail(error, "expected a UTC time: Z, +00:00 or -00:00");
    if (om > 59 || oh * 60 + om > o.max_offset_minutes)
      return Fail(error, fmt::format("offset out of range (at most {:02}:{:02})",
                                     o.max_offset_minutes / 60, o.max_offset_minutes % 60));
    offset = sign * (oh * 60 + om);
  } else {
    return Fail(error, fmt::format("expected {} after the time", ZoneHint(o.zone)));
  }
  if (p != s.size()) return Fail(error, "unexpected characters after the time");

  if (month < 1 || month > 12) return Fail(error, "month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month)))
    return Fail(error, fmt::format("day out of range ({:04}-{:02} has {} days)", year, month,
                                   DaysInMonth(year, static_cast<unsigned>(month))));
  if (second == 60 && o.leap_second) second = 59;  // keep a leap second inside its minute
  if (hour > 23 || minute > 59 || second > 59) return Fail(error, "time of day out of range");
  const std::int64_t secs =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - static_cast<std::int64_t>(offset) * 60;
  return TimePoint(Duration(secs * 1000 + millis));
}

std::string FormatIso8601(TimePoint t, const Iso8601Format& f) {
  using Zone = Iso8601Format::Zone;
  using Fraction = Iso8601Format::Fraction;
  const int offset = f.zone == Zone::kOffset ? f.utc_offset_minutes : 0;
  const CivilTime c = ToCivil(t + std::chrono::minutes(offset));
  std::string out = fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", c.date.year, c.date.month,
                                c.date.day, f.separator, c.hour, c.minute, c.second);
  if (f.fraction == Fraction::kMillis ||
      (f.fraction == Fraction::kMillisIfNonZero && c.millisecond != 0))
    out += fmt::format(".{:03}", c.millisecond);
  switch (f.zone) {
    case Zone::kZ:
      out += 'Z';
      break;
    case Zone::kOffset: {
      const int a = std::abs(offset);
      out += fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', a / 60, a % 60);
      break;
    }
    case Zone::kNone:
      break;
  }
  return out;
}

bool ParseDigits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (n < 0 || pos + static_cast<std::size_t>(n) > s.size()) return false;
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

}  // namespace floodwarn::common
