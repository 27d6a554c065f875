// The alert engine on a real AlertStore (SQLite on a temp file) with a fake
// clock: lifecycle with hysteresis, dedup, station health, inhibition,
// escalation, silences (four-eyes), manual alerts, modes, forecasts, restart,
// audit, and a failed commit that is derived again.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_support.hpp"

namespace fa = floodwarn::alerting;
namespace fi = floodwarn::ingest;
using fa::AlertEvent;
using fa::Condition;
using fa::Duration;
using fa::EventKind;
using fa::TimePoint;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

const TimePoint kT0{std::chrono::seconds(1795334400)};  // 2026-11-22T08:00:00Z

const char* kBase = R"(
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

[[stations]]
id = "g2"
name = "Pegel Oberdorf"
area = "town"
quantity = "water_level"
unit = "cm"
expected_interval = "15m"
stale_after = "45m"

[[stations]]
id = "r1"
name = "Regen Talstadt"
area = "town"
quantity = "rainfall"
unit = "mm"
expected_interval = "1h"
stale_after = "3h"

[[stations]]
id = "r2"
name = "Regen Oberdorf"
area = "town"
quantity = "rainfall"
unit = "mm"
expected_interval = "1h"
stale_after = "3h"
)";

// A water-level rule with Meldestufen 1..3.
std::string LevelRule(const std::string& id, const std::string& station,
                      const std::string& min_time_above, const std::string& min_dwell) {
  return "\n[[rules]]\nid = \"" + id + "\"\nkind = \"water_level\"\nstation = \"" + station +
         "\"\nmin_time_above = \"" + min_time_above + "\"\nmin_dwell = \"" + min_dwell +
         "\"\nlevels = [\n"
         "  { level = 1, rising = 300, falling = 280, label = \"Meldestufe 1\" },\n"
         "  { level = 2, rising = 400, falling = 380, label = \"Meldestufe 2\" },\n"
         "  { level = 3, rising = 500, falling = 480, label = \"Meldestufe 3\" },\n]\n";
}

// A forecast rule for the underpass: levels 2 and 3, a 2 h lead time.
const std::string kUnderpassRule = R"(
[[rules]]
id = "underpass"
kind = "forecast_depth"
target = "underpass"
area = "town"
lead_time = "2h"
min_dwell = "30m"
levels = [
  { level = 2, rising = 0.10, falling = 0.05, label = "Wasser in der Unterführung" },
  { level = 3, rising = 0.30, falling = 0.20, label = "Unterführung unpassierbar" },
]
)";

// serve's forecast loop feeds forecasts through AlertEngine::OnForecast;
// this fake stands in for it: a run is a map target -> (lead, depth) pairs.
class FakeForecastProducer {
 public:
  explicit FakeForecastProducer(fa::AlertEngine& engine) : engine_(engine) {}
  void Publish(const std::string& run_id, TimePoint issued,
               const std::map<std::string, std::vector<std::pair<Duration, double>>>& depths) {
    fa::ForecastBatch b;
    b.run_id = run_id;
    b.issued = issued;
    for (const auto& [target, series] : depths)
      for (const auto& [lead, depth] : series) b.values.push_back({target, issued + lead, depth});
    engine_.OnForecast(b);
  }

 private:
  fa::AlertEngine& engine_;
};

class EngineTest : public ::testing::Test {
 protected:
  // Escalation is off unless a test asks for it (its events would crowd the others).
  void Start(const std::string& rules,
             const std::string& engine_section = "[engine]\nescalation_after = \"off\"\n") {
    cfg_ = fa::ParseRulesConfig(engine_section + kBase + rules, "engine_test.toml");
    if (!store_) store_ = std::make_unique<fa::AlertStore>(dir_ + "/alerts.db");
    engine_ = std::make_unique<fa::AlertEngine>(cfg_, *store_, profile_, [this] { return now_; });
    engine_->AddCommitListener([this](const std::vector<AlertEvent>& ev) {
      for (const auto& e : ev) events_.push_back(e);
    });
  }
  void At(Duration offset) { now_ = kT0 + offset; }
  static fi::Reading MakeReading(const std::string& station, double value, Duration offset,
                                 fi::QcFlag flag = fi::QcFlag::kPass) {
    fi::Reading r;
    r.station_id = station;
    r.observed = kT0 + offset;
    r.received = kT0 + offset;
    r.value = value;
    r.unit = station[0] == 'r' ? "mm" : "cm";
    r.quantity = station[0] == 'r' ? fi::Quantity::kRainfall : fi::Quantity::kWaterLevel;
    r.flag = flag;
    return r;
  }
  void Reading(const std::string& station, double value, Duration offset,
               fi::QcFlag flag = fi::QcFlag::kPass) {
    At(offset);
    engine_->OnReading(MakeReading(station, value, offset, flag));
  }
  void Tick(Duration offset) {
    At(offset);
    engine_->Tick();
  }
  // Events committed since the last call.
  std::vector<AlertEvent> Take() {
    std::vector<AlertEvent> out;
    out.swap(events_);
    return out;
  }
  static std::vector<AlertEvent> Only(const std::vector<AlertEvent>& ev, EventKind k) {
    std::vector<AlertEvent> out;
    for (const auto& e : ev)
      if (e.kind == k) out.push_back(e);
    return out;
  }
  static std::vector<AlertEvent> For(const std::vector<AlertEvent>& ev, const std::string& id) {
    std::vector<AlertEvent> out;
    for (const auto& e : ev)
      if (e.alert.id == id) out.push_back(e);
    return out;
  }
  fa::AlertEngine::SubjectStatus StatusOf(const std::string& rule, const std::string& subject) {
    for (const auto& s : engine_->Status())
      if (s.rule_id == rule && s.subject == subject) return s;
    ADD_FAILURE() << "no status for " << rule << "/" << subject;
    return {};
  }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    for (const auto& e : store_->ReadAudit(0, 100000)) out.push_back(e.action);
    return out;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::string dir_ = floodwarn::testing::MakeTempDir("engine_test");
  fa::RulesConfig cfg_;
  fa::CapProfile profile_;
  std::unique_ptr<fa::AlertStore> store_;
  std::unique_ptr<fa::AlertEngine> engine_;
  TimePoint now_ = kT0;
  std::vector<AlertEvent> events_;
};

}  // namespace

