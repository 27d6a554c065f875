// The [ingest] table of the service config (ingest_config.hpp) and the
// shipped example configs/alerting/serve.toml: every loader of `serve`
// accepts it and its start-up cross-checks pass.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/rules.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/ingest/ingest_config.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "test_support.hpp"

namespace {

namespace fi = floodwarn::ingest;
namespace fa = floodwarn::alerting;

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  try {
    fi::ParseIngestConfig(text, "serve.toml", "/etc/floodwarn");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const fi::IngestConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(where), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

const char kGood[] = R"(rules_file = "rules.toml"
[ingest]
stations_file = "stations.toml"
store = "/var/lib/floodwarn/readings.db"
stale_after_intervals = 3
check_interval = "30s"

[[ingest.mqtt]]
name = "gauges"
host = "broker.example"
topics = ["a/#", "b/+/up"]
client_id = "fw-1"
qos = 1
keepalive = "20s"

[[ingest.mqtt]]
name = "ttn"
port = 8883
topic = "v3/app@ttn/devices/+/up"
format = "ttn"
client_id = "fw-ttn"
devices = [ { device_id = "dev-1", station = "s1", mount_height_mm = 4200 } ]

[[ingest.poll]]
type = "pegelonline"
interval = "5min"
series = [ { station = "eitze", uuid = "u-1" }, { station = "eitze_q", uuid = "u-1", timeseries = "Q" } ]

[[ingest.poll]]
type = "sensorthings"
base_url = "https://frost.example/v1.1"
datastreams = [ { station = "kyll", datastream = 42 }, { station = "k2", datastream = "ab", unit = "m" } ]
)";

TEST(IngestConfig, ParsesEveryKindOfInput) {
  const auto c = fi::ParseIngestConfig(kGood, "serve.toml", "/etc/floodwarn");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stations_file, "/etc/floodwarn/stations.toml");
  EXPECT_EQ(c->store_path, "/var/lib/floodwarn/readings.db");
  ASSERT_TRUE(c->stale_after_intervals);
  EXPECT_EQ(*c->stale_after_intervals, 3.0);
  EXPECT_EQ(c->check_interval, std::chrono::seconds(30));
  ASSERT_EQ(c->mqtt.size(), 2u);
  EXPECT_EQ(c->mqtt[0].source.host, "broker.example");
  EXPECT_EQ(c->mqtt[0].source.port, 1883);
  EXPECT_EQ(c->mqtt[0].source.topics, (std::vector<std::string>{"a/#", "b/+/up"}));
  EXPECT_EQ(c->mqtt[0].source.keepalive_s, 20);
  EXPECT_EQ(c->mqtt[0].format, fi::MqttPayloadFormat::kJson);
  EXPECT_EQ(c->mqtt[1].format, fi::MqttPayloadFormat::kTtn);
  EXPECT_EQ(c->mqtt[1].source.port, 8883);
  ASSERT_EQ(c->mqtt[1].ttn.devices.count("dev-1"), 1u);
  EXPECT_EQ(c->mqtt[1].ttn.devices.at("dev-1").station_id, "s1");
  EXPECT_EQ(c->mqtt[1].ttn.devices.at("dev-1").mount_height_mm, 4200.0);
  ASSERT_EQ(c->pegelonline.size(), 1u);
  EXPECT_EQ(c->pegelonline[0].interval, std::chrono::seconds(300));
  ASSERT_EQ(c->pegelonline[0].series.size(), 2u);
  EXPECT_EQ(c->pegelonline[0].series[1].quantity, fi::Quantity::kDischarge);
  EXPECT_EQ(c->pegelonline[0].series[1].unit, "m3/s");
  ASSERT_EQ(c->sensorthings.size(), 1u);
  EXPECT_EQ(c->sensorthings[0].datastreams[0].datastream_id, "42");
  EXPECT_EQ(c->sensorthings[0].datastreams[1].datastream_id, "ab");
  EXPECT_EQ(c->sensorthings[0].datastreams[1].unit, "m");
}

