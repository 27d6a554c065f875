// End to end: the real engine commits to the real store; one dispatcher per
// channel (siren, cell broadcast, CAP webhook, escalation webhook) runs on its
// own thread, woken by the engine's commit listener, and delivers to a real
// local HTTP receiver that fails on purpose now and then.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/engine.hpp"
#include "test_channel_receiver.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

using floodwarn::testing::TestReceiver;
using Fault = TestReceiver::Fault;
using nlohmann::json;
using namespace std::chrono_literals;
using std::chrono::minutes;

const TimePoint kT0{std::chrono::seconds(1795334400)};  // 2026-11-22T08:00:00Z

const char* kRules = R"(
[engine]
escalation_after = "30m"
escalation_channel = "oncall"

[[areas]]
id = "town"
name = "Talstadt"
polygon = [[50.10, 8.20], [50.10, 8.23], [50.115, 8.23], [50.10, 8.20]]

[[stations]]
id = "g1"
name = "Pegel Talstadt"
area = "town"
quantity = "water_level"
unit = "cm"
expected_interval = "15m"
stale_after = "45m"

[[rules]]
id = "ms"
kind = "water_level"
station = "g1"
min_time_above = "0s"
min_dwell = "0s"
levels = [
  { level = 1, rising = 300, falling = 280, label = "Meldestufe 1" },
  { level = 2, rising = 400, falling = 380, label = "Meldestufe 2" },
  { level = 3, rising = 500, falling = 480, label = "Meldestufe 3" },
]
)";

const char* kChannels = R"(
[[channels]]
name = "sirens"
type = "siren"
url = "URL/siren"
siren_groups = { town = ["S-101"] }
initial_backoff_s = 0.01
max_backoff_s = 0.05
request_timeout_s = 2

[[channels]]
name = "de_alert"
type = "cell_broadcast"
url = "URL/cbc"
min_level = 3
initial_backoff_s = 0.01
max_backoff_s = 0.05

[[channels]]
name = "cap_feed"
type = "webhook"
format = "cap"
url = "URL/cap"
initial_backoff_s = 0.01
max_backoff_s = 0.05

[[channels]]
name = "oncall"
type = "webhook"
url = "URL/oncall"
escalation_only = true
initial_backoff_s = 0.01
max_backoff_s = 0.05
)";

std::vector<TestReceiver::Request> On(const TestReceiver& rx, const std::string& path) {
  std::vector<TestReceiver::Request> out;
  for (const auto& [key, r] : rx.Processed())
    if (r.path == path) out.push_back(r);
  return out;
}

// Waits (bounded, never a timing assertion) until `path` has `n` processed keys.
bool WaitFor(const TestReceiver& rx, const std::string& path, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (On(rx, path).size() >= n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(ChannelsWithEngine, WarningBroadcastCapAndEscalationFlowToTheirChannels) {
  // Every channel meets failures on the way: 500s and a dropped answer.
  TestReceiver rx({Fault::k500, Fault::kNone, Fault::k500, Fault::kDropAfterProcessing, Fault::k500,
                   Fault::kNone, Fault::k500});
  std::string text = kChannels;
  for (auto at = text.find("URL"); at != std::string::npos; at = text.find("URL", at))
    text.replace(at, 3, rx.Url(""));
  const auto configs = ParseChannelsConfig(text, "serve.toml");

  const std::string dir = floodwarn::testing::MakeTempDir("channel_engine");
  AlertStore store(dir + "/alerts.db");
  TimePoint now = kT0;
  CapProfile profile;
  profile.sender = "floodwarn@talstadt.example";
  AlertEngine engine(ParseRulesConfig(kRules, "rules.toml"), store, profile, [&] { return now; });

  std::vector<std::unique_ptr<ChannelDispatcher>> dispatchers;
  for (const auto& c : configs) {
    dispatchers.push_back(std::make_unique<ChannelDispatcher>(MakeChannel(c), store, nullptr));
    dispatchers.back()->Start();
  }
  engine.AddCommitListener([&](const std::vector<AlertEvent>&) {
    for (auto& d : dispatchers) d->Wake();
  });

  auto reading = [&](double cm, minutes at) {
    now = kT0 + at;
    ingest::Reading r;
    r.station_id = "g1";
    r.observed = now;
    r.received = now;
    r.value = cm;
    r.unit = "cm";
    r.quantity = ingest::Quantity::kWaterLevel;
    r.flag = ingest::QcFlag::kPass;
    engine.OnReading(r);
  };
  reading(350, minutes(0));   // Meldestufe 1: CAP only
  reading(520, minutes(10));  // Meldestufe 3: siren, cell broadcast
  reading(525, minutes(20));  // same level: nothing new on the siren
  now = kT0 + minutes(45);
  engine.Tick();              // not acknowledged for 30 min: escalation
  reading(250, minutes(60));  // below every falling threshold: all-clear

  ASSERT_TRUE(WaitFor(rx, "/siren", 2));
  ASSERT_TRUE(WaitFor(rx, "/cbc", 2));
  ASSERT_TRUE(WaitFor(rx, "/oncall", 1));
  ASSERT_TRUE(WaitFor(rx, "/cap", 3));
  for (auto& d : dispatchers) d->Stop();

  for (const auto& [key, n] : rx.ProcessedCount()) EXPECT_EQ(n, 1) << key;

  // One warning run (level 3 reached once, the 525 cm reading repeats it) and
  // one all-clear; nothing for Meldestufe 1 (below the siren's min_level).
  std::vector<std::string> signals;
  for (const auto& r : On(rx, "/siren")) signals.push_back(json::parse(r.body)["signal"]);
  std::sort(signals.begin(), signals.end());
  EXPECT_EQ(signals, (std::vector<std::string>{"all_clear", "warning"}));

  std::vector<std::string> actions;
  for (const auto& r : On(rx, "/cbc")) {
    const auto b = json::parse(r.body);
    actions.push_back(b["action"]);
    if (b["action"] == "broadcast") {
      EXPECT_EQ(b["messages"][0]["message_identifier"], 4378);  // Severe
      EXPECT_EQ(b["messages"][1]["message_identifier"], 4391);
      EXPECT_EQ(b["area"]["polygon"].size(), 4u);
    }
  }
  std::sort(actions.begin(), actions.end());
  EXPECT_EQ(actions, (std::vector<std::string>{"broadcast", "cancel"}));

  const auto esc = On(rx, "/oncall");
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(json::parse(esc[0].body)["kind"], "escalated");

  // CAP feed: the raise, the upgrade(s) and the all-clear, all schema-valid.
  auto xsd = floodwarn::testing::SharedFile("reference/CAP-v1.2.xsd");
  ASSERT_EQ(std::system("xmllint --version > /dev/null 2>&1"), 0) << "xmllint missing";
  int i = 0;
  for (const auto& r : On(rx, "/cap")) {
    EXPECT_EQ(r.content_type, "application/cap+xml");
    if (!xsd) continue;  // schema check needs ../shared
    const std::string file = dir + "/cap" + std::to_string(i++) + ".xml";
    std::ofstream(file) << r.body;
    const std::string cmd = "xmllint --noout --schema '" + *xsd + "' '" + file + "' 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << file;
  }
  EXPECT_GT(rx.Attempts().size(), rx.ProcessedCount().size());  // retries happened
}

}  // namespace
}  // namespace floodwarn::alerting