TEST_F(EngineTest, HysteresisMinTimeAboveAndDwell) {
  Start(LevelRule("ms", "g1", "15m", "1h"));
  Reading("g1", 400, minutes(0));  // meets level 2: pending for 15 min
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kRaised);
  EXPECT_NE(StatusOf("ms", "g1").reason.find("pending level 2"), std::string::npos)
      << StatusOf("ms", "g1").reason;
  Tick(minutes(10));
  EXPECT_TRUE(Take().empty());
  EXPECT_TRUE(engine_->ListActive({}).empty());

  Reading("g1", 405, minutes(15));  // held for min_time_above: raised at level 2
  auto ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kRaised);
  EXPECT_EQ(ev[0].alert.level, 2);
  EXPECT_EQ(ev[0].alert.state, fa::AlertState::kActive);
  EXPECT_EQ(ev[0].alert.rule_id, "ms");
  EXPECT_EQ(ev[0].alert.subject, "g1");
  EXPECT_EQ(ev[0].alert.area.id, "town");
  EXPECT_GT(ev[0].sequence, 0u);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Alert</msgType>"), std::string::npos);
  EXPECT_EQ(ev[0].cap_xml.find("<references>"), std::string::npos);
  ASSERT_EQ(ev[0].alert.messages.size(), 1u);
  EXPECT_EQ(ev[0].alert.messages[0].identifier, ev[0].cap_identifier);
  EXPECT_TRUE(fa::CheckCapRules(ev[0].cap_xml).empty());
  const std::string id = ev[0].alert.id;
  const std::string raise_ident = ev[0].cap_identifier;

  Reading("g1", 395, minutes(30));  // below 400 but above the falling 380: stays 2
  Reading("g1", 375, minutes(45));  // below 380: the dwell starts
  Reading("g1", 385, minutes(60));  // back above 380: the dwell is reset
  Reading("g1", 370, minutes(75));  // below again
  Reading("g1", 370, minutes(90));
  Reading("g1", 370, minutes(105));
  Reading("g1", 370, minutes(120));  // 45 min below: still level 2
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(engine_->GetAlert(id)->level, 2);

  Reading("g1", 370, minutes(135));  // 60 min below 380 (but above 280): Update to 1
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kUpdated);
  EXPECT_EQ(ev[0].alert.id, id);
  EXPECT_EQ(ev[0].alert.level, 1);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Update</msgType>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("<references>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find(raise_ident), std::string::npos);
  EXPECT_NE(ev[0].cap_identifier, raise_ident);
  ASSERT_EQ(ev[0].alert.messages.size(), 2u);
  EXPECT_EQ(ev[0].alert.messages[0].identifier, raise_ident);
  const std::string update_ident = ev[0].cap_identifier;

  // One good reading never clears: the dwell applies to the all-clear too.
  for (int m = 150; m <= 195; m += 15) Reading("g1", 250, minutes(m));
  EXPECT_TRUE(Take().empty());
  Reading("g1", 250, minutes(210));
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kResolved);
  EXPECT_EQ(ev[0].alert.state, fa::AlertState::kResolved);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Cancel</msgType>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("AllClear"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find(raise_ident), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find(update_ident), std::string::npos);
  ASSERT_EQ(ev[0].alert.messages.size(), 3u);
  EXPECT_TRUE(engine_->ListActive({}).empty());
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kClear);

  // Everything the listener got is what the store committed, in order.
  const auto stored = store_->ReadEvents(0, 100);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].kind, EventKind::kRaised);
  EXPECT_EQ(stored[1].kind, EventKind::kUpdated);
  EXPECT_EQ(stored[2].kind, EventKind::kResolved);
  EXPECT_EQ(store_->LoadOpenAlerts().size(), 0u);
  EXPECT_EQ(store_->GetAlert(id)->state, fa::AlertState::kResolved);
  const auto actions = AuditActions();
  for (const char* a : {"pending", "raise", "downgrade", "resolve"})
    EXPECT_TRUE(Has(actions, a)) << a;
  EXPECT_EQ(store_->VerifyAuditChain(), 0u);
}

TEST_F(EngineTest, PendingThatEndsRaisesNothing) {
  Start(LevelRule("ms", "g1", "15m", "0s"));
  Reading("g1", 420, minutes(0));
  Reading("g1", 250, minutes(10));  // dropped before the 15 min were up
  Tick(minutes(30));
  Reading("g1", 260, minutes(30));
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kClear);
  const auto actions = AuditActions();
  EXPECT_TRUE(Has(actions, "pending"));
  EXPECT_TRUE(Has(actions, "pending-cleared"));
}

TEST_F(EngineTest, DedupAndOutOfOrderReadings) {
  Start(LevelRule("ms", "g1", "0s", "30m"));
  Reading("g1", 410, minutes(0));
  ASSERT_EQ(Only(Take(), EventKind::kRaised).size(), 1u);
  for (int m = 15; m <= 60; m += 15) Reading("g1", 410 + m, minutes(m));
  EXPECT_TRUE(Take().empty());  // same level: nothing new
  // An old reading arrives late (observed before the latest): no re-raise, no change.
  fi::Reading late;
  late.station_id = "g1";
  late.observed = kT0 + minutes(50);
  late.value = 200;
  late.unit = "cm";
  late.flag = fi::QcFlag::kPass;
  engine_->OnReading(late);
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(engine_->ListActive({})[0].level, 2);
  // Failed and missing readings are never used; the same value in metres is.
  Reading("g1", 100, minutes(75), fi::QcFlag::kFail);
  Reading("g1", 100, minutes(76), fi::QcFlag::kMissing);
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(StatusOf("ms", "g1").level, 2);
  At(minutes(90));
  fi::Reading metres = late;
  metres.observed = now_;
  metres.value = 5.2;
  metres.unit = "m";
  engine_->OnReading(metres);
  const auto ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kUpdated);
  EXPECT_EQ(ev[0].alert.level, 3);
  EXPECT_DOUBLE_EQ(ev[0].alert.value, 520.0);
  // Counted, not only logged.
  Reading("nowhere", 100, minutes(91));
  const auto st = engine_->stats();
  EXPECT_EQ(st.readings_used, 7u);  // 5 in order, the late one, the one in metres
  EXPECT_EQ(st.readings_out_of_order, 1u);
  EXPECT_EQ(st.readings_ignored_flag, 2u);
  EXPECT_EQ(st.readings_ignored_station, 1u);
  EXPECT_EQ(st.commit_failures, 0u);
  EXPECT_EQ(st.commits, 2u);  // the raise and the upgrade
}

