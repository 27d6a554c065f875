// End to end through `floodwarn serve`: a real mosquitto broker, MQTT JSON
// readings -> ingest pipeline (QC, reading store) -> rules engine -> gRPC
// Subscribe stream (mutual TLS + token) and a webhook channel (local HTTP
// receiver). Everything is started by the test on free ports with a
// throwaway PKI and stopped by it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../ingest/test_mqtt_broker_fixture.hpp"
#include "floodwarn/alerting/client.hpp"
#include "test_channel_receiver.hpp"
#include "test_client_harness.hpp"
#include "test_stream_collector.hpp"
#include "test_support.hpp"

namespace floodwarn::testing {
namespace {

namespace fa = floodwarn::alerting;
using namespace std::chrono_literals;

constexpr char kStation[] = "e2e_pegel";
constexpr char kStationName[] = "Pegel Endtoend";
constexpr char kRule[] = "e2e_meldestufen";
constexpr char kTopic[] = "e2e/gauges/e2e_pegel";

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

std::string IsoUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Publishes the current value once per second with that second as the
// observation time, like a gauge reporting every second.
class Gauge {
 public:
  explicit Gauge(int broker_port) : pub_(broker_port, "e2e-gauge") {
    thread_ = std::thread([this] {
      std::time_t last = 0;
      while (!stop_.load()) {
        const std::time_t now = std::time(nullptr);
        if (publishing_.load() && now > last) {
          last = now;
          pub_.Publish(kTopic, "{\"station\": \"" + std::string(kStation) + "\", \"time\": \"" +
                                   IsoUtc(now) + "\", \"value\": " + std::to_string(value_.load()) +
                                   ", \"unit\": \"cm\"}");
          ++published_;
        }
        std::this_thread::sleep_for(100ms);
      }
    });
  }
  ~Gauge() {
    stop_ = true;
    thread_.join();
  }
  void Set(double v) { value_ = v; }
  void Pause() { publishing_ = false; }
  void Raw(const std::string& payload) { pub_.Publish(kTopic, payload); }
  int published() const { return published_.load(); }

 private:
  TestPublisher pub_;
  std::atomic<double> value_{250.0};
  std::atomic<bool> publishing_{true};
  std::atomic<bool> stop_{false};
  std::atomic<int> published_{0};
  std::thread thread_;
};

double MetricValue(int port, const std::string& name, const std::string& label) {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + "{", 0) == 0 && line.find(label) != std::string::npos)
      return std::stod(line.substr(line.rfind(' ') + 1));
  return 0;
}