// The one duration grammar (docs/DURATIONS.md): the rules file's "5m" works
// here too; a number without unit names the spelling meant.
TEST(IngestConfig, DurationsInTheOneGrammar) {
  const std::string head = "[ingest]\nstations_file = \"s.toml\"\nstore = \"r.db\"\n";
  const auto c = fi::ParseIngestConfig(head + "check_interval = \"1m30s\"\n", "serve.toml", "/");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->check_interval, std::chrono::seconds(90));
  ExpectError(head + "check_interval = 30\n", "serve.toml:4: ingest.check_interval",
              "a duration needs its unit, e.g. \"30s\"");
  ExpectError(head + "check_interval = \"500ms\"\n", "serve.toml:4: ingest.check_interval",
              "shorter than the minimum 1s");
  try {
    fi::ParseIngestConfig(head + "stale_after = 2\n", "serve.toml", "/");
    ADD_FAILURE();
  } catch (const fi::IngestConfigError& e) {  // a common::ConfigError: the place as fields
    EXPECT_EQ(e.file(), "serve.toml");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "ingest.stale_after");
  }
}

// `floodwarn serve` parses its config once and hands the parsed file to each
// section's reader; they read the same as from the path.
TEST(IngestConfig, EverySectionReaderTakesTheOneParse) {
  const std::string dir = floodwarn::testing::SourceDir() + "/configs/alerting";
  const std::string tmp = floodwarn::testing::MakeTempDir("serve_once");
  std::filesystem::create_directories(tmp + "/pki");
  for (const char* f : {"/pki/server.pem", "/pki/server.key", "/pki/ca.pem"})
    std::ofstream(tmp + f) << "placeholder\n";
  std::filesystem::copy_file(dir + "/serve.toml", tmp + "/serve.toml");
  std::filesystem::copy_file(dir + "/town_rules.toml", tmp + "/town_rules.toml");
  setenv("FLOODWARN_SIREN_AUTH", "Bearer test", 1);
  const floodwarn::common::TomlFile file = floodwarn::common::ReadTomlFile(tmp + "/serve.toml");
  const fa::ServiceConfig once = fa::ParseServiceConfig(file);
  const fa::ServiceConfig loaded = fa::LoadServiceConfig(tmp + "/serve.toml");
  EXPECT_EQ(once.rules_file, loaded.rules_file);
  EXPECT_EQ(once.store_path, loaded.store_path);
  EXPECT_EQ(once.tls_cert, loaded.tls_cert);
  EXPECT_EQ(once.heartbeat_interval, loaded.heartbeat_interval);
  EXPECT_EQ(once.tokens.size(), loaded.tokens.size());
  EXPECT_EQ(fa::ParseChannelsConfig(file).size(),
            fa::LoadChannelsConfig(tmp + "/serve.toml").size());
  EXPECT_FALSE(fi::ParseIngestConfig(file));
}

TEST(IngestConfig, AbsentTableMeansNoLiveInputs) {
  EXPECT_FALSE(fi::ParseIngestConfig("rules_file = \"r.toml\"\n", "serve.toml", "/"));
}

TEST(IngestConfig, ErrorsNameFileLineAndKey) {
  const std::string head = "[ingest]\nstations_file = \"s.toml\"\nstore = \"r.db\"\n";
  ExpectError(head + "stale_after = 2\n", "serve.toml:4:", "ingest.stale_after: unknown key");
  ExpectError("[ingest]\nstore = \"r.db\"\n", "serve.toml", "ingest.stations_file: required");
  ExpectError(head + "check_interval = \"soon\"\n", "serve.toml:4:", "ingest.check_interval");
  ExpectError(head + "stale_after_intervals = 0.5\n", "serve.toml:4:", "1..100");
  const std::string mqtt = head + "[[ingest.mqtt]]\ntopic = \"a/#\"\nclient_id = \"c\"\n";
  ExpectError(mqtt + "hots = \"x\"\n", "serve.toml:7:", "ingest.mqtt[0].hots: unknown key");
  ExpectError(mqtt + "format = \"xml\"\n", "serve.toml:7:", "expected json or ttn");
  ExpectError(mqtt + "port = 70000\n", "serve.toml:7:", "ingest.mqtt[0].port");
  ExpectError(mqtt + "format = \"ttn\"\n", "ingest.mqtt[0].devices", "required");
  ExpectError(mqtt + "password_file = \"pw\"\n", "ingest.mqtt[0].password_file", "username");
  ExpectError(head + "[[ingest.mqtt]]\ntopic = \"a/#\"\n", "ingest.mqtt[0].client_id", "required");
  ExpectError(mqtt + "[[ingest.mqtt]]\ntopic = \"b\"\nclient_id = \"c\"\nname = \"x\"\n",
              "ingest.mqtt[1].client_id", "used twice");
  ExpectError(head + "[[ingest.poll]]\ntype = \"wiski\"\n",
              "serve.toml:5:", "expected pegelonline or sensorthings");
  ExpectError(head + "[[ingest.poll]]\ntype = \"pegelonline\"\n", "ingest.poll[0].series",
              "required");
  ExpectError(head + "[[ingest.poll]]\ntype = \"pegelonline\"\nseries = [{ station = \"a\" }]\n",
              "ingest.poll[0].series[0].uuid", "required");
  ExpectError(head +
                  "[[ingest.poll]]\ntype = \"sensorthings\"\nbase_url = \"https://x\"\n"
                  "datastreams = [{ station = \"a\", datastream = 1, quantity = \"snow\" }]\n",
              "ingest.poll[0].datastreams[0].quantity", "snow");
  ExpectError(head + "[ingest.mqtt]\n", "ingest.mqtt", "array of tables");
}