TEST_F(EngineTest, StaleStationIsUnknownNotAllClear) {
  Start(LevelRule("ms", "g1", "0s", "1h"));
  Reading("g1", 410, minutes(0));
  const auto raised = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  const std::string id = raised[0].alert.id;

  At(minutes(20));
  fi::StationHealthEvent h;
  h.station_id = "g1";
  h.health = fi::StationHealth::kStale;
  h.at = now_;
  h.reason = "no reading for 47 min";
  engine_->OnStationHealth(h);
  auto ev = Take();
  const auto outage = Only(ev, EventKind::kRaised);
  ASSERT_EQ(outage.size(), 1u);
  EXPECT_EQ(outage[0].alert.kind, fa::RuleKind::kSensorOutage);
  EXPECT_EQ(outage[0].alert.subject, "g1");
  EXPECT_EQ(outage[0].alert.level, 2);
  EXPECT_FALSE(outage[0].cap_xml.empty());
  const auto sup = Only(ev, EventKind::kSuppressed);
  ASSERT_EQ(sup.size(), 1u);
  EXPECT_EQ(sup[0].alert.id, id);
  EXPECT_NE(sup[0].note.find("sensor outage"), std::string::npos);
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kUnknown);
  EXPECT_EQ(StatusOf("ms", "g1").level, 2);  // the level it holds, shown as unknown

  // Hours of silence from the gauge: never an all-clear for the threshold alert.
  for (int m = 30; m <= 300; m += 30) Tick(minutes(m));
  ev = Take();
  EXPECT_TRUE(Only(ev, EventKind::kResolved).empty());
  ASSERT_TRUE(engine_->GetAlert(id).has_value());
  EXPECT_EQ(engine_->GetAlert(id)->state, fa::AlertState::kActive);
  EXPECT_TRUE(engine_->GetAlert(id)->suppressed);
  EXPECT_EQ(engine_->GetAlert(id)->level, 2);

  // Back: the outage is resolved, the threshold alert unsuppressed, and the
  // rule waits for a reading (still unknown, still level 2).
  At(minutes(301));
  h.health = fi::StationHealth::kOk;
  h.at = now_;
  engine_->OnStationHealth(h);
  ev = Take();
  ASSERT_EQ(Only(ev, EventKind::kResolved).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kResolved)[0].alert.kind, fa::RuleKind::kSensorOutage);
  ASSERT_EQ(Only(ev, EventKind::kUnsuppressed).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kUnsuppressed)[0].alert.id, id);
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kUnknown);
  // A low reading starts the dwell from now, not from before the outage.
  Reading("g1", 250, minutes(302));
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kClear);
  EXPECT_TRUE(Only(Take(), EventKind::kResolved).empty());
  for (int m = 317; m <= 347; m += 15) Reading("g1", 250, minutes(m));
  EXPECT_TRUE(Only(Take(), EventKind::kResolved).empty());
  Reading("g1", 250, minutes(362));
  ASSERT_EQ(Only(Take(), EventKind::kResolved).size(), 1u);
  EXPECT_TRUE(Has(AuditActions(), "station-health"));
}

TEST_F(EngineTest, TickDetectsStaleStationsItself) {
  Start(LevelRule("ms", "g1", "0s", "0s"));
  Reading("g1", 250, minutes(0));
  Tick(minutes(45));  // exactly stale_after: not yet
  EXPECT_TRUE(Take().empty());
  Tick(minutes(46));
  // g2 never reported since the start either: it is stale too (r1 has 3 h).
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 2u);
  if (ev[0].alert.subject != "g1") std::swap(ev[0], ev[1]);
  EXPECT_EQ(ev[0].alert.subject, "g1");
  EXPECT_EQ(ev[1].alert.subject, "g2");
  EXPECT_EQ(ev[0].alert.kind, fa::RuleKind::kSensorOutage);
  EXPECT_NE(ev[0].alert.reason.find("no usable reading"), std::string::npos);
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kUnknown);
  // Stations nobody reports for are stale too (g2, r1 have no readings at all).
  Tick(minutes(50));
  Reading("g1", 250, minutes(50));  // a fresh reading ends the staleness
  ev = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.subject, "g1");
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kClear);
}

TEST_F(EngineTest, HigherLevelInhibitsLowerForTheSameSubject) {
  Start(LevelRule("ms", "g1", "0s", "1h") + R"(
[[rules]]
id = "rise"
kind = "rate_of_rise"
station = "g1"
window = "15m"
min_dwell = "1h"
levels = [{ level = 3, rising = 40, falling = 20, label = "sehr schneller Anstieg" }]
)");
  Reading("g1", 360, minutes(0));
  EXPECT_EQ(StatusOf("rise", "g1").condition, Condition::kUnknown);  // no 15 min history yet
  Reading("g1", 410, minutes(15));  // level 2 and a rise of 50 cm in 15 min (level 3)
  const auto ev = Take();
  const auto raised = Only(ev, EventKind::kRaised);
  ASSERT_EQ(raised.size(), 2u);
  std::string ms_id, rise_id;
  for (const auto& e : raised) (e.alert.rule_id == "ms" ? ms_id : rise_id) = e.alert.id;
  ASSERT_FALSE(ms_id.empty());
  ASSERT_FALSE(rise_id.empty());
  const auto sup = Only(ev, EventKind::kSuppressed);
  ASSERT_EQ(sup.size(), 1u);
  EXPECT_EQ(sup[0].alert.id, ms_id);
  EXPECT_NE(sup[0].note.find(rise_id), std::string::npos);
  // The level-2 message of the same step already says it is inhibited (the
  // ms alert was raised at level 1 by the first reading: 360 >= 300).
  const auto upd = Only(ev, EventKind::kUpdated);
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(upd[0].alert.id, ms_id);
  EXPECT_EQ(upd[0].alert.level, 2);
  EXPECT_TRUE(upd[0].alert.suppressed);
  for (const auto& e : raised) EXPECT_FALSE(e.alert.suppressed) << e.alert.rule_id;
  EXPECT_TRUE(engine_->GetAlert(ms_id)->suppressed);
  EXPECT_FALSE(engine_->GetAlert(rise_id)->suppressed);
  EXPECT_DOUBLE_EQ(engine_->GetAlert(rise_id)->value, 50.0);
  // The rise stops; after its dwell the rate alert clears and the level-2
  // alert is no longer inhibited.
  for (int m = 30; m <= 75; m += 15) Reading("g1", 410, minutes(m));
  EXPECT_TRUE(Take().empty());
  Reading("g1", 410, minutes(90));
  const auto ev2 = Take();
  ASSERT_EQ(Only(ev2, EventKind::kResolved).size(), 1u);
  EXPECT_EQ(Only(ev2, EventKind::kResolved)[0].alert.id, rise_id);
  ASSERT_EQ(Only(ev2, EventKind::kUnsuppressed).size(), 1u);
  EXPECT_EQ(Only(ev2, EventKind::kUnsuppressed)[0].alert.id, ms_id);
}

