// PLACEHOLDER: commands of this module are registered here.
#include "commands.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"
#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/rules.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/common/config_error.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/ingest/ingest_config.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "forecast_wiring.hpp"
#include "serve_wiring.hpp"

namespace floodwarn::apps {

// ---- floodwarn watch / floodwarn ack: clients of the AlertService ----------
// (alerting/client/include/floodwarn/alerting/client.hpp; docs/alerting/CLIENTS.md)
namespace {

namespace fa = floodwarn::alerting;

// Connection options shared by watch and ack. Tokens are read from a file or
// $FLOODWARN_TOKEN, never taken on the command line.
struct ClientFlags {
  std::string server = "127.0.0.1:50051";
  std::string ca, cert, key, token_file;
  bool insecure = false;
};

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--server", f.server, "Address of floodwarn serve (host:port)")
      ->capture_default_str();
  cmd->add_option("--ca", f.ca, "PEM file of the CA that signed the server certificate")
      ->check(CLI::ExistingFile);
  cmd->add_option("--cert", f.cert, "PEM client certificate (mutual TLS)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--key", f.key, "PEM private key of --cert")->check(CLI::ExistingFile);
  cmd->add_option("--token-file", f.token_file,
                  "File whose first line is the bearer token (default: $FLOODWARN_TOKEN)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", f.insecure,
                "Plaintext connection, only for a server configured with service.insecure");
}

fa::ClientOptions ToClientOptions(const ClientFlags& f) {
  if (!f.insecure && f.ca.empty())
    throw std::runtime_error("--ca FILE is required (or --insecure for a plaintext server)");
  fa::ClientOptions o;
  o.target = f.server;
  o.ca_file = f.ca;
  o.cert_file = f.cert;
  o.key_file = f.key;
  o.insecure = f.insecure;
  o.token = fa::LoadToken(f.token_file);
  return o;
}

std::string FormatUtc(fa::TimePoint t) {
  floodwarn::common::Iso8601Format f;
  f.fraction = floodwarn::common::Iso8601Format::Fraction::kMillis;
  return floodwarn::common::FormatIso8601(t, f);
}

std::string Headline(const fa::Alert& a) {
  if (!a.headline_en.empty()) return a.headline_en;
  if (!a.headline_de.empty()) return a.headline_de;
  return a.reason;
}

// "Pegel Talstadt (station talstadt_pegel, area unterstadt)"
std::string SubjectText(const fa::Alert& a) {
  std::string s = a.subject_name.empty() ? a.subject : a.subject_name;
  std::string extra;
  if (!a.station_id.empty()) extra = "station " + a.station_id;
  if (!a.area.id.empty()) extra += (extra.empty() ? "" : ", ") + ("area " + a.area.id);
  if (!extra.empty()) s += " (" + extra + ")";
  return s;
}

std::string ModeTag(fa::Mode m) {
  return m == fa::Mode::kActual ? std::string() : fmt::format("[{}] ", fa::ToString(m));
}

// Forecast alerts: "  expected <onset>", when the forecast expects the
// level's threshold to be reached (what a duty officer plans by).
std::string OnsetText(const fa::Alert& a) {
  if (a.kind != fa::RuleKind::kForecastDepth || a.onset == fa::TimePoint{}) return {};
  return "  expected " + FormatUtc(a.onset);
}

std::string EventLine(const fa::AlertEvent& e) {
  const fa::Alert& a = e.alert;
  std::string line =
      fmt::format("{}  #{:<6} {:<15} {}level {} {:<8} {}  {}  \"{}\"  id={}", FormatUtc(e.at),
                  e.sequence, fa::ToString(e.kind), ModeTag(a.mode), a.level,
                  fa::LevelName(a.level), SubjectText(a), fa::ToString(a.state), Headline(a), a.id);
  line += OnsetText(a);
  if (a.suppressed) line += "  suppressed";
  if (a.silenced) line += "  silenced";
  if (e.actor != "system" && !e.actor.empty()) line += "  by=" + e.actor;
  if (!e.note.empty()) line += "  note=\"" + e.note + "\"";
  return line;
}

std::string AlertLine(const fa::Alert& a) {
  return fmt::format("  {}level {} {:<8} {}  {}  \"{}\"  id={}{}", ModeTag(a.mode), a.level,
                     fa::LevelName(a.level), SubjectText(a), fa::ToString(a.state), Headline(a),
                     a.id, OnsetText(a));
}

void Print(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Lists the active alerts; returns the sequence the listing is consistent with.
std::optional<std::uint64_t> ListAndPrint(fa::AlertClient& client, const fa::AlertFilter& filter) {
  auto list = client.ListActive(filter);
  if (!list.ok()) {
    std::fprintf(stderr, "watch: listing active alerts failed: %s\n", list.error.message.c_str());
    return std::nullopt;
  }
  Print(fmt::format("active alerts at #{}: {}", list.value->sequence, list.value->alerts.size()));
  for (const auto& a : list.value->alerts) Print(AlertLine(a));
  return list.value->sequence;
}

struct WatchFlags {
  ClientFlags client;
  std::optional<std::uint64_t> from;
  std::vector<std::string> areas, stations;
  int min_level = 0;
  bool verbose = false;
  double idle_timeout_s = 60.0;
};

int RunWatch(const WatchFlags& w) {
  // SIGINT/SIGTERM end the watch cleanly: a thread waits for them (no work in
  // a signal handler); SIGUSR1 releases that thread when the watch ends itself.
  // Blocked before any gRPC thread exists, so that every thread inherits it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  fa::ClientOptions opts = ToClientOptions(w.client);
  opts.stream_omit_cap_xml = true;  // the lines show the fields, never the CAP XML
  fa::AlertFilter filter;
  filter.area_ids = w.areas;
  filter.station_ids = w.stations;
  filter.min_level = w.min_level;

  // Without --from: show the current state, then follow the changes after it.
  std::uint64_t from = 0;
  if (w.from) {
    from = *w.from;
  } else {
    std::optional<std::uint64_t> seq;
    for (int attempt = 0; !seq; ++attempt) {
      fa::AlertClient client(opts);
      seq = ListAndPrint(client, filter);
      if (!seq) {
        if (attempt >= 4) return 1;
        std::this_thread::sleep_for(std::chrono::seconds(1 << attempt));
      }
    }
    from = *seq;
  }

  fa::ResumeOptions resume;
  resume.idle_timeout = std::chrono::milliseconds(static_cast<long>(w.idle_timeout_s * 1000));
  fa::ResumingSubscriber sub(opts, resume);

  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    sub.Stop();
  });