TEST(EndToEnd, MqttReadingsBecomeAlertsOnTheStreamAndTheWebhook) {
  const std::string dir = MakeTempDir("floodwarn_e2e");
  MakePki(dir + "/pki", {"watcher"});
  MosquittoBroker broker;
  TestReceiver receiver;
  const std::string token = "e2e-watch-token-5b1c";

  Write(dir + "/rules.toml", R"([engine]
mode = "actual"
escalation_after = "off"
outage_level = 2

[[areas]]
id = "e2e_area"
name = "Endtoend, Uferstraße"
polygon = [[50.10, 8.20], [50.10, 8.23], [50.12, 8.23], [50.12, 8.20], [50.10, 8.20]]

[[stations]]
id = "e2e_pegel"
name = "Pegel Endtoend"
area = "e2e_area"
quantity = "water_level"
unit = "cm"
expected_interval = "2s"
# the engine's own silence check waits an hour: the outage in this test can
# only come from ingest's health event (2 x 2 s) through the wiring
stale_after = "1h"
lat = 50.11
lon = 8.21

[[rules]]
id = "e2e_meldestufen"
kind = "water_level"
name = "Hochwasser Pegel Endtoend"
station = "e2e_pegel"
min_time_above = "0s"
min_dwell = "2s"
levels = [
  { level = 1, rising = 300, falling = 280, label = "Meldestufe 1" },
  { level = 2, rising = 400, falling = 380, label = "Meldestufe 2" },
]
)");
  Write(dir + "/stations.toml", R"([[station]]
id = "e2e_pegel"
name = "Pegel Endtoend"
kind = "water_level"
unit = "cm"
expected_interval = "2s"
location = { lat = 50.11, lon = 8.21 }
)");
  Write(dir + "/serve.toml",
        "rules_file = \"rules.toml\"\n\n"
        "[service]\nlisten = \"127.0.0.1:0\"\n"
        "metrics_listen = \"127.0.0.1:0\"\n"
        "heartbeat_interval = \"500ms\"\ntick_interval = \"250ms\"\n\n"
        "[tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\n"
        "client_ca = \"pki/ca.pem\"\n\n"
        "[[auth.tokens]]\nprincipal = \"watcher\"\nrole = \"subscriber\"\n"
        "sha256 = \"" +
            Sha256Hex(token) +
            "\"\n\n"
            "[store]\npath = \"alerts.db\"\n\n"
            "[[channels]]\nname = \"e2e-hook\"\ntype = \"webhook\"\n"
            "url = \"" +
            receiver.Url("/hook") +
            "\"\n\n"
            "[ingest]\nstations_file = \"stations.toml\"\n"
            "store = \"readings.db\"\nstale_after_intervals = 2\n"
            "check_interval = \"1s\"\n\n"
            "[[ingest.mqtt]]\nname = \"gauges\"\nport = " +
            std::to_string(broker.port()) +
            "\ntopic = \"e2e/gauges/#\"\nformat = \"json\"\n"
            "client_id = \"floodwarn-e2e\"\n");

  std::unique_ptr<ChildProcess> serve;
  const std::string target = StartServe(serve, dir + "/serve.toml", 30s);
  const auto metrics_line = serve->WaitForLine("metrics on http://", 10s);
  ASSERT_TRUE(metrics_line) << serve->Output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*metrics_line, m, std::regex(R"(:(\d+)/metrics)")));
  const int metrics_port = std::stoi(m[1].str());

  fa::ClientOptions opts;
  opts.target = target;
  opts.ca_file = dir + "/pki/ca.pem";
  opts.cert_file = dir + "/pki/watcher.pem";
  opts.key_file = dir + "/pki/watcher.key";
  opts.token = token;
  StreamCollector stream(opts);
  Gauge gauge(broker.port());
  auto rule_event = [](fa::EventKind kind, const std::string& alert_id = "") {
    return [kind, alert_id](const fa::AlertEvent& e) {
      return e.kind == kind && e.alert.rule_id == kRule && e.alert.station_id == kStation &&
             (alert_id.empty() || e.alert.id == alert_id);
    };
  };

  // 1. Rising past Meldestufe 2: RAISED with CAP naming the station, then level 2.
  gauge.Set(320);
  const auto raised = stream.WaitFor(rule_event(fa::EventKind::kRaised), 20s);
  ASSERT_TRUE(raised) << "no RAISED event; serve output:\n" << serve->Output();
  EXPECT_NE(raised->cap_xml.find(kStationName), std::string::npos) << raised->cap_xml;
  EXPECT_NE(raised->cap_xml.find("<status>Actual</status>"), std::string::npos);
  const std::string alert1 = raised->alert.id;

  // A malformed message is counted and does not stop the next good one.
  gauge.Raw("{\"station\": \"e2e_pegel\", \"time\": \"not a time\", \"value\": 999");
  gauge.Set(450);
  const auto level2 = stream.WaitFor(
      [&](const fa::AlertEvent& e) {
        return e.alert.id == alert1 && e.alert.level == 2 &&
               (e.kind == fa::EventKind::kUpdated || e.kind == fa::EventKind::kRaised);
      },
      15s);
  ASSERT_TRUE(level2) << "no level 2 after the malformed message; serve output:\n"
                      << serve->Output();
  EXPECT_NE(level2->cap_xml.find(kStationName), std::string::npos);
  EXPECT_GE(MetricValue(metrics_port, "floodwarn_ingest_decode_errors_total", "mqtt:gauges"), 1.0);

  // 2. Falling below every falling threshold: RESOLVED after the dwell.
  gauge.Set(200);
  const auto resolved = stream.WaitFor(rule_event(fa::EventKind::kResolved, alert1), 20s);
  ASSERT_TRUE(resolved) << serve->Output();
  EXPECT_NE(resolved->cap_xml.find("AllClear"), std::string::npos) << resolved->cap_xml;

  // 3. Rising again (a new alert), then the gauge goes silent: an outage alert
  // arrives and the water-level alert is not resolved (silence is not all-clear).
  gauge.Set(330);
  const std::size_t before_second = stream.size();
  const auto raised2 = stream.WaitFor(
      [&](const fa::AlertEvent& e) {
        return rule_event(fa::EventKind::kRaised)(e) && e.alert.id != alert1;
      },
      20s, before_second);
  ASSERT_TRUE(raised2) << serve->Output();
  const std::string alert2 = raised2->alert.id;
  gauge.Pause();
  const std::size_t at_pause = stream.size();
  const auto outage = stream.WaitFor(
      [](const fa::AlertEvent& e) {
        return e.kind == fa::EventKind::kRaised && e.alert.kind == fa::RuleKind::kSensorOutage &&
               e.alert.station_id == kStation;
      },
      20s, at_pause);
  ASSERT_TRUE(outage) << serve->Output();
  for (const auto& e : stream.Events())
    EXPECT_FALSE(e.alert.id == alert2 && e.kind == fa::EventKind::kResolved)
        << "a silent gauge resolved its alert";
  auto active = stream.client().ListActive(fa::AlertFilter{});
  ASSERT_TRUE(active.ok()) << active.error.message;
  bool alert2_open = false;
  for (const auto& a : active.value->alerts)
    if (a.id == alert2 && a.state != fa::AlertState::kResolved) alert2_open = true;
  EXPECT_TRUE(alert2_open) << "the water-level alert must stay open while the gauge is silent";

  // 4. The webhook got each of those events exactly once.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  auto count_keys = [&](const std::string& alert_id, const std::string& kind) {
    int keys = 0;
    for (const auto& [key, n] : receiver.ProcessedCount())
      if (key.find(":" + alert_id + ":" + kind + ":") != std::string::npos) {
        ++keys;
        EXPECT_EQ(n, 1) << key << " processed " << n << " times";
      }
    return keys;
  };
  while (std::chrono::steady_clock::now() < deadline &&
         (count_keys(alert1, "raised") < 1 || count_keys(alert1, "resolved") < 1 ||
          count_keys(outage->alert.id, "raised") < 1))
    std::this_thread::sleep_for(200ms);
  EXPECT_EQ(count_keys(alert1, "raised"), 1);
  EXPECT_EQ(count_keys(alert1, "resolved"), 1);
  EXPECT_EQ(count_keys(outage->alert.id, "raised"), 1);

  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(15s), 0) << serve->Output();
}

