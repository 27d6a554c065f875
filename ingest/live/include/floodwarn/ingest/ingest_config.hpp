// The [ingest] table of a `floodwarn serve` config: which live inputs feed
// the alerting engine (MQTT brokers, PEGELONLINE / SensorThings pollers),
// the station registry that drives QC and staleness, and the reading store.
// Parsed once into validated structs; unknown keys are errors naming the
// file, the line and the key (docs/alerting/SERVICE.md, "Live inputs: [ingest]").
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "floodwarn/common/config_error.hpp"
#include "floodwarn/ingest/mqtt_source.hpp"
#include "floodwarn/ingest/pegelonline.hpp"
#include "floodwarn/ingest/sensorthings.hpp"
#include "floodwarn/ingest/ttn.hpp"

namespace floodwarn::common {
struct TomlFile;  // floodwarn/common/toml_reader.hpp
}  // namespace floodwarn::common

namespace floodwarn::ingest {

// Thrown for an invalid [ingest] table: "FILE:LINE: KEY: what was expected"
// (file(), line(), key() of common::ConfigError).
class IngestConfigError : public common::ConfigError {
 public:
  using common::ConfigError::ConfigError;
};

enum class MqttPayloadFormat : std::uint8_t {
  kJson,  // floodwarn's own JSON payload (mqtt_json.hpp)
  kTtn,   // The Things Stack v3 uplinks, decoded per device (ttn.hpp)
};

// One [[ingest.mqtt]] entry.
struct MqttInputConfig {
  std::string name;  // names the source in metrics and logs ("mqtt:NAME")
  MqttSourceConfig source;
  MqttPayloadFormat format = MqttPayloadFormat::kJson;
  TtnConfig ttn;  // format = "ttn": devices by TTN device id
  int line = 0;   // where the entry starts (messages)
};

struct IngestConfig {
  std::string source_path;    // the service config it was read from
  std::string stations_file;  // station registry (TOML), absolute or relative to the CWD
  std::string store_path;     // reading store (SQLite)
  // Replaces every station's qc.stale_factor when set; otherwise each
  // station's own factor (default 2.0) applies.
  std::optional<double> stale_after_intervals;
  std::chrono::seconds check_interval{60};  // how often stale stations are looked for
  std::vector<MqttInputConfig> mqtt;
  std::vector<PegelonlineConfig> pegelonline;
  std::vector<SensorThingsConfig> sensorthings;
};

// Reads the [ingest] table of the service config at `path`; nullopt when the
// file has none (the service then runs without live inputs). Relative paths
// (stations_file, store, password_file) are resolved against the config
// file's directory. Other top-level keys are left to their own loaders.
// Throws IngestConfigError.
std::optional<IngestConfig> LoadIngestConfig(const std::string& path);

// The same from text; `source` names it in errors, `base_dir` resolves
// relative paths.
std::optional<IngestConfig> ParseIngestConfig(std::string_view toml_text, const std::string& source,
                                              const std::string& base_dir);
// The same from the parsed service config (`floodwarn serve` parses it once);
// relative paths against its base_dir.
std::optional<IngestConfig> ParseIngestConfig(const common::TomlFile& file);

}  // namespace floodwarn::ingest