TEST_F(EngineTest, EscalationOnceWhenNotAcknowledged) {
  Start(LevelRule("ms", "g1", "0s", "1h") + LevelRule("ms2", "g2", "0s", "1h"),
        "[engine]\nescalation_after = \"30m\"\nescalation_channel = \"oncall\"\n");
  Reading("g1", 410, minutes(0));
  Reading("g2", 410, minutes(0));
  std::string g1_id, g2_id;
  for (const auto& e : Only(Take(), EventKind::kRaised))
    (e.alert.subject == "g1" ? g1_id : g2_id) = e.alert.id;
  At(minutes(10));
  const auto ack = engine_->Acknowledge(g2_id, "alice", "Feuerwehr informiert");
  ASSERT_TRUE(ack.ok()) << ack.error.message;
  EXPECT_EQ(ack.value->state, fa::AlertState::kAcknowledged);
  EXPECT_EQ(ack.value->ack->by, "alice");
  EXPECT_EQ(engine_->Acknowledge(g2_id, "bob", "").error.code, fa::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Acknowledge("nope", "bob", "").error.code, fa::ErrorCode::kNotFound);
  ASSERT_EQ(Only(Take(), EventKind::kAcknowledged).size(), 1u);

  Reading("g1", 410, minutes(15));
  Reading("g2", 410, minutes(15));
  Tick(minutes(29));
  EXPECT_TRUE(Only(Take(), EventKind::kEscalated).empty());
  Tick(minutes(30));
  auto esc = Only(Take(), EventKind::kEscalated);
  ASSERT_EQ(esc.size(), 1u);  // g1 only: g2 was acknowledged
  EXPECT_EQ(esc[0].alert.id, g1_id);
  EXPECT_TRUE(esc[0].alert.escalated);
  EXPECT_NE(esc[0].note.find("channel=oncall"), std::string::npos);
  for (int m = 31; m <= 40; ++m) Tick(minutes(m));
  Reading("g1", 410, minutes(40));
  EXPECT_TRUE(For(Only(Take(), EventKind::kEscalated), g1_id).empty());  // exactly one
  // An upgrade is new information: it needs a new acknowledgement and escalates again.
  Reading("g2", 510, minutes(45));
  auto up = Only(Take(), EventKind::kUpdated);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].alert.state, fa::AlertState::kActive);
  EXPECT_FALSE(up[0].alert.ack.has_value());
  Reading("g2", 510, minutes(60));
  Tick(minutes(74));
  EXPECT_TRUE(For(Only(Take(), EventKind::kEscalated), g2_id).empty());
  Reading("g2", 510, minutes(75));
  EXPECT_EQ(For(Only(Take(), EventKind::kEscalated), g2_id).size(), 1u);
  const auto actions = AuditActions();
  EXPECT_TRUE(Has(actions, "acknowledge"));
  EXPECT_TRUE(Has(actions, "escalate"));
  EXPECT_TRUE(Has(actions, "upgrade"));
}

TEST_F(EngineTest, SilencesAndFourEyes) {
  Start(LevelRule("ms", "g1", "0s", "1h") + LevelRule("ms2", "g2", "0s", "1h"));
  Reading("g1", 510, minutes(0));  // level 3
  Reading("g2", 410, minutes(0));  // level 2
  std::string l3, l2;
  for (const auto& e : Only(Take(), EventKind::kRaised))
    (e.alert.level == 3 ? l3 : l2) = e.alert.id;

  fa::SilenceRequest req;
  req.alert_id = l3;
  req.reason = "Pegel wird gewartet";
  req.expires = now_ + hours(2);
  At(minutes(5));
  auto s = engine_->AddSilence(req, "alice");
  ASSERT_TRUE(s.ok()) << s.error.message;
  EXPECT_TRUE(s.value->needs_approval);
  EXPECT_FALSE(engine_->GetAlert(l3)->silenced);  // one person alone cannot silence level 3
  const auto self = engine_->ApproveSilence(s.value->id, "alice");
  EXPECT_EQ(self.error.code, fa::ErrorCode::kPermissionDenied);
  EXPECT_FALSE(engine_->GetAlert(l3)->silenced);
  Take();
  const auto approved = engine_->ApproveSilence(s.value->id, "bob");
  ASSERT_TRUE(approved.ok()) << approved.error.message;
  EXPECT_EQ(approved.value->approved_by, "bob");
  EXPECT_TRUE(engine_->GetAlert(l3)->silenced);
  auto ev = Take();
  ASSERT_EQ(Only(ev, EventKind::kSilenceChanged).size(), 1u);
  ASSERT_EQ(Only(ev, EventKind::kSuppressed).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kSuppressed)[0].alert.id, l3);

  // Level 2: one person is enough.
  fa::SilenceRequest req2;
  req2.station_id = "g2";
  req2.reason = "Baustelle am Pegel";
  req2.expires = now_ + hours(1);
  auto s2 = engine_->AddSilence(req2, "alice");
  ASSERT_TRUE(s2.ok()) << s2.error.message;
  EXPECT_FALSE(s2.value->needs_approval);
  EXPECT_TRUE(engine_->GetAlert(l2)->silenced);
  Take();
  // ... until it becomes level 3: the silence then needs a second person and
  // stops muting the alert.
  Reading("g1", 510, minutes(15));
  Reading("g2", 520, minutes(15));
  ev = Take();
  EXPECT_EQ(Only(ev, EventKind::kUpdated).size(), 1u);
  ASSERT_EQ(Only(ev, EventKind::kUnsuppressed).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kUnsuppressed)[0].alert.id, l2);
  EXPECT_FALSE(engine_->GetAlert(l2)->silenced);
  bool found = false;
  for (const auto& sil : engine_->ListSilences())
    if (sil.id == s2.value->id) {
      found = true;
      EXPECT_TRUE(sil.needs_approval);
    }
  EXPECT_TRUE(found);

  // Expiry: the level-3 silence ends after 2 h.
  for (int m = 30; m <= 105; m += 15) {
    Reading("g1", 510, minutes(m));
    Reading("g2", 520, minutes(m));
  }
  Take();
  Tick(minutes(126));
  ev = Take();
  EXPECT_FALSE(engine_->GetAlert(l3)->silenced);
  EXPECT_EQ(For(Only(ev, EventKind::kUnsuppressed), l3).size(), 1u);
  EXPECT_GE(Only(ev, EventKind::kSilenceChanged).size(), 1u);
  for (const auto& sil : engine_->ListSilences()) EXPECT_NE(sil.id, s.value->id);

  // Bad requests.
  fa::SilenceRequest bad;
  bad.alert_id = l3;
  bad.station_id = "g1";
  bad.reason = "x";
  bad.expires = now_ + hours(1);
  EXPECT_EQ(engine_->AddSilence(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);
  bad.station_id.clear();
  bad.reason.clear();
  EXPECT_EQ(engine_->AddSilence(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);
  bad.reason = "x";
  bad.expires = now_ - minutes(1);
  EXPECT_EQ(engine_->AddSilence(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);
  const auto actions = AuditActions();
  for (const char* a : {"silence-created", "silence-approve-denied", "silence-approved",
                        "silence-needs-approval", "silence-expired", "silenced", "unsilenced"})
    EXPECT_TRUE(Has(actions, a)) << a;
  EXPECT_EQ(store_->VerifyAuditChain(), 0u);
}

TEST_F(EngineTest, ManualAlertsIssueUpdateResolve) {
  Start(LevelRule("ms", "g1", "0s", "1h"));
  fa::ManualAlertRequest req;
  req.subject = "deich-nord";
  req.level = 3;
  req.area_id = "town";
  req.headline_de = "Deichbruchgefahr am Norddeich";
  req.headline_en = "Risk of dike breach at the north dike";
  req.instruction_de = "Unterstadt sofort verlassen.";
  auto a = engine_->IssueManual(req, "alice");
  ASSERT_TRUE(a.ok()) << a.error.message;
  EXPECT_EQ(a.value->kind, fa::RuleKind::kManual);
  EXPECT_EQ(a.value->rule_id, "manual");
  EXPECT_EQ(a.value->state, fa::AlertState::kActive);
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].actor, "alice");
  EXPECT_NE(ev[0].cap_xml.find("Deichbruchgefahr am Norddeich"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("<status>Actual</status>"), std::string::npos);

  // The same subject again is an Update of the same alert.
  req.level = 4;
  At(minutes(5));
  auto b = engine_->IssueManual(req, "bob");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value->id, a.value->id);
  ev = Only(Take(), EventKind::kUpdated);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Update</msgType>"), std::string::npos);

  // Bad requests.
  fa::ManualAlertRequest bad = req;
  bad.level = 5;
  EXPECT_EQ(engine_->IssueManual(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);
  bad = req;
  bad.area_id = "mars";
  EXPECT_EQ(engine_->IssueManual(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);
  bad = req;
  bad.subject.clear();
  EXPECT_EQ(engine_->IssueManual(bad, "alice").error.code, fa::ErrorCode::kInvalidArgument);

  // Rule alerts are not resolved by hand.
  Reading("g1", 410, minutes(10));
  const std::string rule_alert = Only(Take(), EventKind::kRaised).at(0).alert.id;
  EXPECT_EQ(engine_->ResolveManual(rule_alert, "alice", "").error.code,
            fa::ErrorCode::kFailedPrecondition);

  At(minutes(30));
  auto r = engine_->ResolveManual(a.value->id, "carol", "Deich gesichert");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.value->state, fa::AlertState::kResolved);
  ev = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Cancel</msgType>"), std::string::npos);
  EXPECT_EQ(ev[0].alert.messages.size(), 3u);
  for (const auto& x : engine_->ListActive({})) EXPECT_NE(x.id, a.value->id);
  fa::AlertFilter all;
  all.include_resolved = true;
  bool found = false;
  for (const auto& x : engine_->ListActive(all)) found = found || x.id == a.value->id;
  EXPECT_TRUE(found);
  const auto actions = AuditActions();
  for (const char* x : {"manual-issue", "manual-update", "manual-resolve"})
    EXPECT_TRUE(Has(actions, x)) << x;

  // A Test message from an operator in an actual system.
  fa::ManualAlertRequest test = req;
  test.subject = "probealarm";
  test.mode = fa::Mode::kTest;
  auto t = engine_->IssueManual(test, "alice");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value->mode, fa::Mode::kTest);
  EXPECT_NE(Only(Take(), EventKind::kRaised).at(0).cap_xml.find("<status>Test</status>"),
            std::string::npos);
}

