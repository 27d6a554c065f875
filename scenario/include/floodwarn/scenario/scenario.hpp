// A scenario run ("floodwarn simulate CONFIG.toml"): a TOML file parsed once
// into validated structs (LoadScenario), then run end to end (RunScenario),
// writing ESRI ASCII snapshots, the max-depth map, point series and a JSON
// summary. Every key is documented in docs/CONFIG.md. The library
// floodwarn::scenario; the solver itself (floodwarn::solver) knows nothing of
// files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/solver/solver.hpp"
#include "floodwarn/solver/time_series.hpp"

namespace floodwarn::scenario {

// The solver's types a scenario is made of.
using solver::BoundaryKind;
using solver::BoundarySegment;
using solver::ConservationCheck;
using solver::ConservationReport;
using solver::Domain;
using solver::Edge;
using solver::Infiltration;
using solver::InfiltrationModel;
using solver::MassBalance;
using solver::Options;
using solver::PointInflow;
using solver::TimeSeries;

// A bad scenario: the message names the config file, the key (dotted path such
// as `boundary[1].kind`), the line where known and what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OutputPoint {
  std::string name;
  double x = 0.0;
  double y = 0.0;
  int i = 0;  // solver cell (i eastwards, j northwards)
  int j = 0;
};

// Rain frames produced on demand: frames[k] returns frame k (m/s per solver
// cell [j * nx + i]). Copies share the producer. A producer reading a file
// throws std::runtime_error naming the file and band if it fails at run time
// (the config loader has read and checked every frame once already).
class RainFrames {
 public:
  using Producer = std::function<std::vector<double>(std::size_t k)>;
  RainFrames() = default;
  RainFrames(std::size_t count, Producer producer)
      : count_(count), producer_(std::move(producer)) {}
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::vector<double> operator[](std::size_t k) const { return producer_(k); }

 private:
  std::size_t count_ = 0;
  Producer producer_;
};

struct ScenarioConfig {
  std::string config_path;  // as given
  std::string title;        // optional top-level `title`

  // [domain]
  std::string dem_path;     // resolved path of the DEM
  grids::GeoTransform geo;  // the DEM's grid (row 0 north)
  std::string crs_wkt;      // the DEM's CRS ("" = unknown, e.g. ESRI ASCII)
  double nodata = -9999.0;  // nodata value written into output grids
  Domain domain;            // solver grid, j = 0 at the south, walls where the DEM is nodata
  std::vector<double> initial_depth;  // per solver cell [j * nx + i] (m), 0 outside
  // domain.buildings: 1 on a building footprint, per solver cell [j * nx + i]
  // (empty without a mask). Blocked buildings are also inactive in `domain`;
  // raised ones keep active with the bed raised by building_height.
  std::vector<std::uint8_t> buildings;

  // [time]; output_times is the expanded list (from output_interval or
  // output_times), strictly increasing, each in [0, end], always ending at end.
  double end = 0.0;
  std::vector<double> output_times;

  Options options;  // [time] cfl, max_dt and [solver] keys

  // [infiltration] (model kNone without the table); per-cell parameters are
  // indexed [j * nx + i], uniform ones have size 1.
  Infiltration infiltration;

  // [time] start: the wall-clock time (UTC, "YYYY-MM-DDThh:mm:ssZ") of
  // simulation time 0; empty when not given. Series files with absolute
  // times (ZRXP) need it; results.nc then counts time from it.
  std::string start_time;

  // [rain] in m/s (empty = no rain)
  TimeSeries rain_m_per_s;
  // [rain] zones / grid: rain frames in m/s per solver cell [j * nx + i] at
  // strictly increasing times (s); the rate is linear in time between
  // consecutive frames and held at the first / last frame outside them
  // (unless rain_frames_stepwise).
  // Empty without per-zone or gridded rain (then rain_m_per_s applies).
  // Frames are made on demand (a gridded series is read band by band while
  // the run goes on), so a long radar series is never held in memory at once.
  std::vector<double> rain_frame_times;
  RainFrames rain_frames;
  // true for [rain] grid with kind = "accumulation_mm": frame k is the
  // constant rate over [t_{k-1}, t_k) (t_{-1} = 0), no rain from the last time on.
  bool rain_frames_stepwise = false;
  // [[inflow]]
  std::vector<PointInflow> inflows;
  // [[boundary]] (edges not named stay walls)
  std::vector<BoundarySegment> boundaries;

