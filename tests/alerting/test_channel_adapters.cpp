// Channel adapters against a real local HTTP receiver that fails on purpose:
// exactly-once delivery per idempotency key, siren / cell broadcast / webhook
// message semantics, permanent failures not retried.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/alerting/channels.hpp"
#include "test_channel_receiver.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

using floodwarn::testing::TestReceiver;
using Fault = TestReceiver::Fault;
using nlohmann::json;
using namespace std::chrono_literals;

Area TestArea() {
  Area a;
  a.id = "unterstadt";
  a.name = "Talstadt, Unterstadt";
  a.ars = "083110000000";
  a.polygon = {{48.00, 7.80}, {48.00, 7.82}, {48.02, 7.82}, {48.02, 7.80}, {48.00, 7.80}};
  return a;
}

AlertEvent MakeEvent(EventKind kind, Level level, Mode mode = Mode::kActual, std::uint64_t seq = 1,
                     const std::string& alert_id = "fw.a1") {
  AlertEvent e;
  e.sequence = seq;
  e.kind = kind;
  e.at = TimePoint(std::chrono::milliseconds(1795000000000LL + static_cast<long long>(seq)));
  e.alert.id = alert_id;
  e.alert.rule_id = "talstadt_stage";
  e.alert.subject = "talstadt";
  e.alert.subject_name = "Pegel Talstadt";
  e.alert.level = level;
  e.alert.mode = mode;
  e.alert.state = kind == EventKind::kResolved ? AlertState::kResolved : AlertState::kActive;
  e.alert.area = TestArea();
  e.alert.reason = "level 412 cm >= 400 cm (Meldestufe 3)";
  e.cap_identifier =
      kind == EventKind::kRaised || kind == EventKind::kUpdated || kind == EventKind::kResolved
          ? "fw.example." + alert_id + "." + std::to_string(seq)
          : "";
  return e;
}

// Adds the CAP chain of earlier messages the engine keeps on the alert.
void Chain(AlertEvent& e, const std::vector<AlertEvent>& earlier) {
  for (const auto& p : earlier) e.alert.messages.push_back({"fw", p.cap_identifier, p.at});
  e.alert.messages.push_back({"fw", e.cap_identifier, e.at});
}

ChannelConfig Config(ChannelType type, const std::string& url) {
  ChannelConfig c;
  c.name = std::string(ToString(type)) + "_test";
  c.type = type;
  c.url = url;
  c.min_level = type == ChannelType::kSiren ? 3 : type == ChannelType::kCellBroadcast ? 2 : 1;
  c.retry.initial_backoff = 10ms;
  c.retry.max_backoff = 40ms;
  c.retry.connect_timeout = 1000ms;
  // The receiver's slow answer takes 2.5 s; a generous timeout keeps the
  // other answers in time on a loaded machine.
  c.retry.request_timeout = 1000ms;
  c.siren_groups["unterstadt"] = {"S-101", "S-102"};
  return c;
}

// Plans and delivers `events` in order like the dispatcher does, with an
// in-memory delivery record.
struct Sent {
  std::vector<Delivery> deliveries;
  std::vector<DeliveryOutcome> outcomes;
};
Sent PlanAndDeliver(Channel& ch, const std::vector<AlertEvent>& events,
                    std::set<std::string>& record) {
  Sent sent;
  auto delivered = [&](const std::string& k) { return record.count(k) != 0; };
  for (const auto& e : events) {
    if (!Routes(ch.config(), e)) continue;
    for (const auto& d : ch.PlanFor(e, delivered).deliveries) {
      if (delivered(d.idempotency_key)) continue;
      auto out = ch.Deliver(d);
      if (out.ok()) record.insert(d.idempotency_key);
      sent.deliveries.push_back(d);
      sent.outcomes.push_back(out);
    }
  }
  return sent;
}

// The receiver's script: delivery 1 meets a 500, then a connection dropped
// after the receiver processed it, then the receiver's 409 for the known key;
// delivery 2 meets an answer slower than the client timeout (processed too),
// then a 409. Both must end processed exactly once.
const std::vector<Fault> kFaults = {Fault::k500, Fault::kDropAfterProcessing, Fault::kNone,
                                    Fault::kSlowAfterProcessing};