TEST_F(EngineTest, ExerciseModeStampsEveryAlert) {
  Start(LevelRule("ms", "g1", "0s", "0s"),
        "[engine]\nmode = \"exercise\"\nexercise_id = \"LUEKEX-2026\"\n");
  Reading("g1", 410, minutes(0));
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.mode, fa::Mode::kExercise);
  EXPECT_NE(ev[0].cap_xml.find("<status>Exercise</status>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("LUEKEX-2026"), std::string::npos);
  // An operator cannot send Actual from an exercise system.
  fa::ManualAlertRequest req;
  req.subject = "x";
  req.level = 2;
  req.area_id = "town";
  req.headline_de = "Übung";
  req.mode = fa::Mode::kActual;
  auto m = engine_->IssueManual(req, "alice");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m.value->mode, fa::Mode::kExercise);
  // Outage alerts too, and the all-clear.
  Reading("g1", 250, minutes(15));
  ev = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].cap_xml.find("<status>Exercise</status>"), std::string::npos);
  Tick(minutes(61));
  ev = Only(Take(), EventKind::kRaised);
  ASSERT_FALSE(ev.empty());
  for (const auto& e : ev) EXPECT_EQ(e.alert.mode, fa::Mode::kExercise);
}

TEST_F(EngineTest, RainfallRuleUsesDwdClassesAndGapsAreUnknown) {
  Start("\n[[rules]]\nid = \"rain\"\nkind = \"rainfall\"\nstation = \"r1\"\n");
  Reading("r1", 0.0, hours(0));
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kUnknown);  // no 6 h yet
  for (int h = 1; h <= 5; ++h) Reading("r1", 0.0, hours(h));
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kClear);
  Reading("r1", 25.1, hours(6));  // > 25 mm in 1 h: DWD level 3
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.level, 3);
  EXPECT_EQ(ev[0].alert.kind, fa::RuleKind::kRainfall);
  EXPECT_DOUBLE_EQ(ev[0].alert.value, 25.1);
  EXPECT_DOUBLE_EQ(ev[0].alert.threshold, 25.0);
  // A missing hour: the rule says unknown (not clear) and the alert stays.
  Reading("r1", 0.0, hours(8));
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kUnknown);
  EXPECT_TRUE(Only(Take(), EventKind::kResolved).empty());
}

TEST_F(EngineTest, ForecastRuleWithFakeProducer) {
  Start(kUnderpassRule);
  FakeForecastProducer producer(*engine_);
  At(minutes(0));
  // Deep water only beyond the lead time: nothing.
  producer.Publish("run-1", now_,
                   {{"underpass", {{minutes(60), 0.04}, {minutes(150), 0.50}}},
                    {"school", {{minutes(60), 0.9}}}});
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(StatusOf("underpass", "underpass").condition, Condition::kClear);
  At(minutes(15));
  producer.Publish("run-2", now_, {{"underpass", {{minutes(30), 0.12}, {minutes(90), 0.35}}}});
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.kind, fa::RuleKind::kForecastDepth);
  EXPECT_EQ(ev[0].alert.level, 3);
  EXPECT_DOUBLE_EQ(ev[0].alert.value, 0.35);
  // Onset: when run-2 expects the level-3 threshold (0.30 m): +90 min from
  // its issue time, not the first value (0.12 m at +30 min, level 2 only).
  EXPECT_EQ(ev[0].alert.onset, kT0 + minutes(15) + minutes(90));
  EXPECT_NE(ev[0].cap_xml.find("<onset>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("<certainty>Likely</certainty>"), std::string::npos);
  EXPECT_NE(ev[0].cap_xml.find("<urgency>Expected</urgency>"), std::string::npos);
  // An older run arriving late changes nothing.
  producer.Publish("run-0", kT0 - minutes(15), {{"underpass", {{minutes(30), 0.0}}}});
  EXPECT_TRUE(Take().empty());
  // No new forecast for longer than max_age (= lead time): unknown, alert kept.
  Tick(minutes(15) + hours(2) + minutes(1));
  EXPECT_EQ(StatusOf("underpass", "underpass").condition, Condition::kUnknown);
  EXPECT_TRUE(Only(Take(), EventKind::kResolved).empty());
  // Forecast falls: after the dwell it clears.
  At(hours(3));
  producer.Publish("run-3", now_, {{"underpass", {{minutes(30), 0.01}}}});
  At(hours(3) + minutes(30));
  producer.Publish("run-4", now_, {{"underpass", {{minutes(30), 0.01}}}});
  ev = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].cap_xml.find("AllClear"), std::string::npos);
}

