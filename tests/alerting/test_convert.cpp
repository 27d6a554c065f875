// The one proto <-> domain conversion (alerting/convert), which the service
// and the client share: every field survives the round trip the two ends
// make (service ToProto -> client FromProto, client ToProto -> service
// FromProto), "never" stays unset, and unknown enum values read safely.
#include <gtest/gtest.h>

#include "floodwarn/alerting/proto_convert.hpp"
#include "test_store_util.hpp"

namespace floodwarn::alerting {
namespace {

using testutil::Ms;

TEST(ProtoConvert, AlertEventAndSilenceSurviveTheRoundTrip) {
  const AlertEvent e = testutil::SampleEvent("fw.roundtrip", 3);
  v1::AlertEvent pe;
  convert::ToProto(e, &pe);
  const AlertEvent back = convert::FromProto(pe);
  EXPECT_EQ(back.sequence, e.sequence);
  EXPECT_EQ(back.kind, e.kind);
  EXPECT_EQ(back.at, e.at);
  EXPECT_EQ(back.actor, e.actor);
  EXPECT_EQ(back.note, e.note);
  EXPECT_EQ(back.cap_xml, e.cap_xml);
  EXPECT_EQ(back.cap_identifier, e.cap_identifier);
  testutil::ExpectSameAlert(back.alert, e.alert);  // incl. a time before 1970

  const Silence s = testutil::SampleSilence("sil.1");
  v1::Silence ps;
  convert::ToProto(s, &ps);
  testutil::ExpectSameSilence(convert::FromProto(ps), s);
}

TEST(ProtoConvert, EveryEnumValueSurvivesTheRoundTrip) {
  for (RuleKind k :
       {RuleKind::kWaterLevel, RuleKind::kRateOfRise, RuleKind::kRainfall, RuleKind::kForecastDepth,
        RuleKind::kSensorOutage, RuleKind::kManual, RuleKind::kForecastOutage})
    EXPECT_EQ(convert::FromProto(convert::ToProto(k)), k) << ToString(k);
  for (AlertState s : {AlertState::kPending, AlertState::kActive, AlertState::kAcknowledged,
                       AlertState::kResolved})
    EXPECT_EQ(convert::FromProto(convert::ToProto(s)), s) << ToString(s);
  // Rule conditions go one way (ListRuleStates): each to its own value.
  EXPECT_EQ(convert::ToProto(Condition::kClear), v1::RULE_CONDITION_CLEAR);
  EXPECT_EQ(convert::ToProto(Condition::kRaised), v1::RULE_CONDITION_RAISED);
  EXPECT_EQ(convert::ToProto(Condition::kUnknown), v1::RULE_CONDITION_UNKNOWN);
  for (Mode m : {Mode::kActual, Mode::kExercise, Mode::kTest})
    EXPECT_EQ(convert::FromProto(convert::ToProto(m)), m) << ToString(m);
  for (EventKind k : {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved,
                      EventKind::kAcknowledged, EventKind::kEscalated, EventKind::kSuppressed,
                      EventKind::kUnsuppressed, EventKind::kSilenceChanged, EventKind::kPending})
    EXPECT_EQ(convert::FromProto(convert::ToProto(k)), k) << ToString(k);
  // A value from a newer peer reads as the first one, never as garbage.
  EXPECT_EQ(convert::FromProto(static_cast<v1::Mode>(42)), Mode::kActual);
  EXPECT_EQ(convert::FromProto(v1::MODE_UNSPECIFIED), Mode::kActual);
  EXPECT_EQ(convert::FromProto(static_cast<v1::EventKind>(99)), EventKind::kRaised);
}

TEST(ProtoConvert, NeverStaysUnset) {
  Alert a;  // every time zero: never happened
  a.id = "fw.new";
  v1::Alert p;
  convert::ToProto(a, &p);
  EXPECT_FALSE(p.has_first_seen());
  EXPECT_FALSE(p.has_activated());
  EXPECT_FALSE(p.has_onset());
  EXPECT_FALSE(p.has_expires());
  EXPECT_FALSE(p.has_ack());
  const Alert back = convert::FromProto(p);
  EXPECT_EQ(back.first_seen, TimePoint{});
  EXPECT_EQ(back.onset, TimePoint{});
  EXPECT_FALSE(back.ack.has_value());
  EXPECT_FALSE(back.area.circle.has_value());
}

TEST(ProtoConvert, RequestsAndFiltersSurviveTheRoundTrip) {
  AlertFilter f;
  f.area_ids = {"unterstadt", "altstadt"};
  f.station_ids = {"talstadt_pegel"};
  f.min_level = 2;
  f.include_resolved = true;
  v1::AlertFilter pf;
  convert::ToProto(f, &pf);
  const AlertFilter fb = convert::FromProto(pf);
  EXPECT_EQ(fb.area_ids, f.area_ids);
  EXPECT_EQ(fb.station_ids, f.station_ids);
  EXPECT_EQ(fb.min_level, f.min_level);
  EXPECT_EQ(fb.include_resolved, f.include_resolved);

  ManualAlertRequest m;
  m.subject = "Deichbruch Nord";
  m.level = 4;
  m.area_id = "unterstadt";
  m.headline_de = "Deichbruch";
  m.headline_en = "Dike breach";
  m.description_de = "Beschreibung";
  m.description_en = "Description";
  m.instruction_de = "Höher gelegene Stockwerke aufsuchen.";
  m.instruction_en = "Go to upper floors.";
  m.mode = Mode::kExercise;
  v1::IssueManualRequest pm;
  convert::ToProto(m, &pm);
  const ManualAlertRequest mb = convert::FromProto(pm);
  EXPECT_EQ(mb.subject, m.subject);
  EXPECT_EQ(mb.level, m.level);
  EXPECT_EQ(mb.area_id, m.area_id);
  EXPECT_EQ(mb.headline_de, m.headline_de);
  EXPECT_EQ(mb.headline_en, m.headline_en);
  EXPECT_EQ(mb.description_de, m.description_de);
  EXPECT_EQ(mb.description_en, m.description_en);
  EXPECT_EQ(mb.instruction_de, m.instruction_de);
  EXPECT_EQ(mb.instruction_en, m.instruction_en);
  EXPECT_EQ(mb.mode, m.mode);

  SilenceRequest s;
  s.station_id = "talstadt_pegel";
  s.reason = "Wartung";
  s.expires = Ms(1700007200000);
  v1::SilenceRequest ps;
  convert::ToProto(s, &ps);
  const SilenceRequest sb = convert::FromProto(ps);
  EXPECT_EQ(sb.alert_id, "");
  EXPECT_EQ(sb.station_id, s.station_id);
  EXPECT_EQ(sb.rule_id, "");
  EXPECT_EQ(sb.reason, s.reason);
  EXPECT_EQ(sb.expires, s.expires);
}

}  // namespace
}  // namespace floodwarn::alerting
