// One forecast cycle of the live system (issue #12): the town's model, hot
// started from the last analysis checkpoint, brought up to the analysis time
// with observed forcing (writing the next analysis checkpoint), then on to
// the issue time and over the lead time with expected forcing; what the water
// means at named points and zones, sampled at every forecast time.
//
// `floodwarn serve` writes a cycle's CycleSpec (cycle.json) and runs it in a
// child process (`floodwarn forecast run cycle.json`), which writes
// result.json and forecast.nc into the cycle's folder: a model that blows up,
// runs out of memory or hangs cannot take the warning service with it, and a
// hydrologist can rerun any cycle from its folder. docs/FORECAST.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/impacts/tracker.hpp"

namespace floodwarn::forecast {

// A series on the model's time axis: seconds since CycleSpec::epoch.
struct Series {
  std::vector<double> t;
  std::vector<double> v;
};

struct CycleSpec {
  std::string cycle_id;  // e.g. "20261207T140500Z"
  std::string scenario;  // the town's scenario file (the TOML `simulate` reads)
  std::string epoch;     // UTC "YYYY-MM-DDThh:mm:ssZ" of model time 0
  // Start: from this checkpoint (its time is the start), or "" = from the
  // scenario's initial state at start_time (a spin-up).
  std::string start_checkpoint;
  double start_time = 0.0;
  double analysis_end = 0.0;        // s: the new analysis state is written here
  std::string analysis_checkpoint;  // its file (written to a temporary name, renamed)
  double issue_time = 0.0;          // s: the forecast's reference time ("now")
  double forecast_end = 0.0;        // s
  double output_interval = 300.0;   // s between forecast times: issue, issue + dt, ..., end
  // Forcing, replacing the scenario's own: [[boundary]] name -> level (m) or
  // discharge (m3/s); [[inflow]] name -> discharge (m3/s); rain as a uniform
  // rate (mm/h) or as frames (a raster of mm/h on the DEM's grid at time t,
  // linear in time between frames).
  std::map<std::string, Series> boundaries;
  std::map<std::string, Series> inflows;
  std::optional<Series> rain_mm_per_h;
  struct RainFrame {
    double t = 0.0;
    std::string file;
  };
  std::vector<RainFrame> rain_frames;
  // What the forecast is about.
  std::vector<impacts::Place> points;
  std::string zones_file;  // GeoJSON/GeoPackage polygons ("" = no zones)
  std::string zones_id_field = "id";
  std::vector<double> zone_depths;  // m: flooded area above each, first exceedance
  // Gauges inside the model with observed water levels (m above the bed's
  // datum) over the analysis: the cycle's skill.
  struct Gauge {
    std::string id;
    double x = 0.0, y = 0.0;
    Series observed_level;
  };
  std::vector<Gauge> gauges;
  std::string out_dir;
  bool check_conservation = false;
};

// cycle.json. Reading throws std::runtime_error naming the file and the field.
CycleSpec ReadCycleSpec(const std::string& path);
void WriteCycleSpec(const std::string& path, const CycleSpec& spec);

struct CycleResult {
  std::string cycle_id;
  std::string status = "failed";  // "ok", or "failed" with `error`
  std::string error;
  std::string epoch;
  double issue_time = 0.0, analysis_end = 0.0;  // s since epoch
  double model_time = 0.0;                      // how far the model got (s since epoch)
  double lead_time_reached = 0.0;               // s after the issue time
  bool analysis_written = false;
  long steps = 0;
  double wall_s = 0.0, analysis_wall_s = 0.0, forecast_wall_s = 0.0;
  double mass_relative_error = 0.0;
  // At every forecast time (s since epoch): depth and level at the points,
  // the maximum depth of each zone.
  std::vector<impacts::ImpactTracker::Series> points, zones;
  std::vector<impacts::ImpactTracker::ZoneRow> zone_table;
  struct Skill {
    std::string gauge;
    int samples = 0;
    double bias = 0.0;  // m, model - observed
    double rmse = 0.0;  // m
  };
  std::vector<Skill> skill;
  std::vector<std::string> files;
};

// result.json.
void WriteCycleResult(const std::string& path, const CycleResult& result);
CycleResult ReadCycleResult(const std::string& path);

// Runs the cycle and writes result.json (also when it fails) and, for a
// forecast that got through, forecast.nc into spec.out_dir. A config or
// checkpoint that cannot be used, a blow-up or a conservation violation is a
// failed result (status "failed", error), never an exception; I/O errors
// writing result.json throw.
CycleResult RunCycle(const CycleSpec& spec);

}  // namespace floodwarn::forecast