void ExpectExactlyOnce(const TestReceiver& rx, const Sent& sent) {
  ASSERT_EQ(sent.deliveries.size(), 2u);
  const auto counts = rx.ProcessedCount();
  for (std::size_t i = 0; i < sent.deliveries.size(); ++i) {
    const auto& key = sent.deliveries[i].idempotency_key;
    EXPECT_TRUE(sent.outcomes[i].ok()) << key << " " << ToString(sent.outcomes[i].result);
    ASSERT_EQ(counts.count(key), 1u) << key << " never processed";
    EXPECT_EQ(counts.at(key), 1) << key << " processed more than once";
    EXPECT_EQ(rx.Processed().at(key).body, sent.deliveries[i].body);
  }
  EXPECT_NE(sent.deliveries[0].idempotency_key, sent.deliveries[1].idempotency_key);
  // 500, drop, 409 for the first; slow, 409 for the second: retries happened.
  EXPECT_EQ(sent.outcomes[0].attempts, 3);
  EXPECT_EQ(sent.outcomes[1].attempts, 2);
  EXPECT_EQ(rx.Attempts().size(), 5u);
}

TEST(ChannelAdapters, SirenDeliversExactlyOncePerKeyDespiteFailures) {
  TestReceiver rx(kFaults, 2500ms);
  SirenAdapter ch(Config(ChannelType::kSiren, rx.Url("/siren")));
  auto raise = MakeEvent(EventKind::kRaised, 3, Mode::kActual, 1);
  auto resolve = MakeEvent(EventKind::kResolved, 3, Mode::kActual, 2);
  std::set<std::string> record;
  const Sent sent = PlanAndDeliver(ch, {raise, resolve}, record);
  ExpectExactlyOnce(rx, sent);
  EXPECT_EQ(json::parse(sent.deliveries[0].body)["signal"], "warning");
  EXPECT_EQ(json::parse(sent.deliveries[1].body)["signal"], "all_clear");
  EXPECT_EQ(rx.Attempts()[0].content_type, "application/json");
}

TEST(ChannelAdapters, CellBroadcastDeliversExactlyOncePerKeyDespiteFailures) {
  TestReceiver rx(kFaults, 2500ms);
  CellBroadcastAdapter ch(Config(ChannelType::kCellBroadcast, rx.Url("/cbc")));
  auto raise = MakeEvent(EventKind::kRaised, 3, Mode::kActual, 1);
  Chain(raise, {});
  auto resolve = MakeEvent(EventKind::kResolved, 3, Mode::kActual, 2);
  Chain(resolve, {raise});
  std::set<std::string> record;
  const Sent sent = PlanAndDeliver(ch, {raise, resolve}, record);
  ExpectExactlyOnce(rx, sent);
  EXPECT_EQ(json::parse(sent.deliveries[0].body)["action"], "broadcast");
  EXPECT_EQ(json::parse(sent.deliveries[1].body)["action"], "cancel");
}

TEST(ChannelAdapters, WebhookDeliversExactlyOncePerKeyDespiteFailures) {
  TestReceiver rx(kFaults, 2500ms);
  WebhookAdapter ch(Config(ChannelType::kWebhook, rx.Url("/hook")));
  std::set<std::string> record;
  const Sent sent = PlanAndDeliver(ch,
                                   {MakeEvent(EventKind::kRaised, 2, Mode::kActual, 1),
                                    MakeEvent(EventKind::kAcknowledged, 2, Mode::kActual, 2)},
                                   record);
  ExpectExactlyOnce(rx, sent);
  const auto body = json::parse(sent.deliveries[1].body);
  EXPECT_EQ(body["kind"], "acknowledged");
  EXPECT_EQ(body["alert"]["id"], "fw.a1");
  EXPECT_EQ(body["sequence"], 2);
}