// Issue #12: a forecast that does not come (a cycle late, failed, without
// forcing, or no cycle at all) makes the forecast rules "unknown" with the
// reason and raises ONE operational alert (never a siren: channels test),
// keeps the forecast alert it had, lets observed-level warnings go on, and
// the next forecast resolves the outage without a second forecast alert.
TEST_F(EngineTest, ForecastOutageIsUnknownPlusOneOperationalAlert) {
  Start(kUnderpassRule + LevelRule("ms", "g1", "0s", "0s"));
  FakeForecastProducer producer(*engine_);
  At(minutes(0));
  producer.Publish("run-1", now_, {{"underpass", {{minutes(40), 0.35}}}});
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  const std::string forecast_alert = ev[0].alert.id;
  // "... at 08:40, in 40 min": the onset and the lead time in the headline.
  EXPECT_NE(ev[0].cap_xml.find("at 08:40, in 40 min"), std::string::npos) << ev[0].cap_xml;

  At(minutes(5));
  engine_->OnForecastUnavailable("run-2", now_, "blow-up at t = 1200 s in cell (3, 4)");
  const auto status = StatusOf("underpass", "underpass");
  EXPECT_EQ(status.condition, Condition::kUnknown);
  EXPECT_NE(status.reason.find("blow-up at t = 1200 s"), std::string::npos) << status.reason;
  ev = Take();
  auto raised = Only(ev, EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  const fa::Alert& outage = raised[0].alert;
  EXPECT_EQ(outage.kind, fa::RuleKind::kForecastOutage);
  EXPECT_EQ(outage.rule_id, "forecast_outage");
  EXPECT_EQ(outage.area.id, "town");
  EXPECT_NE(outage.reason.find("run-2"), std::string::npos) << outage.reason;
  EXPECT_NE(raised[0].cap_xml.find("<category>Infra</category>"), std::string::npos);
  EXPECT_NE(raised[0].cap_xml.find("Flood forecast unavailable"), std::string::npos);
  EXPECT_TRUE(Only(ev, EventKind::kResolved).empty()) << "unknown is not all clear";
  EXPECT_EQ(engine_->ListActive({}).size(), 2u);

  // A second failed cycle: the same outage, no second alert.
  At(minutes(10));
  engine_->OnForecastUnavailable("run-3", now_, "forcing gauge river_q stale");
  EXPECT_TRUE(Only(Take(), EventKind::kRaised).empty());
  EXPECT_NE(StatusOf("underpass", "underpass").reason.find("river_q stale"), std::string::npos);

  // Observed-level warnings go on during the outage.
  Reading("g1", 410, minutes(12));
  raised = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alert.kind, fa::RuleKind::kWaterLevel);

  // A forecast again: the outage is resolved, the forecast alert continues
  // (still level 3: no new message for it).
  At(minutes(15));
  producer.Publish("run-4", now_, {{"underpass", {{minutes(30), 0.36}}}});
  ev = Take();
  auto resolved = Only(ev, EventKind::kResolved);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].alert.kind, fa::RuleKind::kForecastOutage);
  EXPECT_NE(resolved[0].cap_xml.find("Flood forecast available again"), std::string::npos);
  EXPECT_TRUE(Only(ev, EventKind::kRaised).empty());
  EXPECT_EQ(StatusOf("underpass", "underpass").condition, Condition::kRaised);
  bool still_open = false;
  for (const auto& a : engine_->ListActive({})) still_open |= a.id == forecast_alert;
  EXPECT_TRUE(still_open);

  // A loop that stops giving anything: no forecast for longer than expected
  // is an outage too.
  engine_->ExpectForecasts(minutes(20));
  Tick(minutes(30));
  EXPECT_TRUE(Only(Take(), EventKind::kRaised).empty());
  Tick(minutes(36));
  raised = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alert.kind, fa::RuleKind::kForecastOutage);
  EXPECT_NE(raised[0].alert.reason.find("no forecast for 21m"), std::string::npos)
      << raised[0].alert.reason;

  // A restart keeps the outage open until a forecast comes.
  engine_.reset();
  Start(kUnderpassRule + LevelRule("ms", "g1", "0s", "0s"));
  Tick(minutes(40));
  EXPECT_TRUE(Only(Take(), EventKind::kResolved).empty());
  At(minutes(45));
  FakeForecastProducer(*engine_).Publish("run-9", now_, {{"underpass", {{minutes(30), 0.0}}}});
  resolved = Only(Take(), EventKind::kResolved);
  bool outage_resolved = false;
  for (const auto& e : resolved) outage_resolved |= e.alert.kind == fa::RuleKind::kForecastOutage;
  EXPECT_TRUE(outage_resolved);
}

// Without forecast rules (serve runs [forecast] for its maps and metrics
// only) a failed cycle still reaches the duty officer, with a valid CAP
// message although no rule names an area.
TEST_F(EngineTest, ForecastOutageWithoutForecastRules) {
  Start(LevelRule("ms", "g1", "0s", "0s"));
  engine_->OnForecastUnavailable("run-1", now_, "forcing gauge river_q stale");
  const auto raised = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alert.kind, fa::RuleKind::kForecastOutage);
  EXPECT_NE(raised[0].cap_xml.find("<alert"), std::string::npos);
  EXPECT_TRUE(fa::CheckCapRules(raised[0].cap_xml).empty())
      << fa::CheckCapRules(raised[0].cap_xml).front() << "\n"
      << raised[0].cap_xml;
}

