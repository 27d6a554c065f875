// ISO 8601 / RFC 3339 date-times: one parser and one formatter for every
// place that reads or writes time text (scenario time.start, CSV readings,
// live feeds, CAP 1.2, NetCDF time units, logs and consoles).
//
// The shape is always "YYYY-MM-DD" + separator + "hh:mm[:ss[.fff]]" + zone.
// What a caller accepts beyond the shape differs on purpose (a scenario start
// must be UTC, CAP wants "+hh:mm" and never "Z", a CSV file may leave out the
// seconds), so the parser takes Iso8601Options; the presets below are the
// variants in use, each documented where it is used.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "floodwarn/common/time.hpp"

namespace floodwarn::common {

struct Iso8601Options {
  enum class Zone : unsigned char {
    kRequired,  // 'Z', 'z' or an offset; a time without is refused (a local time is ambiguous)
    kUtc,       // 'Z', "+00:00" or "-00:00" only
    kOffset,    // an offset only, never 'Z' (CAP 1.2)
    kNoneOrZ,   // nothing, 'Z' or 'z': the time is UTC; offsets are refused
  };
  Zone zone = Zone::kRequired;
  // The characters accepted between the date and the time.
  std::string_view separators = "T";
  // "hh:mm" without seconds.
  bool seconds_optional = false;
  // ".f" or ",f" after the seconds, any number of digits (cut to milliseconds).
  bool fraction = false;
  // ":60" (a leap second) accepted and read as ":59".
  bool leap_second = false;
  // Offsets "+hhmm" as well as "+hh:mm".
  bool offset_without_colon = true;
  // Offsets "+hh" (whole hours).
  bool offset_hours_only = false;
  // The largest offset accepted, in minutes (+-14:00 is the widest in use).
  int max_offset_minutes = 14 * 60;

  // "YYYY-MM-DDThh:mm:ssZ" (or "+00:00" / "-00:00"): a UTC time, nothing
  // else (scenario time.start).
  static Iso8601Options UtcSeconds();
  // "YYYY-MM-DDThh:mm:ss+hh:mm", offset within +-14:00, no 'Z', no
  // fraction, no leap second (CAP 1.2 <sent>, <onset>, <expires>).
  static Iso8601Options Cap();
  // Live feeds (MQTT JSON, TTN, PEGELONLINE, SensorThings):
  // "YYYY-MM-DD[Tt ]hh:mm:ss[.f...](Z|z|+hh:mm|+hhmm)", offset up to +-23:59,
  // a leap second read as :59.
  static Iso8601Options Feed();
  // Reading files and command lines (CSV, --start):
  // "YYYY-MM-DD[Tt ]hh:mm[:ss[.f...]](Z|z|+hh:mm|+hhmm|+hh)", offset up to
  // +-14:59.
  static Iso8601Options File();
  // "YYYY-MM-DD[T ]hh:mm:ss[Z|z]": UTC without a zone or with 'Z' (the
  // reference time of NetCDF "seconds since" units), a leap second read as :59.
  static Iso8601Options UtcOrNaive();
};

// Exactly `n` decimal digits at s[pos] into `out`, advancing `pos`; false
// (pos unchanged) when there are fewer. The digit reader of every fixed-width
// time format (ISO 8601 here, ZRXP's YYYYMMDDhhmmss in ingest).
bool ParseDigits(std::string_view s, std::size_t& pos, int n, int& out);

// The time point `text` names, or nullopt when it does not match `options`;
// then `error` (if given) says what was expected, e.g. "no UTC offset
// (expected Z or +hh:mm): a local time is ambiguous". Checks the calendar
// (2023-02-29 and 24:00 are errors).
std::optional<TimePoint> ParseIso8601(std::string_view text, const Iso8601Options& options,
                                      std::string* error = nullptr);

struct Iso8601Format {
  enum class Fraction : unsigned char {
    kNone,             // whole seconds (rounded down)
    kMillisIfNonZero,  // ".mmm" only when the milliseconds are not 0
    kMillis,           // always ".mmm"
  };
  enum class Zone : unsigned char {
    kZ,       // "Z"
    kOffset,  // the local time at utc_offset_minutes, with "+hh:mm" / "-hh:mm"
    kNone,    // nothing (the text is UTC by convention)
  };
  char separator = 'T';
  Fraction fraction = Fraction::kMillisIfNonZero;
  Zone zone = Zone::kZ;
  int utc_offset_minutes = 0;  // for Zone::kOffset
};

// "YYYY-MM-DDThh:mm:ss[.mmm]Z" by default; see Iso8601Format.
std::string FormatIso8601(TimePoint t, const Iso8601Format& format = {});

}  // namespace floodwarn::common
