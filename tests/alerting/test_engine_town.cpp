// The demo town's rules file (configs/alerting/town_rules.toml) driven through
// a whole event: a river flood wave, a heavy-rain hour, a forecast for the
// railway underpass, a gauge outage, an operator's manual alert. Checks the
// invariants every consumer relies on: every CAP message validates (rules and
// the OASIS XSD), each one references all earlier messages of its alert,
// sequences strictly increase, every event has its audit entry, the audit
// chain verifies, and the event ends with everything cleared.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_support.hpp"

namespace fa = floodwarn::alerting;
namespace fi = floodwarn::ingest;
using fa::AlertEvent;
using fa::EventKind;
using fa::TimePoint;
using std::chrono::minutes;

namespace {

const TimePoint kT0{std::chrono::seconds(1795334400)};  // 2026-11-22T08:00:00Z

// River stage (cm): 250 -> 560 over 3 h (about 26 cm per 15 min), back to 250 by 6 h.
double Stage(int m) {
  if (m <= 180) return 250.0 + 310.0 * m / 180.0;
  return std::max(250.0, 560.0 - 310.0 * (m - 180) / 180.0);
}

struct TownRun {
  std::vector<AlertEvent> events;
  std::vector<fa::AuditEntry> audit;
  std::uint64_t chain_broken_at = 0;
  std::vector<fa::Alert> open_at_end;
};

TownRun RunTownEvent(const std::string& dir) {
  TownRun run;
  const fa::RulesConfig cfg =
      fa::LoadRulesConfig(floodwarn::testing::SourceDir() + "/configs/alerting/town_rules.toml");
  fa::AlertStore store(dir + "/alerts.db");
  TimePoint now = kT0;
  fa::CapProfile profile;
  profile.sender = "hochwasser@talstadt.example";
  profile.utc_offset_minutes = 60;
  fa::AlertEngine engine(cfg, store, profile, [&] { return now; });
  engine.AddCommitListener([&](const std::vector<AlertEvent>& ev) {
    run.events.insert(run.events.end(), ev.begin(), ev.end());
  });
  std::string manual_id;
  for (int m = 0; m <= 600; m += 5) {
    now = kT0 + minutes(m);
    fi::Reading rain;
    rain.station_id = "talstadt_regen";
    rain.observed = now;
    rain.value = (m > 60 && m <= 120) ? 3.0 : 0.0;  // 36 mm in one hour
    rain.unit = "mm";
    rain.quantity = fi::Quantity::kRainfall;
    rain.flag = fi::QcFlag::kPass;
    engine.OnReading(rain);
    const bool gauge_down = m > 400 && m < 470;  // the gauge stops reporting for a while
    if (m % 15 == 0 && !gauge_down) {
      fi::Reading g = rain;
      g.station_id = "talstadt_pegel";
      g.value = Stage(m) / 100.0;  // this gauge reports metres
      g.unit = "m";
      g.quantity = fi::Quantity::kWaterLevel;
      engine.OnReading(g);
    }
    if (m % 15 == 0) {
      fa::ForecastBatch b;
      b.run_id = "run-" + std::to_string(m);
      b.issued = now;
      const double depth = (m >= 60 && m < 150) ? 0.4 : 0.0;
      b.values = {{"underpass", now + minutes(60), depth},
                  {"school", now + minutes(60), 0.0},
                  {"hospital", now + minutes(60), 0.0}};
      engine.OnForecast(b);
    }
    if (m == 30) {
      fa::ManualAlertRequest req;
      req.subject = "deich-nord";
      req.level = 2;
      req.area_id = "unterstadt";
      req.headline_de = "Deich Nord wird beobachtet";
      req.headline_en = "North dike under observation";
      manual_id = engine.IssueManual(req, "einsatzleitung").value->id;
    }
    if (m == 200) engine.ResolveManual(manual_id, "einsatzleitung", "Deich stabil");
    engine.Tick();
    // The duty officer acknowledges every active alert 10 min after it appeared.
    for (const fa::Alert& a : engine.ListActive({}))
      if (a.state == fa::AlertState::kActive && now - a.last_change >= minutes(10))
        engine.Acknowledge(a.id, "dienst", "gesehen");
  }
  run.audit = store.ReadAudit(0, 1000000);
  run.chain_broken_at = store.VerifyAuditChain();
  run.open_at_end = engine.ListActive({});
  return run;
}

bool IsCap(EventKind k) {
  return k == EventKind::kRaised || k == EventKind::kUpdated || k == EventKind::kResolved;
}

}  // namespace

