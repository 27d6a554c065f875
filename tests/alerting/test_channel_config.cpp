// [[channels]] parsing: validated structs, errors that name file, key and line,
// and the routing filter.
#include <gtest/gtest.h>

#include <fstream>

#include "floodwarn/alerting/channels.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

const char* kGood = R"(# other components' keys are not ours to judge
listen = "127.0.0.1:50051"
[auth]
tokens_file = "tokens.toml"

[[channels]]
name = "sirens"
type = "siren"
url = "https://sirens.example/api/signal"
areas = ["unterstadt"]
siren_groups = { unterstadt = ["S-101", "S-102"] }
max_backoff_s = 30

[[channels]]
name = "de_alert"
type = "cell_broadcast"
url = "https://cbe.example/broadcast"
min_level = 3
modes = ["actual", "exercise"]
max_pages = 4

[[channels]]
name = "duty_pager"
type = "webhook"
url = "http://127.0.0.1:8099/escalate"
escalation_only = true
start_from = "beginning"
)";

TEST(ChannelConfig, ParsesEntriesIgnoringOtherTopLevelKeys) {
  const auto cs = ParseChannelsConfig(kGood, "serve.toml");
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].name, "sirens");
  EXPECT_EQ(cs[0].type, ChannelType::kSiren);
  EXPECT_EQ(cs[0].min_level, 3);  // siren default
  EXPECT_EQ(cs[0].siren_groups.at("unterstadt").size(), 2u);
  EXPECT_EQ(cs[0].retry.max_backoff, std::chrono::seconds(30));
  EXPECT_EQ(cs[0].start_from, StartFrom::kNow);
  EXPECT_EQ(cs[1].type, ChannelType::kCellBroadcast);
  EXPECT_EQ(cs[1].min_level, 3);
  EXPECT_EQ(cs[1].max_pages, 4);
  ASSERT_EQ(cs[1].modes.size(), 2u);
  EXPECT_TRUE(cs[2].escalation_only);
  EXPECT_EQ(cs[2].start_from, StartFrom::kBeginning);
  EXPECT_TRUE(ParseChannelsConfig("listen = \"x\"\n", "empty.toml").empty());
}

void ExpectError(const std::string& text, const std::string& needle1,
                 const std::string& needle2 = "") {
  try {
    ParseChannelsConfig(text, "serve.toml");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(needle1), std::string::npos) << m;
    if (!needle2.empty()) {
      EXPECT_NE(m.find(needle2), std::string::npos) << m;
    }
  }
}

TEST(ChannelConfig, ErrorsNameFileKeyAndLine) {
  const std::string head = "x = 1\n[[channels]]\nname = \"h\"\ntype = \"webhook\"\n";
  ExpectError(head + "url = \"http://a/\"\nretires = 3\n", "serve.toml:6:", "retires");
  ExpectError(head + "url = \"http://a/\"\nsiren_groups = { a = [\"g\"] }\n",
              "serve.toml:6:", "not a key of a 'webhook' channel");
  ExpectError(head, "url", "missing");
  ExpectError(head + "url = \"ftp://a/\"\n", "serve.toml:5:", "http");
  ExpectError(head + "url = \"http://a/\"\nmin_level = 7\n", "serve.toml:6:", "0..4");
  ExpectError(head + "url = \"http://a/\"\nevent_kinds = [\"raised\", \"rased\"]\n",
              "serve.toml:6:", "rased");
  ExpectError(head + "url = \"http://a/\"\nformat = \"cap\"\nescalation_only = true\n", "format",
              "json");
  ExpectError("[[channels]]\nname = \"s\"\ntype = \"siren\"\nurl = \"http://a/\"\n", "siren_groups",
              "missing");
  ExpectError(
      "[[channels]]\nname = \"s\"\ntype = \"siren\"\nurl = \"http://a/\"\n"
      "siren_groups = { a = [\"g\"] }\nescalation_only = true\n",
      "serve.toml:6:", "escalation");
  ExpectError(head + "url = \"http://a/\"\n" + "[[channels]]\nname = \"h\"\ntype = \"webhook\"\n" +
                  "url = \"http://b/\"\n",
              "duplicate");
  ExpectError("[[channels]]\nname = \"bad name\"\ntype = \"webhook\"\nurl = \"http://a/\"\n",
              "serve.toml:2:", "name");
  ExpectError("[[channels]]\nname = \"t\"\ntype = \"pager\"\nurl = \"http://a/\"\n",
              "serve.toml:3:", "pager");
  ExpectError("channels = 3\n", "channels", "array of tables");
}

TEST(ChannelConfig, LoadsFromFileAndNamesAMissingFile) {
  const std::string dir = floodwarn::testing::MakeTempDir("channel_config");
  const std::string path = dir + "/serve.toml";
  std::ofstream(path) << kGood;
  EXPECT_EQ(LoadChannelsConfig(path).size(), 3u);
  try {
    LoadChannelsConfig(dir + "/nope.toml");
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.toml"), std::string::npos);
  }
}

