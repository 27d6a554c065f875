// The live forecast loop of `floodwarn serve` (issue #12): every `interval`
// it plans a cycle from the reading store (observed forcing up to now,
// expected forcing over the lead time), runs it in a child process
// (`floodwarn forecast run`), and hands the result, or the reason there is
// none, to a sink (serve: the alert engine). The analysis state is carried
// from cycle to cycle in checkpoints under state_dir, so a restart of serve
// (also after SIGKILL) resumes from the last one. docs/FORECAST.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/forecast/cycle.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::common {
struct TomlFile;
}  // namespace floodwarn::common
namespace floodwarn::ingest {
class ReadingStore;
class StationRegistry;
}  // namespace floodwarn::ingest

namespace floodwarn::forecast {

using TimePoint = ingest::TimePoint;

// serve.toml [forecast], parsed and checked (forecast_config.cpp).
struct ForecastConfig {
  std::string file;                           // the serve config, for messages
  std::string scenario;                       // the town's model (resolved path)
  std::string state_dir;                      // checkpoints, cycles, state.json (resolved path)
  std::chrono::seconds interval{300};         // one cycle per interval, at multiples of it (UTC)
  std::chrono::seconds lead_time{3600};       // forecast horizon
  std::chrono::seconds output_interval{300};  // forecast times
  // The analysis stops this far behind the issue time: readings that arrive
  // up to this late are used by the next cycle's analysis.
  std::chrono::seconds analysis_lag{600};
  std::chrono::seconds warm_up{3600};  // spin-up from the initial state over this much history
  std::chrono::seconds max_gap{1800};  // an older analysis is not continued: spin up again
  std::chrono::seconds timeout{0};  // a cycle not done in this is late and stopped (0 = interval)
  std::chrono::seconds rain_decay{1800};  // nowcast: the last rain decays with this e-folding time
  std::size_t keep_cycles = 48;           // cycle folders and checkpoints kept
  bool check_conservation = false;

  // River gauges -> discharge at an inflow boundary or inflow point (a
  // water-level station through its rating curve).
  struct Inflow {
    std::string station;
    std::string boundary;    // a [[boundary]] of kind inflow, or
    std::string inflow;      // an [[inflow]] point
    bool recession = false;  // false: persistence of the last discharge
    std::chrono::seconds recession_time{7200};
    double base_flow = 0.0;  // m3/s the recession tends to
  };
  std::vector<Inflow> inflows;
  // A downstream gauge -> a level boundary (level above the gauge zero's datum).
  struct Level {
    std::string station;
    std::string boundary;
  };
  std::vector<Level> levels;
  // Rain gauges whose mean rate rains uniformly on the model.
  std::vector<std::string> rain_stations;
  // What the forecast is about.
  std::vector<impacts::Place> points;
  std::string zones_file;
  std::string zones_id_field = "id";
  std::vector<double> zone_depths{0.1, 0.3};
  // Gauges inside the model (location x/y in the model's CRS): the skill.
  std::vector<std::string> skill_stations;
};

// serve.toml's [forecast] table, or nullopt without one. Throws
// common::ConfigError naming the file, the line and the key.
std::optional<ForecastConfig> ParseForecastConfig(const common::TomlFile& file);
// Every station [forecast] names is registered and measures what it drives
// (inflow: discharge or water level; level: water level; rain: rainfall).
// Throws common::ConfigError.
void CheckForecastStations(const ForecastConfig& config, const ingest::StationRegistry& stations);

// What a cycle produced or why it did not: the loop hands this to its sink.
class ForecastSink {
 public:
  virtual ~ForecastSink() = default;
  // A forecast that got through; `epoch` is model time 0.
  virtual void OnForecast(const CycleResult& result, TimePoint epoch) = 0;
  // No forecast for `issue`: late, failed, or forcing missing. `reason` is
  // for the duty officer (and the log, the metrics and the API).
  virtual void OnForecastUnavailable(const std::string& cycle_id, TimePoint issue,
                                     const std::string& reason) = 0;
};

// The latest cycle, for the API and the console.
struct CycleStatus {
  std::string cycle_id;
  TimePoint issue{};
  std::string status = "none";  // "none", "ok", "failed", "late", "no_forcing"
  std::string reason;
  double duration_s = 0.0;
  double lead_time_reached_s = 0.0;
  std::optional<CycleResult> result;  // with status "ok"
  TimePoint epoch{};                  // with status "ok": model time 0 of the result's times
};

class ForecastLoop {
 public:
  using Clock = std::function<TimePoint()>;
  struct Options {
    Clock clock;               // real or replay time
    double clock_speed = 1.0;  // replay: clock seconds per wall second
    std::string executable;    // the floodwarn binary (its `forecast run`)
  };
  ForecastLoop(ForecastConfig config, const ingest::StationRegistry& stations,
               const ingest::ReadingStore& store, ForecastSink& sink, Options options);
  ~ForecastLoop();  // Stop()
  ForecastLoop(const ForecastLoop&) = delete;
  ForecastLoop& operator=(const ForecastLoop&) = delete;

  // Runs a cycle at every multiple of the interval from now on, on a thread.
  void Start();
  void Stop();
  // Runs the cycle for the interval that contains `now` (synchronously).
  CycleStatus RunCycle(TimePoint now);
  CycleStatus latest() const;

  // The plan of the cycle for `now` (for tests): the spec, or why the
  // forcing is missing (empty spec.cycle_id).
  CycleSpec Plan(TimePoint now, std::string* missing_forcing) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "20261207T140500Z"
std::string CycleId(TimePoint issue);

}  // namespace floodwarn::forecast