// The JSON event names the onset as the CAP message does: for a forecast when
// the threshold is expected, for an observation when the condition began.
TEST(WebhookAdapter, JsonCarriesTheOnsetAsCapDoes) {
  WebhookAdapter ch(Config(ChannelType::kWebhook, "http://127.0.0.1:9/"));
  auto never = [](const std::string&) { return false; };
  auto forecast = MakeEvent(EventKind::kRaised, 3);
  forecast.alert.kind = RuleKind::kForecastDepth;
  forecast.alert.first_seen = TimePoint(std::chrono::milliseconds(1794999000000LL));
  forecast.alert.onset = TimePoint(std::chrono::milliseconds(1795003600000LL));
  const Plan pf = ch.PlanFor(forecast, never);
  ASSERT_EQ(pf.deliveries.size(), 1u);
  EXPECT_EQ(json::parse(pf.deliveries[0].body)["alert"]["onset"], "2026-11-18T12:06:40.000Z");

  auto observed = MakeEvent(EventKind::kRaised, 3, Mode::kActual, 2);
  observed.alert.first_seen = TimePoint(std::chrono::milliseconds(1794999000000LL));
  const Plan po = ch.PlanFor(observed, never);
  ASSERT_EQ(po.deliveries.size(), 1u);
  EXPECT_EQ(json::parse(po.deliveries[0].body)["alert"]["onset"], "2026-11-18T10:50:00.000Z");
}

// --- siren semantics ---------------------------------------------------------

json OnlyBody(const Plan& p) {
  EXPECT_EQ(p.deliveries.size(), 1u);
  return p.deliveries.empty() ? json() : json::parse(p.deliveries[0].body);
}

// A dead gauge is the duty officer's and maintenance's business: a
// sensor-outage alert, whatever its level, sounds no siren and sends no cell
// broadcast (a fresh install would otherwise broadcast one per gauge).
TEST(PublicChannels, SensorOutageNeverSoundsNorBroadcasts) {
  SirenAdapter siren(Config(ChannelType::kSiren, "http://127.0.0.1:9/"));
  CellBroadcastAdapter cb(Config(ChannelType::kCellBroadcast, "http://127.0.0.1:9/"));
  auto delivered = [](const std::string&) { return false; };
  for (const Level level : {2, 3, 4}) {
    auto e = MakeEvent(EventKind::kRaised, level, Mode::kActual, 1);
    e.alert.kind = RuleKind::kSensorOutage;
    EXPECT_TRUE(siren.PlanFor(e, delivered).deliveries.empty()) << level;
    EXPECT_TRUE(cb.PlanFor(e, delivered).deliveries.empty()) << level;
    // The same event as a water-level alert is sounded / broadcast.
    e.alert.kind = RuleKind::kWaterLevel;
    if (level >= 3) {
      EXPECT_FALSE(siren.PlanFor(e, delivered).deliveries.empty()) << level;
    }
    EXPECT_FALSE(cb.PlanFor(e, delivered).deliveries.empty()) << level;
  }
}

