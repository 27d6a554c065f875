// Forecast values and forecast runs: what a forecast source (a ZRXP forecast
// block) says a station will read. Kept apart from readings everywhere
// (issue #12): a forecast value has an issue time (when the run was made)
// and a valid time (when it is for), it is never a Reading, and the reading
// store keeps it in its own table, which the readings queries (Query,
// Latest, LatestUsable: staleness, QC history, serve's preload) never see.
// Header-only, beside reading.hpp.
#pragma once

#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

// One value of one forecast run, as a decoder returns it and the store keeps it.
struct ForecastValue {
  std::string station_id;
  std::string run_id;  // the run, e.g. "zrxp:file.zrx#AVG@1556496000" (source#member@issue s)
  TimePoint issued{};  // issue time of the run (UTC)
  TimePoint valid{};   // the time the value is forecast for (UTC)
  double value = 0.0;  // NaN when missing
  std::string unit;    // as stored, e.g. "cm", "m3/s", "mm"
  Quantity quantity = Quantity::kWaterLevel;
  std::string source;    // e.g. "zrxp:file.zrx"
  std::string member;    // ensemble member, e.g. "AVG" ("" when the source has none)
  TimePoint received{};  // when ingest received it (UTC)
};

struct ForecastPoint {
  TimePoint valid{};
  double value = 0.0;  // NaN when missing
};

// The values of one station with one run id, ascending by valid time.
struct ForecastRun {
  std::string station_id;
  std::string run_id;
  TimePoint issued{};
  std::string unit;
  Quantity quantity = Quantity::kWaterLevel;
  std::string source;
  std::string member;
  TimePoint received{};
  std::vector<ForecastPoint> values;
};

}  // namespace floodwarn::ingest
