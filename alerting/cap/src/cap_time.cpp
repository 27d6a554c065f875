// CAP times: numeric offsets (never 'Z'), whole seconds, EU summer time for
// the profile's offset (the calendar arithmetic is floodwarn::common's), and
// the <references> triples that repeat each referenced <sent> exactly.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "cap_text.hpp"
#include "cap_vocabulary.hpp"
#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/common/time.hpp"

namespace floodwarn::alerting {
namespace {

using cap_internal::kMaxOffsetMinutes;
using cap_internal::Trim;

// Day number (days since 1970-01-01) of the last Sunday of `month` in `year`.
std::int64_t LastSunday(std::int64_t year, unsigned month) {
  const std::int64_t last = common::DaysFromCivil(year, month, common::DaysInMonth(year, month));
  return last - common::WeekdayFromDays(last);
}

bool InEuSummerTime(TimePoint t) {
  const std::int64_t secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  const std::int64_t y = common::ToCivil(t).date.year;
  const std::int64_t start = LastSunday(y, 3) * 86400 + 3600;
  const std::int64_t end = LastSunday(y, 10) * 86400 + 3600;
  return secs >= start && secs < end;
}

}  // namespace

std::string FormatCapTime(TimePoint t, int utc_offset_minutes) {
  common::Iso8601Format f;
  f.fraction = common::Iso8601Format::Fraction::kNone;  // whole seconds, rounded down
  f.zone = common::Iso8601Format::Zone::kOffset;
  f.utc_offset_minutes = std::clamp(utc_offset_minutes, -kMaxOffsetMinutes, kMaxOffsetMinutes);
  return common::FormatIso8601(t, f);
}

std::optional<TimePoint> ParseCapTime(const std::string& text) {
  return common::ParseIso8601(Trim(text), common::Iso8601Options::Cap());
}

int CapUtcOffsetAt(const CapProfile& profile, TimePoint t) {
  return profile.utc_offset_minutes + (profile.eu_summer_time && InEuSummerTime(t) ? 60 : 0);
}

std::string FormatCapTime(const CapProfile& profile, TimePoint t) {
  return FormatCapTime(t, CapUtcOffsetAt(profile, t));
}

std::string FormatCapReferences(const std::vector<MessageRef>& refs, const CapProfile& profile) {
  std::string out;
  for (const MessageRef& r : refs) {
    if (!out.empty()) out += ' ';
    out += r.sender + "," + r.identifier + "," + FormatCapTime(profile, r.sent);
  }
  return out;
}

std::string FormatCapReferences(const std::vector<MessageRef>& refs, int utc_offset_minutes) {
  std::string out;
  for (const MessageRef& r : refs) {
    if (!out.empty()) out += ' ';
    out += r.sender + "," + r.identifier + "," + FormatCapTime(r.sent, utc_offset_minutes);
  }
  return out;
}

}  // namespace floodwarn::alerting