// The shipped example: serve's loaders accept it, its channels pass the
// start-up checks against its rules file, and the commented [ingest]
// example, uncommented, is valid and names a registry that loads.
TEST(IngestConfig, ShippedServeTomlLoadsWithChannelsAndIngestExample) {
  const std::string dir = floodwarn::testing::SourceDir() + "/configs/alerting";
  const std::string path = dir + "/serve.toml";
  setenv("FLOODWARN_SIREN_AUTH", "Bearer test", 1);
  // The certificates are made per installation (none are shipped): a copy
  // next to placeholder files, so that the service loader's checks run.
  const std::string tmp = floodwarn::testing::MakeTempDir("serve_toml");
  std::filesystem::create_directories(tmp + "/pki");
  for (const char* f : {"/pki/server.pem", "/pki/server.key", "/pki/ca.pem"})
    std::ofstream(tmp + f) << "placeholder\n";
  std::filesystem::copy_file(path, tmp + "/serve.toml");
  std::filesystem::copy_file(dir + "/town_rules.toml", tmp + "/town_rules.toml");
  std::filesystem::copy_file(dir + "/town_stations.toml", tmp + "/town_stations.toml");
  const fa::ServiceConfig cfg = fa::LoadServiceConfig(tmp + "/serve.toml");
  const fa::RulesConfig rules = fa::LoadRulesConfig(cfg.rules_file);
  const auto channels = fa::LoadChannelsConfig(path);
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_EQ(fa::CheckEscalationChannel(channels, rules.engine.escalation_channel, true), "");
  std::vector<std::string> areas;
  for (const auto& a : rules.areas) areas.push_back(a.id);
  EXPECT_TRUE(fa::CheckChannelAreas(channels, areas).empty());
  EXPECT_FALSE(fi::LoadIngestConfig(path)) << "[ingest] is commented out in the example";

  std::istringstream in(floodwarn::testing::ReadText(path));
  std::string line, example;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("# --- [ingest] example", 0) == 0) {
      inside = true;
    } else if (line.rfind("# --- end", 0) == 0) {
      inside = false;
    } else if (inside) {
      example += (line.rfind("# ", 0) == 0 ? line.substr(2) : line.substr(1)) + "\n";
    }
  }
  const auto c = fi::ParseIngestConfig(example, "serve.toml example", dir);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->mqtt.size(), 1u);
  EXPECT_EQ(c->pegelonline.size(), 1u);
  EXPECT_GT(fi::LoadStations(c->stations_file).size(), 0u);
  // ... and it is the registry the rules name: with the example uncommented,
  // serve resolves the town's stations from it (the rules' stations_file names
  // the same file, so the two agree).
  const fi::StationRegistry registry = fi::LoadStations(c->stations_file);
  const fa::RulesConfig live =
      fa::LoadRulesConfig(dir + "/town_rules.toml", registry, c->stations_file);
  ASSERT_EQ(live.stations.size(), 2u);
  EXPECT_EQ(live.stations[0].station.unit, "cm");
  EXPECT_EQ(live.stations[0].area, "unterstadt");
}

}  // namespace