TEST(SirenAdapter, WarningForLevel3AllClearOnResolveNoSecondWarning) {
  SirenAdapter ch(Config(ChannelType::kSiren, "http://127.0.0.1:9/"));
  std::set<std::string> record;
  auto delivered = [&](const std::string& k) { return record.count(k) != 0; };

  // Below the siren threshold: routed out, and no plan either.
  const auto l2 = MakeEvent(EventKind::kRaised, 2);
  EXPECT_FALSE(Routes(ch.config(), l2));
  EXPECT_TRUE(ch.PlanFor(l2, delivered).deliveries.empty());

  // All-clear for an alert that never sounded: nothing.
  EXPECT_TRUE(ch.PlanFor(MakeEvent(EventKind::kResolved, 2, Mode::kActual, 2), delivered)
                  .deliveries.empty());

  const auto raise = MakeEvent(EventKind::kRaised, 3, Mode::kActual, 3);
  const Plan p = ch.PlanFor(raise, delivered);
  const json w = OnlyBody(p);
  EXPECT_EQ(w["signal"], "warning");
  EXPECT_EQ(w["tone"], "rising_falling");
  EXPECT_EQ(w["duration_s"], 60);
  EXPECT_EQ(w["groups"], json({"S-101", "S-102"}));
  EXPECT_EQ(w["level"], 3);
  record.insert(p.deliveries[0].idempotency_key);

  // The same event again, or another update at the same level: no second run.
  EXPECT_TRUE(ch.PlanFor(raise, delivered).deliveries.empty());
  EXPECT_TRUE(ch.PlanFor(MakeEvent(EventKind::kUpdated, 3, Mode::kActual, 4), delivered)
                  .deliveries.empty());
  // Upgrade to level 4: a new warning run; the downgrade back to 3: none.
  const Plan up = ch.PlanFor(MakeEvent(EventKind::kUpdated, 4, Mode::kActual, 5), delivered);
  EXPECT_EQ(OnlyBody(up)["signal"], "warning");
  record.insert(up.deliveries[0].idempotency_key);
  EXPECT_TRUE(ch.PlanFor(MakeEvent(EventKind::kUpdated, 3, Mode::kActual, 6), delivered)
                  .deliveries.empty());

  const Plan clear = ch.PlanFor(MakeEvent(EventKind::kResolved, 3, Mode::kActual, 7), delivered);
  const json c = OnlyBody(clear);
  EXPECT_EQ(c["signal"], "all_clear");
  EXPECT_EQ(c["tone"], "continuous");
  EXPECT_EQ(c["duration_s"], 60);
  record.insert(clear.deliveries[0].idempotency_key);
  EXPECT_TRUE(ch.PlanFor(MakeEvent(EventKind::kResolved, 3, Mode::kActual, 7), delivered)
                  .deliveries.empty());
}

TEST(SirenAdapter, TestModeSendsTestSignalNeverAWarning) {
  SirenAdapter ch(Config(ChannelType::kSiren, "http://127.0.0.1:9/"));
  std::set<std::string> record;
  auto delivered = [&](const std::string& k) { return record.count(k) != 0; };
  for (Level level : {3, 4}) {
    const Plan p = ch.PlanFor(MakeEvent(EventKind::kRaised, level, Mode::kTest), delivered);
    const json b = OnlyBody(p);
    EXPECT_EQ(b["signal"], "test");
    EXPECT_EQ(b["mode"], "Test");
    record.insert(p.deliveries[0].idempotency_key);
  }
  EXPECT_TRUE(
      ch.PlanFor(MakeEvent(EventKind::kResolved, 4, Mode::kTest), delivered).deliveries.empty());
  for (const auto& k : record) EXPECT_EQ(k.find("warning"), std::string::npos) << k;
}

TEST(SirenAdapter, ExerciseSendsAMarkerByDefaultAndNothingWhenOff) {
  auto config = Config(ChannelType::kSiren, "http://127.0.0.1:9/");
  std::set<std::string> record;
  auto delivered = [&](const std::string& k) { return record.count(k) != 0; };
  {
    SirenAdapter ch(config);
    const Plan p = ch.PlanFor(MakeEvent(EventKind::kRaised, 3, Mode::kExercise), delivered);
    const json b = OnlyBody(p);
    EXPECT_EQ(b["signal"], "exercise");
    EXPECT_EQ(b["exercise_of"], "warning");
    EXPECT_EQ(b["duration_s"], 0);
    record.insert(p.deliveries[0].idempotency_key);
    const json c =
        OnlyBody(ch.PlanFor(MakeEvent(EventKind::kResolved, 3, Mode::kExercise, 2), delivered));
    EXPECT_EQ(c["signal"], "exercise");
    EXPECT_EQ(c["exercise_of"], "all_clear");
  }
  // An announced full-scale drill sounds the real signal, with its own keys.
  config.exercise_siren = ExerciseSiren::kReal;
  SirenAdapter drill(config);
  EXPECT_EQ(OnlyBody(drill.PlanFor(MakeEvent(EventKind::kRaised, 3, Mode::kExercise),
                                   delivered))["signal"],
            "warning");
  config.exercise_siren = ExerciseSiren::kNone;
  SirenAdapter off(config);
  EXPECT_TRUE(off.PlanFor(MakeEvent(EventKind::kRaised, 3, Mode::kExercise, 3, "fw.a2"), delivered)
                  .deliveries.empty());
}

