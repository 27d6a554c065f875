// `floodwarn serve` wiring of the forecast loop ([forecast], issue #12): the
// loop (forecast library) runs the town's model every interval in a child
// process; this sink turns each cycle's result into the alert engine's
// ForecastBatch, and each missing forecast into "unknown" plus an
// operational alert, and keeps the forecast metrics. Wiring only: the logic
// lives in the forecast and alerting libraries (docs/FORECAST.md).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/forecast/loop.hpp"

namespace prometheus {
class Registry;
}
namespace floodwarn::ingest {
class ReadingStore;
class StationRegistry;
}  // namespace floodwarn::ingest

namespace floodwarn::apps {

// The forecast of a cycle as the engine takes it: every sample of every
// forecast point (depth) and zone (its maximum depth) from the issue time on,
// at model time t → valid at epoch + t. Samples before the issue time (none
// today) and non-finite depths are left out.
alerting::ForecastBatch ToForecastBatch(const forecast::CycleResult& result,
                                        forecast::TimePoint epoch);

class ForecastWiring {
 public:
  // Builds the loop from a parsed [forecast] (stations already checked). The
  // engine gets every forecast and every missing one; `clock` is serve's
  // (wall time, or the replay clock).
  ForecastWiring(forecast::ForecastConfig config, const ingest::StationRegistry& stations,
                 const ingest::ReadingStore& store, alerting::AlertEngine& engine,
                 prometheus::Registry& registry, std::function<forecast::TimePoint()> clock);
  ~ForecastWiring();  // Stop()
  ForecastWiring(const ForecastWiring&) = delete;
  ForecastWiring& operator=(const ForecastWiring&) = delete;

  void Start();
  void Stop();
  forecast::CycleStatus latest() const;
  // The latest cycle for GetForecast (nullopt before the first).
  std::optional<alerting::ForecastView> View() const;
  forecast::ForecastLoop& loop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::apps
