// ZRXP (Kisters WISKI exchange format) decoder. NOTES-alerting-ingest.md §5.2
// and docs/ingest/FILES.md describe the format and what is accepted.
//
// A file holds 1..n blocks; each block is header lines `#KEYvalue|*|...`
// (or `;*;` separators) followed by data lines laid out per `#LAYOUT(...)`
// (default: timestamp value). Tolerant: unknown keys, empty fields and extra
// columns are accepted; a malformed data line becomes a DecodeError (file,
// line, byte offset) and the rest of the file is still decoded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "floodwarn/ingest/decode.hpp"
#include "floodwarn/ingest/forecast_run.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

struct ZrxpRow {
  TimePoint time{};                   // UTC (the block's TZ applied); forecast layouts: issue time
  std::optional<TimePoint> forecast;  // forecast layouts: the valid time (UTC)
  std::string member;                 // forecast layouts: ensemble member, e.g. "AVG"
  double value = 0.0;                 // NaN when missing (RINVAL)
  bool missing = false;
  std::optional<long> status;  // the `status` column, if any
  std::string remark;          // the `remark` column, unquoted, UTF-8
  std::size_t line = 0;        // 1-based line in the file
};

struct ZrxpBlock {
  std::map<std::string, std::string> header;  // every KEY -> value seen (values in UTF-8)
  std::string station_number;                 // SANR ("" if absent)
  std::string station_name;                   // SNAME, converted to UTF-8
  std::string parameter;                      // CNAME
  std::string unit;                           // CUNIT
  std::optional<double> rinval;               // missing-value code
  int tz_offset_minutes = 0;                  // from TZ (UTC+1 -> 60); UTC when absent
  bool tz_valid = true;                       // false: TZ unknown, rows not decoded
  std::vector<std::string> layout;            // column names (default timestamp, value)
  std::vector<ZrxpRow> rows;
  std::size_t first_line = 0;
};

struct ZrxpFile {
  std::vector<ZrxpBlock> blocks;
  std::vector<DecodeError> errors;
};

// Parses a whole file's bytes (Latin-1 or UTF-8). Never throws on bad input.
ZrxpFile ParseZrxp(std::string_view bytes, const std::string& source);

struct ZrxpReadingOptions {
  // Station id for blocks without SANR ("" = such blocks are an error).
  std::string default_station_id;
  // Used for the quantity and unit of known stations (SANR = station id).
  const StationRegistry* stations = nullptr;
};

// Blocks -> Readings (flag kNotEvaluated, or kMissing for RINVAL values).
// source of each reading: "zrxp:<file name>". Unit: CUNIT, else the station's.
// Quantity: the station's; else guessed from the unit (mm -> rainfall,
// m3/s or l/s -> discharge, otherwise water level).
//
// Forecast rows (layouts with a `forecast` column) are not observations and
// never become readings (issue #12). With `forecasts` given they are
// appended there as forecast values: issued = the row's `timestamp` (the
// run's issue time), valid = its `forecast` column, member = `member`,
// source "zrxp:<file name>", run_id "zrxp:<file name>#<member>@<issue time,
// s since epoch>", unit and quantity as for readings, received left at the
// epoch (the caller sets it). Without it they are skipped.
DecodeResult ZrxpToReadings(const ZrxpFile& file, const std::string& source,
                            const ZrxpReadingOptions& options,
                            std::vector<ForecastValue>* forecasts = nullptr);
DecodeResult DecodeZrxp(std::string_view bytes, const std::string& source,
                        const ZrxpReadingOptions& options,
                        std::vector<ForecastValue>* forecasts = nullptr);

// Latin-1 to UTF-8, unless `text` already is valid UTF-8 (then unchanged).
std::string Latin1ToUtf8IfNeeded(std::string_view text);

// "UTC+1", "UTC0", "UTC", "UTC-05:30", "MEZ"/"CET" (= UTC+1), "MESZ"/"CEST"
// (= UTC+2) -> minutes east of UTC; nullopt when unknown.
std::optional<int> ParseZrxpTimeZone(std::string_view tz);

}  // namespace floodwarn::ingest
