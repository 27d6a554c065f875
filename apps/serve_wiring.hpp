// `floodwarn serve` wiring: the channel dispatchers ([[channels]]) and the
// live inputs ([ingest]) around the alert engine. Wiring only: every piece of
// logic lives in the alerting and ingest libraries (docs/alerting/SERVICE.md,
// "Live inputs: [ingest]"; docs/alerting/CHANNELS.md, wiring).
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace floodwarn::alerting {
class AlertEngine;
class AlertStore;
}  // namespace floodwarn::alerting

namespace floodwarn::common {
struct TomlFile;
}  // namespace floodwarn::common

namespace floodwarn::apps {

class ServeWiring {
 public:
  // Reads and checks [[channels]] (escalation channel, area ids) and [ingest]
  // of the service config (parsed once by the caller), starts a dispatcher per channel
  // (woken by the engine's commit listener), then the reading store, the
  // station registry, the ingest pipeline feeding `engine`, the MQTT sources,
  // the pollers and the stale-station timer. Throws std::runtime_error with
  // the reason when something is misconfigured: `serve` must not start then.
  ServeWiring(const common::TomlFile& config, alerting::AlertEngine& engine,
              alerting::AlertStore& store, prometheus::Registry& registry);
  ~ServeWiring();  // Stop()
  ServeWiring(const ServeWiring&) = delete;
  ServeWiring& operator=(const ServeWiring&) = delete;

  // Stops inputs first (timer, pollers, MQTT), then the channels. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::apps