TEST(SirenAdapter, SilencedAlertAndAreaWithoutSirensSendNothing) {
  SirenAdapter ch(Config(ChannelType::kSiren, "http://127.0.0.1:9/"));
  auto none = [](const std::string&) { return false; };
  auto silenced = MakeEvent(EventKind::kRaised, 4);
  silenced.alert.silenced = true;
  EXPECT_TRUE(ch.PlanFor(silenced, none).deliveries.empty());
  auto elsewhere = MakeEvent(EventKind::kRaised, 4);
  elsewhere.alert.area.id = "oberstadt";
  EXPECT_TRUE(ch.PlanFor(elsewhere, none).deliveries.empty());
}

// --- cell broadcast semantics ------------------------------------------------------

TEST(CellBroadcastAdapter, MessageIdentifierPerSeverityAndMode) {
  CellBroadcastAdapter ch(Config(ChannelType::kCellBroadcast, "http://127.0.0.1:9/"));
  auto none = [](const std::string&) { return false; };
  struct Case {
    Level level;
    Mode mode;
    int de, en;
  };
  // 3GPP TS 23.041 9.4.1.2.2 / xsrf/de-alert Readme (NOTES §2.2).
  const Case cases[] = {{4, Mode::kActual, 4372, 4385},   {3, Mode::kActual, 4378, 4391},
                        {2, Mode::kActual, 4396, 4397},   {3, Mode::kExercise, 4381, 4394},
                        {4, Mode::kExercise, 4381, 4394}, {3, Mode::kTest, 4398, 4399}};
  for (const auto& c : cases) {
    const json b = OnlyBody(ch.PlanFor(MakeEvent(EventKind::kRaised, c.level, c.mode), none));
    ASSERT_EQ(b["messages"].size(), 2u);
    EXPECT_EQ(b["messages"][0]["language"], "de");
    EXPECT_EQ(b["messages"][0]["message_identifier"], c.de) << "level " << c.level;
    EXPECT_EQ(b["messages"][1]["language"], "en");
    EXPECT_EQ(b["messages"][1]["message_identifier"], c.en) << "level " << c.level;
  }
  // Presidential (4370) is never used by an automated flood warning.
  for (Level l = 1; l <= 4; ++l)
    for (Mode m : {Mode::kActual, Mode::kExercise, Mode::kTest})
      EXPECT_NE(CellBroadcastIdsFor(l, m).primary, 4370);
  const json ex = OnlyBody(ch.PlanFor(MakeEvent(EventKind::kRaised, 3, Mode::kExercise), none));
  EXPECT_EQ(ex["messages"][0]["text"].get<std::string>().rfind("ÜBUNG", 0), 0u);
  EXPECT_EQ(ex["messages"][1]["text"].get<std::string>().rfind("EXERCISE", 0), 0u);
}