TEST(EngineTown, WholeEventInvariants) {
  const TownRun run = RunTownEvent(floodwarn::testing::MakeTempDir("engine_town"));
  ASSERT_FALSE(run.events.empty());
  if (std::getenv("FLOODWARN_TEST_VERBOSE") != nullptr) {  // the event log, for people
    for (const auto& e : run.events)
      std::printf("%4lld min  #%-3llu %-14s %-28s level=%d state=%s supp=%d sil=%d %s\n",
                  static_cast<long long>((e.at - kT0).count() / 60000),
                  static_cast<unsigned long long>(e.sequence), fa::ToString(e.kind),
                  e.alert.rule_id.c_str(), e.alert.level, fa::ToString(e.alert.state),
                  e.alert.suppressed, e.alert.silenced, e.note.substr(0, 90).c_str());
  }

  // What happened, by rule: the river reached Meldestufe 3, the rain DWD level 3
  // (36 mm in 1 h), the underpass forecast level 3, the gauge outage an alert.
  std::map<std::string, int> max_level;
  for (const auto& e : run.events)
    if (IsCap(e.kind))
      max_level[e.alert.rule_id] = std::max(max_level[e.alert.rule_id], e.alert.level);
  EXPECT_EQ(max_level["talstadt_meldestufen"], 3);
  EXPECT_EQ(max_level["talstadt_anstieg"], 2);
  EXPECT_EQ(max_level["talstadt_starkregen"], 3);
  EXPECT_EQ(max_level["unterfuehrung_prognose"], 3);
  EXPECT_EQ(max_level["sensor_outage"], 2);
  EXPECT_EQ(max_level["manual"], 2);
  EXPECT_EQ(max_level.count("schule_krankenhaus_prognose"), 0u);

  // Sequences strictly increase; CAP messages only where they belong.
  std::uint64_t last = 0;
  std::map<std::string, std::vector<std::string>> chain;  // alert id -> identifiers so far
  for (const auto& e : run.events) {
    EXPECT_GT(e.sequence, last);
    last = e.sequence;
    if (!IsCap(e.kind)) {
      EXPECT_TRUE(e.cap_xml.empty()) << fa::ToString(e.kind);
      continue;
    }
    ASSERT_FALSE(e.cap_xml.empty()) << fa::ToString(e.kind);
    const auto problems = fa::CheckCapRules(e.cap_xml);
    EXPECT_TRUE(problems.empty()) << problems.front() << "\n" << e.cap_xml;
    std::vector<std::string>& prev = chain[e.alert.id];
    EXPECT_EQ(e.kind == EventKind::kRaised, prev.empty()) << e.alert.id;
    for (const std::string& p : prev)
      EXPECT_NE(e.cap_xml.find(p), std::string::npos) << "references lack " << p;
    ASSERT_EQ(e.alert.messages.size(), prev.size() + 1);
    EXPECT_EQ(e.alert.messages.back().identifier, e.cap_identifier);
    prev.push_back(e.cap_identifier);
  }
  // Every raised alert was cleared by the end, with a Cancel.
  for (const auto& [id, idents] : chain) {
    bool resolved = false;
    for (const auto& e : run.events)
      if (e.alert.id == id && e.kind == EventKind::kResolved) resolved = true;
    EXPECT_TRUE(resolved) << id;
  }
  EXPECT_TRUE(run.open_at_end.empty());

  // Audit: one entry per transition / operator action, chain intact.
  std::map<std::string, int> actions;
  for (const auto& a : run.audit) ++actions[a.action];
  int raised = 0, resolved = 0, acked = 0, escalated = 0;
  for (const auto& e : run.events) {
    raised += e.kind == EventKind::kRaised;
    resolved += e.kind == EventKind::kResolved;
    acked += e.kind == EventKind::kAcknowledged;
    escalated += e.kind == EventKind::kEscalated;
  }
  EXPECT_EQ(actions["raise"] + actions["manual-issue"], raised);
  EXPECT_EQ(actions["resolve"] + actions["manual-resolve"], resolved);
  EXPECT_EQ(actions["acknowledge"], acked);
  EXPECT_EQ(actions["escalate"], escalated);
  EXPECT_GT(acked, 0);
  EXPECT_EQ(run.chain_broken_at, 0u);
}

TEST(EngineTown, EveryCapMessageValidatesAgainstTheOasisSchema) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  const TownRun run = RunTownEvent(floodwarn::testing::MakeTempDir("engine_town_xsd"));
  fa::CapSchemaValidator validator(xsd);
  ASSERT_TRUE(validator.error().empty()) << validator.error();
  int checked = 0;
  for (const auto& e : run.events) {
    if (e.cap_xml.empty()) continue;
    const auto problems = validator.Validate(e.cap_xml);
    EXPECT_TRUE(problems.empty()) << problems.front() << "\n" << e.cap_xml;
    ++checked;
  }
  EXPECT_GT(checked, 10);
}