  // [output]
  std::string output_dir;           // resolved
  std::vector<OutputPoint> points;  // [[output.point]]
  double point_interval = 0.0;      // s
  int grid_digits = 9;              // significant digits in output grids (17 = exact)

  // [checkpoint]: HDF5 model-state checkpoints checkpoint_<t>s.h5 in the
  // output folder at these times (s).
  std::vector<double> checkpoint_times;

  // Not from the TOML: a checkpoint file to continue from (CLI --restart).
  std::string restart_from;
  std::vector<double> point_times;  // expanded: 0, dt, 2dt, ..., end
};

// Series files in formats the scenario does not read itself (the floodwarn
// CLI passes ZRXP from ingest/, which the scenario may not depend on). A
// series key naming "FILE.ext" or "FILE.ext#SELECTOR" (e.g. a ZRXP station
// number) goes to the reader given for "ext" (lower case, without the dot).
struct SeriesFile {
  std::vector<double> epoch_s;     // absolute times, seconds since 1970-01-01 UTC, increasing
  std::vector<double> values;      // in `unit`
  std::string unit;                // as the file gives it ("" = not given)
  std::vector<std::size_t> lines;  // the file line of each value (for messages), may be empty
};
// Throws std::runtime_error with a message naming the file (and line) on any
// problem; a missing value must be an error, never a gap.
using SeriesFileReader =
    std::function<SeriesFile(const std::string& path, const std::string& selector)>;
// Readers by file extension (lower case, without the dot), e.g. "zrx".
using SeriesReaders = std::map<std::string, SeriesFileReader>;

// Parses and validates a scenario. Relative paths in it are relative to the
// config file's folder; series files with an extension in `readers` are read
// by that reader. Throws ConfigError.
ScenarioConfig LoadScenario(const std::string& path, const SeriesReaders& readers = {});

// Progress of a run, reported to the observer.
struct RunProgress {
  double sim_time = 0.0;  // s
  double end_time = 0.0;  // s
  double wall_s = 0.0;    // wall time since the start of time stepping
  long steps = 0;
  bool done = false;  // the last report of a run
};

struct RunObserver {
  // Called about every `progress_interval_s` of wall time, and once at the end.
  std::function<void(const RunProgress&)> on_progress;
  double progress_interval_s = 0.5;
};

struct RunResult {
  bool ok = false;
  // "ok", "blow_up" or "conservation_violation" (summary.json's status).
  std::string status = "ok";
  std::string error;  // the blow-up or conservation message when !ok
  double sim_time = 0.0;
  long steps = 0;
  double wall_s = 0.0;
  double cell_updates_per_s = 0.0;
  double speedup = 0.0;  // simulated time / wall time
  MassBalance mass_balance;
  ConservationReport conservation;  // with [solver] check_conservation
  std::vector<std::string> files;   // files written (paths)
};

// Runs the scenario and writes into config.output_dir (created if needed):
// results.nc (CF-1.8: depth/u/v/wse per output time, max_depth, max_speed,
// arrival_time, point series; only for a run that finished), depth_<t>s.asc,
// u_<t>s.asc, v_<t>s.asc per output time, max_depth.asc, max_speed.asc,
// arrival_time.asc, hazard_rating.asc, hazard_class.asc, points.csv and
// summary.json, each written to a temporary name and renamed.
// A solver blow-up is returned as a failed run (ok = false) with summary.json
// written; I/O errors throw std::runtime_error.
// With cfg.restart_from, the run continues from that checkpoint (which must
// come from the same domain and precision): outputs after its time are
// written, and the final state and maps are bit-identical to those of the
// uninterrupted run. Throws ConfigError for an unusable checkpoint.
RunResult RunScenario(const ScenarioConfig& cfg, const RunObserver& observer = {});

// A fingerprint of the domain (grid, bed, mask, Manning n, infiltration) that checkpoints
// carry, so that a checkpoint from another domain is refused.
std::string DomainFingerprint(const Domain& domain, const Infiltration& infiltration = {});

// The time label used in snapshot file names: "60" for 60 s, "12.5" for 12.5 s.
std::string TimeLabel(double t);

}  // namespace floodwarn::scenario