TEST(CellBroadcastAdapter, BothLanguagesWithinTheLimitAndPolygonFromTheArea) {
  CellBroadcastAdapter ch(Config(ChannelType::kCellBroadcast, "http://127.0.0.1:9/"));
  auto none = [](const std::string&) { return false; };
  auto e = MakeEvent(EventKind::kRaised, 4);
  std::string long_de, long_en;
  for (int i = 0; i < 300; ++i) {
    long_de += "Wasser steigt weiter. ";
    long_en += "Water keeps rising. ";
  }
  e.alert.headline_de = "Hochwasser in Talstadt";
  e.alert.headline_en = "Flooding in Talstadt";
  e.alert.description_de = long_de;
  e.alert.description_en = long_en;
  const json b = OnlyBody(ch.PlanFor(e, none));
  ASSERT_EQ(b["messages"].size(), 2u);
  for (const auto& m : b["messages"]) {
    const std::string text = m["text"];
    // ASCII-only texts: one byte = one GSM-7 septet; 15 pages x 93.
    EXPECT_LE(text.size(), 1395u);
    EXPECT_GT(text.size(), 1300u);  // filled, not cut short
    EXPECT_EQ(m["encoding"], "GSM-7");
    EXPECT_TRUE(m["truncated"].get<bool>());
    EXPECT_EQ(text.substr(text.size() - 3), "...");
    // Cut on a word boundary: what precedes "..." is a whole word.
    const std::string before = text.substr(0, text.size() - 3);
    const std::string& full = m["language"] == "de" ? long_de : long_en;
    const auto last_word = before.substr(before.find_last_of(" \n") + 1);
    EXPECT_NE(full.find(last_word + " "), std::string::npos) << last_word;
  }
  EXPECT_EQ(b["messages"][0]["text"].get<std::string>().rfind("Hochwasser in Talstadt", 0), 0u);
  EXPECT_EQ(b["messages"][1]["text"].get<std::string>().rfind("Flooding in Talstadt", 0), 0u);
  const auto& poly = b["area"]["polygon"];
  ASSERT_EQ(poly.size(), 5u);
  const auto area = TestArea();
  for (std::size_t i = 0; i < poly.size(); ++i) {
    EXPECT_DOUBLE_EQ(poly[i][0].get<double>(), area.polygon[i].lat);
    EXPECT_DOUBLE_EQ(poly[i][1].get<double>(), area.polygon[i].lon);
  }
  EXPECT_EQ(b["area"]["ars"], "083110000000");
}

TEST(CellBroadcastAdapter, NoPolygonIsAProblemNotABroadcastToEveryone) {
  CellBroadcastAdapter ch(Config(ChannelType::kCellBroadcast, "http://127.0.0.1:9/"));
  auto e = MakeEvent(EventKind::kRaised, 4);
  e.alert.area.polygon.clear();
  const Plan p = ch.PlanFor(e, [](const std::string&) { return false; });
  EXPECT_TRUE(p.deliveries.empty());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].find("unterstadt"), std::string::npos);
}

TEST(CellBroadcastAdapter, CancelOnlyAfterABroadcastAndWithAllClearText) {
  CellBroadcastAdapter ch(Config(ChannelType::kCellBroadcast, "http://127.0.0.1:9/"));
  std::set<std::string> record;
  auto delivered = [&](const std::string& k) { return record.count(k) != 0; };
  auto raise = MakeEvent(EventKind::kRaised, 3, Mode::kActual, 1);
  Chain(raise, {});
  auto resolve = MakeEvent(EventKind::kResolved, 3, Mode::kActual, 2);
  Chain(resolve, {raise});
  EXPECT_TRUE(ch.PlanFor(resolve, delivered).deliveries.empty());  // nothing was broadcast
  const Plan p = ch.PlanFor(raise, delivered);
  record.insert(p.deliveries.at(0).idempotency_key);
  const json c = OnlyBody(ch.PlanFor(resolve, delivered));
  EXPECT_EQ(c["action"], "cancel");
  EXPECT_NE(c["messages"][0]["text"].get<std::string>().find("ENTWARNUNG"), std::string::npos);
  EXPECT_NE(c["messages"][1]["text"].get<std::string>().find("ALL CLEAR"), std::string::npos);
}

TEST(CellBroadcastText, GermanLettersStayGsm7OtherScriptsUseUcs2) {
  // ä ö ü ß Ä Ö Ü are in the GSM 03.38 default alphabet (1 septet each).
  const auto de = FitCellBroadcastText("Überflutung: Straße gesperrt, Öl läuft aus", 15);
  EXPECT_TRUE(de.gsm7);
  EXPECT_EQ(de.units, 42u);
  EXPECT_EQ(de.limit, 1395u);
  EXPECT_FALSE(de.truncated);
  // € and [ are in the extension table: 2 septets each.
  EXPECT_EQ(FitCellBroadcastText("5 € [x]", 15).units, 10u);
  // Polish ł is not in GSM-7: UCS-2, 15 x 41 characters.
  std::string pl;
  for (int i = 0; i < 200; ++i) pl += "Woda ł ";  // 7 characters each
  const auto u = FitCellBroadcastText(pl, 15);
  EXPECT_FALSE(u.gsm7);
  EXPECT_EQ(u.limit, 615u);
  EXPECT_TRUE(u.truncated);
  // Count code points independently: UTF-8 bytes that are not continuation bytes.
  std::size_t cps = 0;
  for (unsigned char c : u.text) cps += (c & 0xC0) != 0x80 ? 1 : 0;
  EXPECT_LE(cps, 615u);
  EXPECT_GT(cps, 600u);
  EXPECT_EQ(u.text.substr(u.text.size() - 3), "…");
  // Fewer pages, smaller limit.
  EXPECT_EQ(FitCellBroadcastText("x", 2).limit, 186u);
}

