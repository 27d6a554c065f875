// Quality control of readings: QARTOD-style tests (IOOS QARTOD, Delft-FEWS
// validation rules; NOTES-alerting-ingest.md §6.1), pure functions over a
// station's recent history. Flags: pass 1, not evaluated 2, suspect 3,
// fail 4, missing 9 (QcFlag). Every non-pass result carries a reason
// "test: detail", e.g. "gross_range: 812 above 800".
//
// Thresholds are strict: a value exactly at a limit passes (gross_max = 800
// and value 800 -> pass; 800.01 -> fail). docs/ingest/FILES.md lists the tests.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

struct QcOutcome {
  QcFlag flag = QcFlag::kNotEvaluated;  // kNotEvaluated: the test is not configured/applicable
  std::string reason;                   // "" on pass / not evaluated
};

// Outside [gross_min, gross_max] (the sensor's limits) -> fail.
QcOutcome GrossRangeTest(double value, const QcParams& p);
// Outside [climate_min, climate_max] (plausible at this gauge) -> suspect.
QcOutcome ClimatologyTest(double value, const QcParams& p);
// The same with the monthly limits (climate_monthly_min/max) of t's calendar
// month (UTC) where they are set.
QcOutcome ClimatologyTest(double value, TimePoint t, const QcParams& p);
// QARTOD spike: |v - (prev + next) / 2| > spike_fail -> fail, > spike_suspect
// -> suspect. Needs the next value, so a reading is spike-tested once its
// successor is known.
QcOutcome SpikeTest(double prev, double value, double next, const QcParams& p);
// |value - prev| / hours between them > max_rate_per_hour -> suspect.
QcOutcome RateOfChangeTest(double prev, TimePoint prev_time, double value, TimePoint time,
                           const QcParams& p);
// Flat line: the value and the readings before it (`previous`, oldest first)
// form a run of n consecutive values within flat_epsilon of `value`;
// n >= flat_fail_count -> fail, n >= flat_suspect_count -> suspect. A rain
// gauge's zeros are exempt (dry weather is flat).
QcOutcome FlatLineTest(const std::vector<double>& previous, double value, const QcParams& p,
                       bool is_rain);
// NaN value or a reading already flagged missing -> missing.
QcOutcome MissingTest(const Reading& r);

// The worse of two flags (missing > fail > suspect > pass > not evaluated).
QcFlag WorseFlag(QcFlag a, QcFlag b);

// Runs every configured test on `batch` (readings of `station`, taken in
// ascending observed time; the vector is sorted so) with `history` (earlier
// readings of the station, ascending) as context, and sets flag and reason.
// Only usable readings (not fail/missing) serve as neighbours. The last
// reading of the batch is spike-tested only when QcSeries is later run on a
// batch that follows it (its flag is not revised here). A reading no test
// could evaluate keeps kNotEvaluated.
void ApplyQc(std::vector<Reading>& batch, const Station& station,
             const std::vector<Reading>& history = {});

// Earlier readings of a station before `before` (ascending), as QC context.
using QcHistoryFn =
    std::function<std::vector<Reading>(const std::string& station_id, TimePoint before)>;

// ApplyQc on a batch of several stations: grouped per station, each group
// with history(station, its earliest time). The batch ends up ordered by
// station id, then observed time. Readings of stations that are not in the
// registry keep their flags (kNotEvaluated / kMissing).
void ApplyQcByStation(std::vector<Reading>& batch, const StationRegistry& stations,
                      const QcHistoryFn& history);

struct StaleStatus {
  bool stale = false;
  std::chrono::milliseconds age{0};  // now - last_observed (0 when never observed)
  std::string reason;                // e.g. "no reading for 47 min (expected every 15 min)"
};

// A station is stale when now - last_observed > factor * expected_interval,
// or it has never reported. A stale gauge is "unknown", never "no flood".
StaleStatus StaleCheck(std::optional<TimePoint> last_observed, TimePoint now,
                       std::chrono::seconds expected_interval, double factor);

}  // namespace floodwarn::ingest
