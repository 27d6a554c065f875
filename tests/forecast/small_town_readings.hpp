// The small town's gauges (small_town.hpp) as readings, for the tests of
// the forecast loop with a reading store (services build only).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::testing {

// The town's gauges as the live inputs store them: every 5 min from `from`
// to `to`, the river gauge "river_q" at 5 m3/s and the rain gauge "rain" at
// 2 mm per 5 min (24 mm/h).
inline std::vector<ingest::Reading> SmallTownReadings(ingest::TimePoint from,
                                                      ingest::TimePoint to) {
  std::vector<ingest::Reading> batch;
  for (ingest::TimePoint t = from; t <= to; t += std::chrono::minutes(5)) {
    for (const char* id : {"river_q", "rain"}) {
      ingest::Reading r;
      r.station_id = id;
      r.observed = t;
      r.received = t;
      r.flag = ingest::QcFlag::kPass;
      const bool river = std::string(id) == "river_q";
      r.quantity = river ? ingest::Quantity::kDischarge : ingest::Quantity::kRainfall;
      r.unit = river ? "m3/s" : "mm";
      r.value = river ? 5.0 : 2.0;
      r.source = "test";
      batch.push_back(r);
    }
  }
  return batch;
}

}  // namespace floodwarn::testing
