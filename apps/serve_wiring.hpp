// `floodwarn serve` wiring: the channel dispatchers ([[channels]]) and the
// live inputs ([ingest]) around the alert engine. Wiring only: every piece of
// logic lives in the alerting and ingest libraries (docs/alerting/SERVICE.md,
// "Live inputs: [ingest]"; docs/alerting/CHANNELS.md, wiring).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "floodwarn/ingest/ingest_config.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {
class ReadingStore;
}  // namespace floodwarn::ingest

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

// The station registry of [ingest] (stations_file), read before the engine
// so that the rules' stations come from it: the one place a station is
// defined. [ingest] stale_after_intervals, when set, replaces every
// station's stale factor here, so ingest's check and the engine's use the
// same limit. Throws ingest::StationConfigError.
ingest::StationRegistry LoadServeStations(const ingest::IngestConfig& ingest);

class ServeWiring {
 public:
  // Reads and checks [[channels]] (escalation channel, area ids) of the
  // service config (parsed once by the caller), starts a dispatcher per
  // channel (woken by the engine's commit listener), then, with [ingest]
  // (`ingest`, parsed by the caller, and its registry `stations`, which must
  // outlive this), the reading store, the ingest pipeline feeding `engine`,
  // the MQTT sources, the pollers and the stale-station timer. Throws
  // std::runtime_error with the reason when something is misconfigured:
  // `serve` must not start then.
  ServeWiring(const common::TomlFile& config, const std::optional<ingest::IngestConfig>& ingest,
              const ingest::StationRegistry* stations, alerting::AlertEngine& engine,
              alerting::AlertStore& store, prometheus::Registry& registry);
  ~ServeWiring();  // Stop()
  ServeWiring(const ServeWiring&) = delete;
  ServeWiring& operator=(const ServeWiring&) = delete;

  // Stops inputs first (timer, pollers, MQTT), then the channels. Idempotent.
  void Stop();

  // The reading store of [ingest] (nullptr without it): the forecast loop
  // plans its cycles' forcing from it.
  const ingest::ReadingStore* readings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::apps