// A restart of serve loses nothing: readings published while it is down are
// queued by the broker for its persistent MQTT session and delivered after
// the restart, and the engine continues the open alert (no second RAISED).
TEST(EndToEnd, ReadingsPublishedWhileServeIsDownArriveAfterTheRestart) {
  const std::string dir = MakeTempDir("floodwarn_e2e_restart");
  MosquittoBroker broker;
  Write(dir + "/rules.toml", R"([engine]
escalation_after = "off"

[[areas]]
id = "e2e_area"
name = "Endtoend"
polygon = [[50.10, 8.20], [50.10, 8.23], [50.12, 8.23], [50.10, 8.20]]

[[stations]]
id = "e2e_pegel"
name = "Pegel Endtoend"
area = "e2e_area"
quantity = "water_level"
unit = "cm"
expected_interval = "2s"
stale_after = "1h"
lat = 50.11
lon = 8.21

[[rules]]
id = "e2e_meldestufen"
kind = "water_level"
name = "Hochwasser Pegel Endtoend"
station = "e2e_pegel"
levels = [
  { level = 1, rising = 300, falling = 280, label = "Meldestufe 1" },
  { level = 2, rising = 400, falling = 380, label = "Meldestufe 2" },
]
)");
  Write(dir + "/stations.toml",
        "[[station]]\nid = \"e2e_pegel\"\nkind = \"water_level\"\nunit = \"cm\"\n"
        "expected_interval = \"2s\"\nlocation = { lat = 50.11, lon = 8.21 }\n");
  const std::string token = "e2e-restart-token";
  Write(dir + "/serve.toml",
        "rules_file = \"rules.toml\"\n\n[service]\nlisten = \"127.0.0.1:0\"\n"
        "metrics_listen = \"\"\ninsecure = true\ntick_interval = \"250ms\"\n"
        "heartbeat_interval = \"500ms\"\n\n"
        "[[auth.tokens]]\nprincipal = \"w\"\nrole = \"subscriber\"\nsha256 = \"" +
            Sha256Hex(token) +
            "\"\n\n[store]\npath = \"alerts.db\"\n\n"
            "[ingest]\nstations_file = \"stations.toml\"\nstore = \"readings.db\"\n"
            "check_interval = \"1s\"\n\n[[ingest.mqtt]]\nname = \"gauges\"\nport = " +
            std::to_string(broker.port()) +
            "\ntopic = \"e2e/gauges/#\"\nclient_id = \"floodwarn-e2e-restart\"\n");
  auto options = [&](const std::string& target) {
    fa::ClientOptions o;
    o.target = target;
    o.insecure = true;
    o.token = token;
    return o;
  };
  auto is_rule = [](fa::EventKind kind) {
    return [kind](const fa::AlertEvent& e) { return e.kind == kind && e.alert.rule_id == kRule; };
  };

  Gauge gauge(broker.port());
  gauge.Set(320);
  std::string alert_id;
  {
    std::unique_ptr<ChildProcess> serve;
    StreamCollector stream(options(StartServe(serve, dir + "/serve.toml", 30s)));
    const auto raised = stream.WaitFor(is_rule(fa::EventKind::kRaised), 20s);
    ASSERT_TRUE(raised) << serve->Output();
    alert_id = raised->alert.id;
    serve->Signal(SIGTERM);
    ASSERT_EQ(serve->Wait(15s), 0) << serve->Output();
  }
  // The gauge reports twice while serve is down, now above Meldestufe 2.
  gauge.Set(450);
  const int published_at_stop = gauge.published();
  while (gauge.published() < published_at_stop + 2) std::this_thread::sleep_for(100ms);
  // Then it falls silent: level 2 can only come from what the broker queued.
  gauge.Pause();

  std::unique_ptr<ChildProcess> serve;
  StreamCollector stream(options(StartServe(serve, dir + "/serve.toml", 30s)));
  const auto level2 = stream.WaitFor(
      [&](const fa::AlertEvent& e) {
        return e.kind == fa::EventKind::kUpdated && e.alert.id == alert_id && e.alert.level == 2;
      },
      20s);
  ASSERT_TRUE(level2) << serve->Output();
  // The engine's windows and timers were rebuilt from the reading store
  // (the 320 cm readings from before the stop).
  {
    const std::string out = serve->Output();
    const auto at = out.find("alert_engine event=preload");
    ASSERT_NE(at, std::string::npos) << out;
    const auto used = out.find("used=", at);
    ASSERT_NE(used, std::string::npos) << out;
    EXPECT_GT(std::stoi(out.substr(used + 5)), 0) << out.substr(at, 120);
  }
  int raised = 0;
  for (const auto& e : stream.Events()) raised += is_rule(fa::EventKind::kRaised)(e) ? 1 : 0;
  EXPECT_EQ(raised, 1) << "the restart must continue the open alert, not raise a second one";
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(15s), 0) << serve->Output();
}

