// Station registry: every gauge ingest knows about, read once from a TOML
// file into validated structs (docs/ingest/FILES.md documents each key).
// Unknown keys are errors naming the file, the line, the station and the key:
// a typo in a warning system must not pass silently.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/common/config_error.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

// Thrown for an invalid station registry; the message reads
// "FILE:LINE: station 'ID': KEY: what was expected".
class StationConfigError : public common::ConfigError {
 public:
  using common::ConfigError::ConfigError;
};

// Where the gauge is, kept as given: WGS84 lat/lon, or projected x/y with the
// EPSG code of their CRS.
struct Location {
  std::optional<double> lat;  // degrees north (WGS84), with lon
  std::optional<double> lon;  // degrees east
  std::optional<double> x;    // with y and epsg
  std::optional<double> y;
  int epsg = 4326;
};

// Height of the gauge's zero above a vertical datum. It changes (gauge moved,
// datum renewed), so each value carries the time from which it applies.
struct GaugeZero {
  double value = 0.0;
  std::string unit;  // e.g. "m NHN"
  TimePoint valid_from{};
};

// How many reporting intervals a station may go without a usable reading
// before it is stale: the one default of every check of a station's health
// (the ingest pipeline's, `floodwarn stations`, the alert engine's own, and
// a rules file's inline station without stale_after). 2: the ingest check
// has always used it, and it is the limit that raises outage alerts in a
// live `floodwarn serve` (the engine's own check used to wait 3 intervals
// but only ever fired after ingest's). A station's [station.qc]
// stale_factor overrides it.
inline constexpr double kDefaultStaleFactor = 2.0;

// The time a station reporting every `expected_interval` may go without a
// usable reading before it is stale: stale_factor x expected_interval, to the
// nearest millisecond.
inline std::chrono::milliseconds StaleLimit(std::chrono::milliseconds expected_interval,
                                            double stale_factor) {
  return std::chrono::milliseconds(
      std::llround(static_cast<double>(expected_interval.count()) * stale_factor));
}

// QC parameters (docs/ingest/FILES.md, "Quality control"). An absent test is
// not run. Units are the station's unit; rates are per hour.
struct QcParams {
  std::optional<double> gross_min, gross_max;      // sensor limits: outside = fail
  std::optional<double> climate_min, climate_max;  // plausible range: outside = suspect
  // Per calendar month (UTC, January first), replacing climate_min/max when set.
  std::optional<std::array<double, 12>> climate_monthly_min, climate_monthly_max;
  std::optional<double> spike_suspect, spike_fail;  // |x_i - (x_{i-1}+x_{i+1})/2| above
  std::optional<double> max_rate_per_hour;          // |dx/dt| above = suspect
  int flat_suspect_count = 0;  // this many consecutive values within epsilon = suspect (0 = off)
  int flat_fail_count = 0;     // ... = fail (0 = off)
  double flat_epsilon = 0.0;
  // stale after stale_factor * expected_interval without a usable reading
  double stale_factor = kDefaultStaleFactor;
};

// One segment of a rating: Q = a (h - h0)^b for h in [h_min, h_max).
struct RatingSegment {
  double h_min = 0.0;
  double h_max = 0.0;
  double a = 0.0;
  double b = 0.0;
  double h0 = 0.0;
};

// A rating curve (stage -> discharge in m3/s), valid in [valid_from, valid_to).
// Stage in the station's unit. Segments are ascending and contiguous.
struct RatingCurve {
  TimePoint valid_from{};
  std::optional<TimePoint> valid_to;
  std::optional<double> max_gauged_stage;  // highest measured stage: above it is extrapolation
  std::vector<RatingSegment> segments;
};

struct Station {
  std::string id;
  std::string name;
  Quantity kind = Quantity::kWaterLevel;
  Location location;
  std::string unit;  // unit of the readings: "cm", "m", "m3/s", "mm"
  std::chrono::seconds expected_interval{900};
  std::vector<GaugeZero> gauge_zeros;  // ascending by valid_from
  QcParams qc;
  std::vector<RatingCurve> ratings;  // ascending by valid_from, non-overlapping
  std::string source_file;           // registry file it came from
  int source_line = 0;

  // No usable reading for longer than this = stale (StaleLimit of the
  // station's interval and stale factor).
  std::chrono::milliseconds StaleAfter() const {
    return StaleLimit(expected_interval, qc.stale_factor);
  }
  // The gauge zero in force at `t` (the latest valid_from <= t), or nullptr.
  const GaugeZero* GaugeZeroAt(TimePoint t) const;
  // The rating curve valid at `t`, or nullptr.
  const RatingCurve* RatingAt(TimePoint t) const;
};

class StationRegistry {
 public:
  StationRegistry() = default;
  explicit StationRegistry(std::vector<Station> stations) : stations_(std::move(stations)) {}
  const std::vector<Station>& stations() const { return stations_; }
  const Station* Find(const std::string& id) const;
  std::size_t size() const { return stations_.size(); }

 private:
  std::vector<Station> stations_;
};

// Reads and validates a registry file. Throws StationConfigError.
StationRegistry LoadStations(const std::string& path);
// The same from TOML text; `source_name` is used in error messages.
StationRegistry ParseStations(const std::string& toml_text, const std::string& source_name);

// The location in WGS84 (lat, lon) degrees: as given, or transformed from
// x/y + EPSG with GDAL/PROJ. nullopt when the transformation fails (unknown
// EPSG code).
std::optional<std::pair<double, double>> ToWgs84(const Location& location);

// A reporting interval: a duration in the grammar of every config
// (common::ParseDuration, docs/DURATIONS.md: "15min", "15m", "1h", "900s",
// "1d", "1h30m") in whole seconds; nullopt when malformed, <= 0 or not whole
// seconds.
std::optional<std::chrono::seconds> ParseDuration(const std::string& text);

Quantity ParseQuantity(const std::string& text, bool* ok);

}  // namespace floodwarn::ingest
