// The gRPC AlertService (proto/floodwarn/v1/alerts.proto): a thin adapter
// over AlertEngine (STYLE.md), plus the service config, authentication and
// the Prometheus metrics endpoint. gRPC, protobuf and prometheus-cpp stay
// out of this header (prometheus::Registry is only forward-declared).
// docs/alerting/SERVICE.md describes the protocol, auth setup and metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/alerting/types.hpp"

namespace floodwarn::common {
struct TomlFile;  // floodwarn/common/toml_reader.hpp
}  // namespace floodwarn::common

namespace prometheus {
class Registry;
}

namespace floodwarn::alerting {

// Roles are ordered: each includes what the lower ones may do.
//   subscriber: Subscribe, ListActive, GetAlert, ListSilences
//   operator:   + Acknowledge, Silence, ApproveSilence, Unsilence, IssueManual, ResolveManual
//   admin:      everything
enum class Role : std::uint8_t { kSubscriber = 1, kOperator = 2, kAdmin = 3 };
const char* ToString(Role r);

// A bearer token, stored only as its SHA-256 (hex). The principal is the
// identity recorded as actor (acknowledgements, four-eyes approval, audit).
struct TokenGrant {
  std::string principal;
  Role role = Role::kSubscriber;
  std::string sha256_hex;  // 64 lowercase hex digits of SHA-256(token)
  // If set, the token is accepted only on a TLS connection whose client
  // certificate has this common name.
  std::string client_cn;
};

struct ServiceConfig {
  std::string source_path;  // the file it was loaded from (messages)

  // [service]
  std::string listen = "127.0.0.1:50051";         // host:port, port 0 = any free port
  std::string metrics_listen = "127.0.0.1:9464";  // empty = no metrics endpoint
  Duration heartbeat_interval = std::chrono::seconds(10);
  std::size_t max_message_bytes = 64 * 1024;  // largest accepted request
  std::size_t max_subscribers = 1000;         // more streams get RESOURCE_EXHAUSTED
  std::size_t event_buffer = 4096;            // in-memory ring of recent events
  // Threads that hand a committed event to the streams (each takes a share
  // of them); 0 = one per CPU in the affinity mask, at most 8.
  std::size_t fanout_threads = 0;
  // A subscriber that has not taken a message for this long is disconnected
  // (it resumes from its cursor when it comes back).
  Duration stall_timeout = std::chrono::seconds(120);
  Duration tick_interval = std::chrono::seconds(1);  // engine timers
  // Plaintext gRPC. Only with this explicit flag; tokens are still required.
  bool insecure = false;

  // [tls] (paths resolved relative to the config file)
  std::string tls_cert;       // server certificate chain (PEM)
  std::string tls_key;        // server private key (PEM)
  std::string tls_client_ca;  // CA that signs client certificates (PEM)

  // [[auth.tokens]]
  std::vector<TokenGrant> tokens;

  // [store]
  std::string store_path;  // SQLite database (resolved relative to the config file)
  StoreOptions store;

  // [cap]
  CapProfile cap;

  // rules_file = "..." (resolved relative to the config file)
  std::string rules_file;
};

// Parses and validates a service config (TOML). Throws common::ConfigError (a
// std::runtime_error) naming the file, the key and its line on any problem,
// including unknown keys. The [[channels]] array is left to the channel
// loader, [ingest] to the ingest loader.
ServiceConfig LoadServiceConfig(const std::string& path);
// The same from the parsed file (`floodwarn serve` parses it once and hands
// it to each section's reader).
ServiceConfig ParseServiceConfig(const common::TomlFile& file);

// A registry for the metrics of this process (share it with other components).
std::shared_ptr<prometheus::Registry> MakeMetricsRegistry();

// Hex SHA-256 of a token, as written in [[auth.tokens]] sha256.
std::string TokenSha256Hex(const std::string& token);

// The latest forecast cycle as the API shows it (GetForecast). serve fills
// it from its forecast loop; alerting knows nothing of the model.
struct ForecastView {
  std::string cycle_id;
  std::string status;  // "ok", "failed", "late", "no_forcing"
  std::string reason;
  TimePoint issued{};
  double duration_s = 0.0, lead_time_reached_s = 0.0;
  struct Series {
    std::string id;
    std::vector<TimePoint> times;
    std::vector<double> depth_m;
  };
  std::vector<Series> points, zones;  // zones: the maximum depth in the zone
  struct Zone {
    std::string id;
    double area_m2 = 0.0, max_depth_m = 0.0;
    std::vector<double> depths_m, max_area_above_m2;  // per configured depth
  };
  std::vector<Zone> zone_table;
};
// nullopt: no cycle yet (or no [forecast]).
using ForecastViewSource = std::function<std::optional<ForecastView>()>;

// The running gRPC server: AlertService + health service + reflection.
// Subscribers are fed from committed events (the engine's commit listener)
// and, when they fall behind the in-memory ring, from the store's outbox.
class AlertServer {
 public:
  // Starts listening. Throws std::runtime_error when the address cannot be
  // bound or the TLS files cannot be read. `registry` must outlive the server.
  AlertServer(const ServiceConfig& config, AlertEngine& engine, AlertStore& store,
              prometheus::Registry& registry);
  ~AlertServer();  // Shutdown()
  AlertServer(const AlertServer&) = delete;
  AlertServer& operator=(const AlertServer&) = delete;

  // "127.0.0.1:43125": the bound address with the actual port.
  std::string address() const;
  int port() const;
  std::size_t subscriber_count() const;
  // Where GetForecast gets the latest cycle (serve with [forecast]); without
  // one GetForecast answers NOT_FOUND.
  void SetForecastSource(ForecastViewSource source);

  // Cancels open streams, stops the server and the heartbeat thread.
  // Idempotent.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Prometheus text exposition on http://<address>/metrics.
class MetricsEndpoint {
 public:
  // `address` host:port (port 0 = any free port). Throws on bind failure.
  MetricsEndpoint(const std::string& address, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::alerting