TEST(ChannelConfig, EscalationChannelMustExistAndBeEscalationOnly) {
  const auto cs = ParseChannelsConfig(kGood, "serve.toml");
  EXPECT_EQ(CheckEscalationChannel(cs, "duty_pager", true), "");
  const auto missing = CheckEscalationChannel(cs, "escalation", true);
  EXPECT_NE(missing.find("\"escalation\""), std::string::npos) << missing;
  EXPECT_NE(missing.find("duty_pager"), std::string::npos) << missing;
  EXPECT_NE(CheckEscalationChannel(cs, "de_alert", true).find("escalation_only"),
            std::string::npos);
  EXPECT_EQ(CheckEscalationChannel(cs, "escalation", false), "");  // escalation off
}

TEST(ChannelConfig, AreaIdsMustBeConfiguredAreas) {
  const auto cs = ParseChannelsConfig(kGood, "serve.toml");
  EXPECT_TRUE(CheckChannelAreas(cs, {"unterstadt", "altstadt"}).empty());
  const auto problems = CheckChannelAreas(cs, {"untrestadt"});  // a typo in the rules' areas
  ASSERT_EQ(problems.size(), 2u);  // sirens.areas and sirens.siren_groups
  EXPECT_NE(problems[0].find("channels.sirens.areas: 'unterstadt'"), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find("channels.sirens.siren_groups: 'unterstadt'"), std::string::npos)
      << problems[1];
}

AlertEvent Event(EventKind kind, Level level, Mode mode = Mode::kActual,
                 const std::string& area = "unterstadt") {
  AlertEvent e;
  e.kind = kind;
  e.alert.level = level;
  e.alert.mode = mode;
  e.alert.area.id = area;
  return e;
}

TEST(ChannelRouting, FiltersByKindLevelAreaModeAndEscalation) {
  const auto cs = ParseChannelsConfig(kGood, "serve.toml");
  const auto& siren = cs[0];
  const auto& cb = cs[1];
  const auto& pager = cs[2];
  EXPECT_TRUE(Routes(siren, Event(EventKind::kRaised, 3)));
  EXPECT_FALSE(Routes(siren, Event(EventKind::kRaised, 2)));
  EXPECT_FALSE(Routes(siren, Event(EventKind::kRaised, 4, Mode::kActual, "oberstadt")));
  EXPECT_TRUE(Routes(siren, Event(EventKind::kResolved, 0)));  // all-clear passes min_level
  EXPECT_FALSE(Routes(siren, Event(EventKind::kAcknowledged, 4)));
  EXPECT_FALSE(Routes(siren, Event(EventKind::kEscalated, 4)));
  EXPECT_FALSE(Routes(cb, Event(EventKind::kRaised, 3, Mode::kTest)));
  EXPECT_TRUE(Routes(cb, Event(EventKind::kRaised, 3, Mode::kExercise)));
  // The escalation channel receives kEscalated and nothing else.
  for (auto k : {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved,
                 EventKind::kAcknowledged, EventKind::kSuppressed, EventKind::kPending})
    EXPECT_FALSE(Routes(pager, Event(k, 4))) << ToString(k);
  EXPECT_TRUE(Routes(pager, Event(EventKind::kEscalated, 2)));
}

// Sirens and cell broadcast are public warning means: a sensor outage (a dead
// gauge) is operational, for the duty officer, and never reaches them, at
// any level and whatever min_level says. Webhooks (consoles, pagers) get it.
TEST(ChannelRouting, SensorOutagesNeverReachSirensOrCellBroadcast) {
  const auto cs = ParseChannelsConfig(R"(
[[channels]]
name = "sirens"
type = "siren"
url = "https://sirens.example/api/signal"
min_level = 1
siren_groups = { unterstadt = ["S-101"] }

[[channels]]
name = "de_alert"
type = "cell_broadcast"
url = "https://cbe.example/broadcast"
min_level = 1

[[channels]]
name = "console"
type = "webhook"
url = "https://console.example/hook"
)",
                                      "serve.toml");
  ASSERT_EQ(cs.size(), 3u);
  // A dead gauge and a failed forecast alike (issue #12: a forecast outage
  // is for the duty officer only).
  for (auto outage_kind : {RuleKind::kSensorOutage, RuleKind::kForecastOutage}) {
    for (auto kind : {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved}) {
      for (Level level : {1, 2, 4}) {
        AlertEvent outage = Event(kind, level);
        outage.alert.kind = outage_kind;
        outage.alert.rule_id = ToString(outage_kind);
        SCOPED_TRACE(ToString(outage_kind));
        EXPECT_FALSE(Routes(cs[0], outage)) << "siren, " << ToString(kind) << " level " << level;
        EXPECT_FALSE(Routes(cs[1], outage))
            << "cell broadcast, " << ToString(kind) << " level " << level;
        EXPECT_TRUE(Routes(cs[2], outage)) << "webhook, " << ToString(kind) << " level " << level;
      }
    }
  }
  // The same events of a threshold rule still reach the public channels.
  EXPECT_TRUE(Routes(cs[0], Event(EventKind::kRaised, 1)));
  EXPECT_TRUE(Routes(cs[1], Event(EventKind::kRaised, 1)));
}

}  // namespace
}  // namespace floodwarn::alerting