  std::uint64_t skip_through = 0;  // after a reset: events already in the listing
  Print(fmt::format("watching {} after #{} (Ctrl-C to stop)", opts.target, from));
  fa::Error result = sub.Run(
      from, filter,
      [&](const fa::StreamMessage& m) {
        switch (m.type) {
          case fa::StreamMessage::Type::kEvent:
            if (m.sequence > skip_through) Print(EventLine(m.event));
            break;
          case fa::StreamMessage::Type::kHeartbeat:
            if (w.verbose)
              Print(fmt::format("{}  heartbeat at #{} (server newest #{})",
                                FormatUtc(m.server_time), m.sequence, m.last_committed_sequence));
            break;
          case fa::StreamMessage::Type::kReset: {
            Print(fmt::format(
                "*** RESET ({}): {} -- oldest retained #{}, continuing after #{}; the events in "
                "between are gone, re-listing the active alerts:",
                m.reset_reason, m.reset_message, m.oldest_retained_sequence, m.sequence));
            fa::AlertClient client(opts);
            if (auto seq = ListAndPrint(client, filter)) skip_through = *seq;
            break;
          }
        }
      },
      [&](const fa::Error& e, int attempt, fa::Duration backoff) {
        std::fprintf(stderr,
                     "watch: connection lost (%s); reconnect attempt %d in %.1f s, resuming "
                     "after #%llu\n",
                     e.message.c_str(), attempt, backoff.count() / 1000.0,
                     static_cast<unsigned long long>(sub.last_sequence()));
      });
  kill(getpid(), SIGUSR1);
  signals.join();
  if (!result.ok()) {
    std::fprintf(stderr, "watch: %s\n", result.message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddWatchCommand(CLI::App& app, Commands& out) {
  auto w = std::make_shared<WatchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "watch",
      "Console subscriber: prints alert events as they are committed, resumes after a "
      "disconnect");
  AddClientFlags(cmd, w->client);
  cmd->add_option("--from", w->from,
                  "Replay the events after this sequence (0 = all retained); default: list the "
                  "active alerts, then follow");
  cmd->add_option("--area", w->areas, "Only alerts of this area id (repeatable)");
  cmd->add_option("--station", w->stations, "Only alerts of this station id (repeatable)");
  cmd->add_option("--min-level", w->min_level, "Only alerts of at least this level (1..4)")
      ->check(CLI::Range(0, 4));
  cmd->add_option("--idle-timeout", w->idle_timeout_s,
                  "Seconds without any message (heartbeats included) after which the "
                  "connection is presumed dead and re-established")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--verbose,-v", w->verbose, "Also print heartbeats");
  out.push_back({cmd, [w] { return RunWatch(*w); }});
}

void AddAckCommand(CLI::App& app, Commands& out) {
  struct AckFlags {
    ClientFlags client;
    std::string id, note;
  };
  auto a = std::make_shared<AckFlags>();
  CLI::App* cmd = app.add_subcommand("ack", "Acknowledge an alert (operator role)");
  cmd->add_option("ID", a->id, "Alert id")->required();
  cmd->add_option("--note", a->note, "Note recorded with the acknowledgement");
  AddClientFlags(cmd, a->client);
  out.push_back({cmd, [a] {
                   fa::AlertClient client(ToClientOptions(a->client));
                   auto r = client.Acknowledge(a->id, a->note);
                   if (!r.ok()) {
                     std::fprintf(stderr, "ack %s failed: %s\n", a->id.c_str(),
                                  r.error.message.c_str());
                     return 1;
                   }
                   const fa::Alert& al = *r.value;
                   Print(fmt::format("acknowledged {}: {}level {} {}  {}  \"{}\"  state={}", al.id,
                                     ModeTag(al.mode), al.level, fa::LevelName(al.level),
                                     SubjectText(al), Headline(al), fa::ToString(al.state)));
                   if (al.ack)
                     Print(fmt::format(
                         "  by {} at {}{}", al.ack->by, FormatUtc(al.ack->at),
                         al.ack->note.empty() ? std::string() : "  note=\"" + al.ack->note + "\""));
                   return 0;
                 }});
}

// ---- floodwarn serve: the live alerting service -----------------------------
// (alerting/service/include/floodwarn/alerting/service.hpp; docs/alerting/SERVICE.md)
namespace {

namespace fa_serve = floodwarn::alerting;

fa_serve::TimePoint WallNow() {
  return std::chrono::time_point_cast<fa_serve::Duration>(fa_serve::Clock::now());
}

int RunServe(const std::string& config_path) {
  // SIGINT/SIGTERM are taken by sigtimedwait below: block them before any
  // thread (gRPC, metrics) exists so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The config is parsed once; each section's reader gets the parsed file:
  // [service] and the rest here, [[channels]] and [ingest] in ServeWiring.
  const floodwarn::common::TomlFile config =
      floodwarn::common::ReadTomlFile(config_path, "service config");
  const fa_serve::ServiceConfig cfg = fa_serve::ParseServiceConfig(config);
  // [ingest] and its station registry before the rules: a bad input config
  // refuses start-up before any thread runs, and the rules' stations come
  // from the one registry ingest uses (docs/alerting/RULES.md, "Stations").
  // Without [ingest] the rules file names its registry itself (or defines
  // its stations).
  const std::optional<floodwarn::ingest::IngestConfig> ingest =
      floodwarn::ingest::ParseIngestConfig(config);
  std::optional<floodwarn::ingest::StationRegistry> stations;
  if (ingest) stations = LoadServeStations(*ingest);
  fa_serve::RulesConfig rules =
      stations ? fa_serve::LoadRulesConfig(cfg.rules_file, *stations, ingest->stations_file)
               : fa_serve::LoadRulesConfig(cfg.rules_file);
  // [forecast]: the town's model on the live readings (docs/FORECAST.md).
  // Checked before anything starts: its stations must be in [ingest]'s
  // registry and measure what they drive.
  std::optional<floodwarn::forecast::ForecastConfig> forecast =
      floodwarn::forecast::ParseForecastConfig(config);
  if (forecast) {
    if (!stations)
      throw floodwarn::common::ConfigError(
          fmt::format("{}: [forecast] needs [ingest]: the model is driven by the stored readings "
                      "of its stations",
                      config.path));
    floodwarn::forecast::CheckForecastStations(*forecast, *stations);
  }
  fa_serve::AlertStore store(cfg.store_path, cfg.store);
  fa_serve::AlertEngine engine(std::move(rules), store, cfg.cap, WallNow);
  auto registry = fa_serve::MakeMetricsRegistry();
  std::unique_ptr<fa_serve::MetricsEndpoint> metrics;
  if (!cfg.metrics_listen.empty())
    metrics = std::make_unique<fa_serve::MetricsEndpoint>(cfg.metrics_listen, registry);
  // Channels ([[channels]]) and live inputs ([ingest]), before the server
  // takes traffic; a misconfiguration refuses start-up (serve_wiring.hpp).
  ServeWiring wiring(config, ingest, stations ? &*stations : nullptr, engine, store, *registry);
  fa_serve::AlertServer server(cfg, engine, store, *registry);
  // The forecast loop last: it needs the reading store and the engine. A
  // loop that dies or stalls says so: no forecast for two intervals plus the
  // cycle's time limit is a forecast outage (engine.hpp ExpectForecasts).
  std::unique_ptr<ForecastWiring> forecasts;
  if (forecast) {
    const auto limit = forecast->timeout.count() > 0 ? forecast->timeout : forecast->interval;
    const std::string summary =
        fmt::format("forecast every {} s, lead time {} s, model {}", forecast->interval.count(),
                    forecast->lead_time.count(), forecast->scenario);
    engine.ExpectForecasts(2 * forecast->interval + limit);
    forecasts = std::make_unique<ForecastWiring>(std::move(*forecast), *stations,
                                                 *wiring.readings(), engine, *registry, WallNow);
    forecasts->Start();
    server.SetForecastSource([w = forecasts.get()] { return w->View(); });
    Print(summary);
  }

  // The first stdout line is the contract for scripts and tests.
  Print(fmt::format("listening on {}", server.address()));
  if (metrics) {
    const std::string& m = cfg.metrics_listen;
    Print(fmt::format("metrics on http://{}{}/metrics", m.substr(0, m.rfind(':') + 1),
                      metrics->port()));
  }
  Print(fmt::format("store {} (last sequence {}), rules {}", store.path(), store.LastSequence(),
                    cfg.rules_file));

  // Main loop: engine timers every tick_interval, outbox compaction every
  // 10 minutes, until SIGINT/SIGTERM.
  const auto tick = cfg.tick_interval;
  auto next_compact = std::chrono::steady_clock::now();
  int sig = 0;
  while (true) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(tick.count() / 1000);
    ts.tv_nsec = static_cast<long>((tick.count() % 1000) * 1000000);
    sig = sigtimedwait(&stop_signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) break;
    try {
      engine.Tick();
      if (std::chrono::steady_clock::now() >= next_compact) {
        next_compact = std::chrono::steady_clock::now() + std::chrono::minutes(10);
        const std::size_t n = store.Compact(WallNow());
        if (n > 0) std::fprintf(stderr, "outbox compacted: %zu events past retention\n", n);
      }
    } catch (const std::exception& e) {
      // A failed tick (e.g. disk full) is retried next tick; streams stay up.
      std::fprintf(stderr, "serve: engine tick failed: %s\n", e.what());
    }
  }
  Print(fmt::format("stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  server.SetForecastSource(nullptr);  // before the loop it reads goes
  if (forecasts) forecasts->Stop();   // a running cycle is stopped
  wiring.Stop();                      // inputs first, then channels
  server.Shutdown();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, Commands& out) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run the live alerting service: gRPC AlertService (mutual TLS + tokens), rules engine, "
      "outbox, metrics (docs/alerting/SERVICE.md)");
  cmd->add_option("CONFIG", *config, "Service config (TOML), e.g. configs/alerting/serve.toml")
      ->required()
      ->check(CLI::ExistingFile);
  out.push_back({cmd, [config] { return RunServe(*config); }});
}

void AddAlertingCommands(CLI::App& app, Commands& out) {
  AddServeCommand(app, out);
  AddWatchCommand(app, out);
  AddAckCommand(app, out);
}

}  // namespace floodwarn::apps