TEST_F(EngineTest, RestartContinuesOpenAlerts) {
  const std::string rules = LevelRule("ms", "g1", "0s", "0s");
  Start(rules);
  Reading("g1", 410, minutes(0));
  auto raised = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  const std::string id = raised[0].alert.id;
  const std::string ident = raised[0].cap_identifier;
  At(minutes(5));
  ASSERT_TRUE(engine_->Acknowledge(id, "alice", "").ok());
  Take();
  const auto seq_before = store_->LastSequence();

  engine_.reset();  // process ends
  Start(rules);     // a new process on the same store
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(store_->LastSequence(), seq_before);
  ASSERT_EQ(engine_->ListActive({}).size(), 1u);
  EXPECT_EQ(engine_->ListActive({})[0].id, id);
  EXPECT_EQ(engine_->ListActive({})[0].state, fa::AlertState::kAcknowledged);
  Reading("g1", 412, minutes(15));  // still level 2: no second Alert message
  EXPECT_TRUE(Take().empty());
  Reading("g1", 250, minutes(30));
  auto res = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].alert.id, id);
  EXPECT_NE(res[0].cap_xml.find(ident), std::string::npos);
}

// A restart loses the in-memory timers; Preload (serve feeds it from the
// reading store) rebuilds them: a level met for 10 of its 15 minutes before
// the restart is raised 5 minutes after it, not 15.
TEST_F(EngineTest, PreloadKeepsThePendingTimerAcrossARestart) {
  const std::string rules = LevelRule("ms", "g1", "15m", "0s");
  Start(rules);
  std::vector<fi::Reading> stored;
  for (auto [value, at] :
       {std::pair{400.0, minutes(0)}, {405.0, minutes(5)}, {410.0, minutes(10)}}) {
    stored.push_back(MakeReading("g1", value, at));
    Reading("g1", value, at);
  }
  EXPECT_TRUE(Only(Take(), EventKind::kRaised).empty());  // pending
  engine_.reset();                                        // the process ends
  Start(rules);
  At(minutes(11));
  EXPECT_EQ(engine_->Preload(stored), 3u);
  EXPECT_TRUE(Take().empty());  // 11 minutes are not 15 yet
  EXPECT_NE(StatusOf("ms", "g1").reason.find("pending level 2"), std::string::npos)
      << StatusOf("ms", "g1").reason;
  Reading("g1", 412, minutes(15));
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.level, 2);
  EXPECT_EQ(ev[0].alert.first_seen, kT0);  // pending since before the restart
}

// Without the stored readings a 6-hour rain window is unknown for 6 hours
// after a restart; with them the rule goes on where it was.
TEST_F(EngineTest, PreloadRefillsTheRainWindow) {
  const std::string rules = "\n[[rules]]\nid = \"rain\"\nkind = \"rainfall\"\nstation = \"r1\"\n";
  Start(rules);
  std::vector<fi::Reading> stored;
  for (int h = 0; h <= 6; ++h) {
    const double mm = h == 6 ? 12.0 : 0.0;
    stored.push_back(MakeReading("r1", mm, hours(h)));
    Reading("r1", mm, hours(h));
  }
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kClear);  // 12 mm: below level 2
  engine_.reset();
  Start(rules);
  At(hours(6) + minutes(10));
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kUnknown);  // what a restart loses
  EXPECT_EQ(engine_->Preload(stored), 7u);
  EXPECT_EQ(StatusOf("rain", "r1").condition, Condition::kClear);
  EXPECT_TRUE(Take().empty());
  Reading("r1", 10.0, hours(7));  // 22 mm in 6 h: DWD level 2 (20-35 mm / 6 h)
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.level, 2);
  EXPECT_DOUBLE_EQ(ev[0].alert.value, 22.0);
}

// Preload never raises or resolves for the past: a flood that came and went
// before the restart leaves no messages; one that is still there is raised
// now (once).
TEST_F(EngineTest, PreloadDecidesOnlyThePresent) {
  const std::string rules = LevelRule("ms", "g1", "0s", "0s");
  Start(rules);
  At(hours(1));
  EXPECT_EQ(
      engine_->Preload({MakeReading("g1", 410, minutes(0)), MakeReading("g1", 250, minutes(30)),
                        MakeReading("g1", 240, minutes(45))}),
      3u);
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(StatusOf("ms", "g1").condition, Condition::kClear);
  EXPECT_EQ(store_->LastSequence(), 0u);

  EXPECT_EQ(
      engine_->Preload({MakeReading("g1", 420, minutes(50)), MakeReading("g1", 425, minutes(55)),
                        MakeReading("g1", 7, minutes(56), fi::QcFlag::kFail)}),
      2u);  // the failed reading is not used
  auto ev = Take();
  ASSERT_EQ(Only(ev, EventKind::kRaised).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kRaised)[0].alert.level, 2);
  EXPECT_EQ(Only(ev, EventKind::kResolved).size(), 0u);
}

TEST_F(EngineTest, FailedCommitIsDerivedAgainNotDropped) {
  Start(LevelRule("ms", "g1", "0s", "0s"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/alerts.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER test_refuse BEFORE INSERT ON outbox "
                         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  Reading("g1", 410, minutes(0));
  EXPECT_TRUE(Take().empty());
  EXPECT_TRUE(engine_->ListActive({}).empty());  // nothing installed that was not committed
  EXPECT_EQ(store_->LastSequence(), 0u);
  // Operator actions report the failure instead of pretending.
  fa::ManualAlertRequest req;
  req.subject = "x";
  req.level = 2;
  req.area_id = "town";
  req.headline_de = "x";
  EXPECT_EQ(engine_->IssueManual(req, "alice").error.code, fa::ErrorCode::kUnavailable);
  EXPECT_GE(engine_->stats().commit_failures, 2u);
  ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER test_refuse", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Tick(minutes(1));
  const auto ev = Take();
  ASSERT_EQ(Only(ev, EventKind::kRaised).size(), 1u);
  EXPECT_EQ(Only(ev, EventKind::kRaised)[0].alert.level, 2);
  EXPECT_EQ(engine_->ListActive({}).size(), 1u);
}

TEST_F(EngineTest, RainfallPerAreaTakesTheWorstKnownStation) {
  Start(
      "\n[[rules]]\nid = \"rain_town\"\nkind = \"rainfall\"\nstations = [\"r1\", \"r2\"]\n"
      "per = \"area\"\narea = \"town\"\n");
  for (int h = 0; h <= 5; ++h) Reading("r1", 0.0, hours(h));
  // r2 has sent nothing: no station raises and one is unknown -> unknown.
  EXPECT_EQ(StatusOf("rain_town", "town").condition, Condition::kUnknown);
  EXPECT_NE(StatusOf("rain_town", "town").reason.find("r2"), std::string::npos);
  Reading("r1", 41.0, hours(6));  // > 40 mm in 1 h at r1: level 4 for the whole area
  auto ev = Only(Take(), EventKind::kRaised);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].alert.subject, "town");
  EXPECT_EQ(ev[0].alert.level, 4);
  EXPECT_TRUE(ev[0].alert.station_id.empty());
  EXPECT_NE(ev[0].alert.reason.find("station r1"), std::string::npos) << ev[0].alert.reason;
  EXPECT_NE(ev[0].alert.reason.find("unknown: r2"), std::string::npos) << ev[0].alert.reason;
}