// A misconfigured live system never half-starts: serve exits with the
// reason (file, line, key) before it listens.
TEST(EndToEnd, ServeRefusesABadIngestOrChannelConfigWithTheReason) {
  const std::string dir = MakeTempDir("floodwarn_e2e_bad");
  Write(dir + "/rules.toml", R"([engine]
escalation_after = "off"

[[areas]]
id = "e2e_area"
name = "Endtoend"
polygon = [[50.10, 8.20], [50.10, 8.23], [50.12, 8.23], [50.10, 8.20]]
)");
  Write(dir + "/stations.toml", "");
  const std::string head =
      "rules_file = \"rules.toml\"\n\n"
      "[service]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n"
      "insecure = true\n\n"
      "[[auth.tokens]]\nprincipal = \"w\"\nrole = \"subscriber\"\nsha256 = \"" +
      Sha256Hex("t") + "\"\n\n[store]\npath = \"alerts.db\"\n\n";
  struct Case {
    std::string toml, expect;
  };
  const std::vector<Case> cases = {
      {"[ingest]\nstations_file = \"stations.toml\"\nstore = \"r.db\"\nstale_afte = 2\n",
       "serve.toml:19: ingest.stale_afte: unknown key"},
      {"[ingest]\nstations_file = \"stations.toml\"\nstore = \"r.db\"\n\n[[ingest.mqtt]]\n"
       "topic = \"a/#\"\nclient_id = \"c\"\nformat = \"csv\"\n",
       "ingest.mqtt[0].format: 'csv': expected json or ttn"},
      {"[ingest]\nstations_file = \"missing.toml\"\nstore = \"r.db\"\n", "missing.toml"},
      {"[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n"
       "areas = [\"e2e_areaa\"]\n",
       "e2e_areaa"},
  };
  for (const auto& c : cases) {
    Write(dir + "/serve.toml", head + c.toml);
    ChildProcess serve({FloodwarnBinary(), "serve", dir + "/serve.toml"});
    EXPECT_NE(serve.Wait(30s), 0) << c.toml;
    EXPECT_NE(serve.Output().find(c.expect), std::string::npos)
        << "expected '" << c.expect << "' in:\n"
        << serve.Output();
    EXPECT_EQ(serve.Output().find("listening on"), std::string::npos) << serve.Output();
  }
}

}  // namespace
}  // namespace floodwarn::testing