// --- webhook -------------------------------------------------------------------

TEST(WebhookAdapter, CapBodyIsSchemaValidXmlWithCapContentType) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  ASSERT_EQ(std::system("xmllint --version > /dev/null 2>&1"), 0)
      << "xmllint missing (scripts/setup installs libxml2-utils)";
  TestReceiver rx;
  auto config = Config(ChannelType::kWebhook, rx.Url("/cap"));
  config.format = WebhookFormat::kCap;
  WebhookAdapter ch(config);

  auto e = MakeEvent(EventKind::kRaised, 3);
  e.alert.activated = e.at;
  e.alert.last_change = e.at;
  e.alert.first_seen = e.at;
  e.alert.expires = e.at + std::chrono::hours(6);
  CapProfile profile;
  profile.sender = "floodwarn@talstadt.example";
  CapMessage msg;
  msg.identifier = e.cap_identifier;
  msg.sent = e.at;
  e.cap_xml = ToCapXml(profile, msg, e.alert);

  std::set<std::string> record;
  // An acknowledgement has no CAP: a CAP webhook skips it.
  const Sent sent =
      PlanAndDeliver(ch, {e, MakeEvent(EventKind::kAcknowledged, 3, Mode::kActual, 2)}, record);
  ASSERT_EQ(sent.deliveries.size(), 1u);
  ASSERT_EQ(rx.Attempts().size(), 1u);
  const auto got = rx.Attempts()[0];
  EXPECT_EQ(got.content_type, "application/cap+xml");
  EXPECT_EQ(got.body, e.cap_xml);
  const std::string dir = floodwarn::testing::MakeTempDir("channel_cap");
  const std::string file = dir + "/received.xml";
  std::ofstream(file) << got.body;
  const std::string cmd = "xmllint --noout --schema '" + xsd + "' '" + file + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "the received CAP does not validate: " << cmd;
}

TEST(ChannelDelivery, PermanentRejectionIsNotRetried) {
  TestReceiver rx({Fault::k400});
  WebhookAdapter ch(Config(ChannelType::kWebhook, rx.Url("/hook")));
  const auto plan =
      ch.PlanFor(MakeEvent(EventKind::kRaised, 2), [](const std::string&) { return false; });
  const auto out = ch.Deliver(plan.deliveries.at(0));
  EXPECT_EQ(out.result, DeliveryResult::kRejected);
  EXPECT_EQ(out.attempts, 1);
  EXPECT_EQ(out.last_status, 400);
  EXPECT_EQ(rx.Attempts().size(), 1u);
  EXPECT_TRUE(rx.ProcessedCount().empty());
}

