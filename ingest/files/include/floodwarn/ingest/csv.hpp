// CSV readings decoder, and ISO 8601 time parsing for the file formats.
//
// Format (docs/ingest/FILES.md): UTF-8, optional BOM, '#' comment lines and
// blank lines ignored, a header line `station_id,time,value` or
// `station_id,time,value,unit`, then one reading per line:
//   kyll-kordel,2024-01-05T13:15:00+01:00,212.4,cm
// time: ISO 8601 with a UTC offset (Z or +hh:mm); a time without offset is an
// error (a local time is ambiguous twice a year). An empty value is a missing
// reading (flag kMissing). A malformed line is a DecodeError naming the line
// and byte offset; the other lines are still decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "floodwarn/ingest/decode.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

struct CsvOptions {
  // When set, station ids must be in it; the value is converted to the
  // station's unit (m <-> cm, l/s <-> m3/s) and its kind is the quantity.
  const StationRegistry* stations = nullptr;
};

// source of each reading: "csv:<file name>".
DecodeResult DecodeCsv(std::string_view bytes, const std::string& source,
                       const CsvOptions& options);

// "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|+HHMM|+HH)" (also with ' ' for 'T'):
// floodwarn::common::ParseIso8601 with Iso8601Options::File(), the variant
// of reading files and command lines. nullopt (and `error` set, if given)
// when malformed or without an offset.
std::optional<TimePoint> ParseIsoTime(std::string_view text, std::string* error = nullptr);
// "YYYY-MM-DDTHH:MM:SSZ" ("...SS.mmmZ" when the milliseconds are not 0):
// floodwarn::common::FormatIso8601.
std::string FormatIsoTime(TimePoint t);

}  // namespace floodwarn::ingest