TEST_F(EngineTest, RemoveSilenceEndsItAndSurvivesRestart) {
  const std::string rules = LevelRule("ms", "g1", "0s", "1h");
  Start(rules);
  Reading("g1", 410, minutes(0));
  const std::string id = Only(Take(), EventKind::kRaised).at(0).alert.id;
  fa::SilenceRequest req;
  req.rule_id = "ms";
  req.reason = "Wartung";
  req.expires = now_ + hours(4);
  const auto s = engine_->AddSilence(req, "alice");
  ASSERT_TRUE(s.ok()) << s.error.message;
  EXPECT_TRUE(engine_->GetAlert(id)->silenced);
  // A restart keeps the silence and the silenced alert.
  engine_.reset();
  Start(rules);
  ASSERT_EQ(engine_->ListSilences().size(), 1u);
  EXPECT_TRUE(engine_->GetAlert(id)->silenced);
  Take();
  At(minutes(10));
  const auto r = engine_->RemoveSilence(s.value->id, "bob");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_TRUE(r.value->removed);
  EXPECT_EQ(r.value->removed_by, "bob");
  EXPECT_FALSE(engine_->GetAlert(id)->silenced);
  const auto ev = Take();
  EXPECT_EQ(Only(ev, EventKind::kSilenceChanged).size(), 1u);
  EXPECT_EQ(For(Only(ev, EventKind::kUnsuppressed), id).size(), 1u);
  EXPECT_TRUE(engine_->ListSilences().empty());
  EXPECT_EQ(engine_->RemoveSilence(s.value->id, "bob").error.code, fa::ErrorCode::kNotFound);
  EXPECT_TRUE(Has(AuditActions(), "silence-removed"));
}

// The gRPC service calls the engine from many threads at once: readings,
// ticks and operator actions interleave. The outbox stays gap-free, the
// listener sees every committed event exactly once, the audit chain holds.
TEST_F(EngineTest, ConcurrentInputsKeepTheOutboxConsistent) {
  cfg_ = fa::ParseRulesConfig(std::string("[engine]\nescalation_after = \"20m\"\n") + kBase +
                                  LevelRule("ms", "g1", "0s", "15m") +
                                  LevelRule("ms2", "g2", "0s", "15m"),
                              "engine_test.toml");
  store_ = std::make_unique<fa::AlertStore>(dir_ + "/alerts.db");
  std::atomic<std::int64_t> minute{0};
  auto clock = [&minute] { return kT0 + minutes(minute.load()); };
  engine_ = std::make_unique<fa::AlertEngine>(cfg_, *store_, profile_, clock);
  std::mutex seen_mu;
  std::vector<std::uint64_t> seen;
  engine_->AddCommitListener([&](const std::vector<AlertEvent>& ev) {
    std::lock_guard<std::mutex> lock(seen_mu);
    for (const auto& e : ev) seen.push_back(e.sequence);
  });
  std::atomic<bool> stop{false};
  auto feeder = [&](const std::string& station) {
    for (int i = 0; i < 400; ++i) {
      fi::Reading r;
      r.station_id = station;
      r.observed = clock();
      r.value = 250 + 300 * std::abs(std::sin(i / 40.0));  // waves through levels 1..3
      r.unit = "cm";
      r.flag = fi::QcFlag::kPass;
      engine_->OnReading(r);
    }
  };
  std::thread ticker([&] {
    while (!stop) {
      ++minute;
      engine_->Tick();
    }
  });
  std::thread officer([&] {
    while (!stop) {
      for (const auto& a : engine_->ListActive({}))
        if (a.state == fa::AlertState::kActive) engine_->Acknowledge(a.id, "dienst", "");
      engine_->Status();
    }
  });
  std::thread f1(feeder, "g1");
  std::thread f2(feeder, "g2");
  f1.join();
  f2.join();
  stop = true;
  ticker.join();
  officer.join();

  const auto stored = store_->ReadEvents(0, 1000000);
  // Each gauge at least rises through levels 1, 2, 3 (Alert, Update, Update); how
  // many clears, acks and escalations interleave depends on the scheduling.
  EXPECT_GE(stored.size(), 6u);
  for (std::size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].sequence, i + 1);
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), stored.size());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  EXPECT_EQ(store_->VerifyAuditChain(), 0u);
  // The engine's view and the store agree on what is open.
  std::vector<std::string> a, b;
  for (const auto& x : engine_->ListActive({})) a.push_back(x.id);
  for (const auto& x : store_->LoadOpenAlerts()) b.push_back(x.id);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}

TEST_F(EngineTest, OrphanAlertsCanBeResolvedByHand) {
  Start(LevelRule("ms", "g1", "0s", "1h"));
  Reading("g1", 410, minutes(0));
  const std::string id = Only(Take(), EventKind::kRaised).at(0).alert.id;
  engine_.reset();
  Start(LevelRule("other", "g2", "0s", "1h"));    // rule "ms" was removed from the file
  ASSERT_EQ(engine_->ListActive({}).size(), 1u);  // kept open, not silently dropped
  At(minutes(5));
  const auto r = engine_->ResolveManual(id, "alice", "Regel entfernt");
  ASSERT_TRUE(r.ok()) << r.error.message;
  const auto ev = Only(Take(), EventKind::kResolved);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].cap_xml.find("<msgType>Cancel</msgType>"), std::string::npos);
  EXPECT_TRUE(engine_->ListActive({}).empty());
}

TEST_F(EngineTest, AlertRaisedUnderASilenceIsSilencedInItsRaiseMessage) {
  Start(LevelRule("ms", "g1", "0s", "1h"));
  At(minutes(0));
  fa::SilenceRequest req;
  req.station_id = "g1";
  req.reason = "Pegel wird kalibriert";
  req.expires = now_ + hours(1);
  const auto s = engine_->AddSilence(req, "alice");
  ASSERT_TRUE(s.ok()) << s.error.message;
  EXPECT_FALSE(s.value->needs_approval);  // nothing at level >= 3 yet
  Take();
  Reading("g1", 410, minutes(5));  // level 2 under a one-person silence: silenced
  auto ev = Take();
  auto raised = Only(ev, EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_TRUE(raised[0].alert.silenced);
  Reading("g1", 510, minutes(20));  // level 3: the silence needs a second person
  ev = Take();
  auto up = Only(ev, EventKind::kUpdated);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_FALSE(up[0].alert.silenced);  // the level-3 message goes out unsilenced
  EXPECT_EQ(Only(ev, EventKind::kUnsuppressed).size(), 1u);
}