TEST(ChannelDelivery, TransientFailuresAreRetriedUntilStopped) {
  // A gateway that is down (every answer 500) must not make the channel give
  // up: it keeps retrying at the maximum interval until Stop.
  TestReceiver rx(std::vector<Fault>(1000, Fault::k500));
  WebhookAdapter ch(Config(ChannelType::kWebhook, rx.Url("/hook")));
  const auto plan =
      ch.PlanFor(MakeEvent(EventKind::kRaised, 2), [](const std::string&) { return false; });
  auto result = std::async(std::launch::async, [&] { return ch.Deliver(plan.deliveries.at(0)); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (rx.Attempts().size() < 8 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ch.RequestStop();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready) << "Stop did not end the retries";
  const auto out = result.get();
  EXPECT_EQ(out.result, DeliveryResult::kStopped);
  EXPECT_GE(out.attempts, 8);
  EXPECT_TRUE(rx.ProcessedCount().empty());  // every attempt met the 500
  EXPECT_EQ(out.last_status, 500);           // the last real failure, not the abort
}

TEST(ChannelDelivery, StopAbortsARequestInFlight) {
  // The receiver takes 5 s to answer; the request timeout is 30 s. Stop must
  // not wait for either (a clean shutdown of serve).
  TestReceiver rx({Fault::kSlowAfterProcessing}, 5000ms);
  auto config = Config(ChannelType::kWebhook, rx.Url("/hook"));
  config.retry.request_timeout = 30s;
  WebhookAdapter ch(config);
  const auto plan =
      ch.PlanFor(MakeEvent(EventKind::kRaised, 2), [](const std::string&) { return false; });
  auto result = std::async(std::launch::async, [&] { return ch.Deliver(plan.deliveries.at(0)); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (rx.Attempts().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ch.RequestStop();
  ASSERT_EQ(result.wait_for(3s), std::future_status::ready) << "Stop waited for the answer";
  const auto out = result.get();
  EXPECT_EQ(out.result, DeliveryResult::kStopped);
  EXPECT_EQ(out.attempts, 1);
}

TEST(ChannelDelivery, TlsPeerIsVerifiedAndCaFileIsHonoured) {
  ASSERT_EQ(std::system("openssl version > /dev/null 2>&1"), 0) << "openssl missing";
  const std::string dir = floodwarn::testing::MakeTempDir("channel_tls");
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  TestReceiver rx({}, 800ms, cert, key);
  ASSERT_EQ(rx.Url("/x").rfind("https://", 0), 0u);
  const auto event = MakeEvent(EventKind::kRaised, 2);
  {
    // A self-signed certificate the system does not trust: never accepted.
    WebhookAdapter ch(Config(ChannelType::kWebhook, rx.Url("/hook")));
    const auto plan = ch.PlanFor(event, [](const std::string&) { return false; });
    auto result = std::async(std::launch::async, [&] { return ch.Deliver(plan.deliveries.at(0)); });
    std::this_thread::sleep_for(500ms);
    ch.RequestStop();
    const auto out = result.get();
    EXPECT_EQ(out.result, DeliveryResult::kStopped);
    EXPECT_GE(out.attempts, 1);
    EXPECT_NE(out.last_error.find("certificate"), std::string::npos) << out.last_error;
    EXPECT_TRUE(rx.Attempts().empty());  // no request reached the handler
  }
  auto config = Config(ChannelType::kWebhook, rx.Url("/hook"));
  config.ca_file = cert;  // trusted explicitly
  WebhookAdapter ch(config);
  const auto out =
      ch.Deliver(ch.PlanFor(event, [](const std::string&) { return false; }).deliveries.at(0));
  EXPECT_EQ(out.result, DeliveryResult::kDelivered) << out.last_error;
  EXPECT_EQ(rx.ProcessedCount().size(), 1u);
}

TEST(ChannelDelivery, ConnectionRefusedIsRetried) {
  int port = 0;
  {
    TestReceiver probe;  // take a free port, then close it
    port = probe.port();
  }
  auto config = Config(ChannelType::kWebhook, "http://127.0.0.1:" + std::to_string(port) + "/x");
  WebhookAdapter ch(config);
  const auto plan =
      ch.PlanFor(MakeEvent(EventKind::kRaised, 2), [](const std::string&) { return false; });
  auto result = std::async(std::launch::async, [&] { return ch.Deliver(plan.deliveries.at(0)); });
  std::this_thread::sleep_for(1000ms);
  ch.RequestStop();
  const auto out = result.get();
  EXPECT_EQ(out.result, DeliveryResult::kStopped);
  EXPECT_GE(out.attempts, 2);
  EXPECT_EQ(out.last_status, 0);
  EXPECT_FALSE(out.last_error.empty());
}

}  // namespace
}  // namespace floodwarn::alerting
