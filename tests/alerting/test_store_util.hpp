// Test helpers for the alert store and the JSON codec: fully populated sample
// values and field-by-field comparisons (no operator== in types.hpp).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting::testutil {

inline TimePoint Ms(std::int64_t ms) { return TimePoint(Duration(ms)); }

// An alert with every field set to a non-default value, including the
// awkward ones: non-ASCII text, quotes/newlines/XML in strings, NaN and
// infinity, negative times, an optional ack and circle.
inline Alert SampleAlert(const std::string& id, int n = 0) {
  Alert a;
  a.id = id;
  a.rule_id = "talstadt.stage";
  a.subject = "pegel-" + std::to_string(n);
  a.kind = RuleKind::kForecastDepth;
  a.level = 3;
  a.state = AlertState::kAcknowledged;
  a.mode = Mode::kExercise;
  a.suppressed = true;
  a.silenced = true;
  a.station_id = "DE-2730010";
  a.subject_name = "Pegel Talstadt (Straßenbrücke) \"Süd\"";
  a.area.id = "unterstadt";
  a.area.name = "Talstadt, Unterstadt";
  a.area.polygon = {{50.1, 8.2}, {50.2, 8.25}, {50.15, 8.3}, {50.1, 8.2}};
  a.area.circle = std::make_pair(GeoPoint{50.123456789012345, 8.987654321098765}, 2.5);
  a.area.ars = "064120000000";
  a.value = 412.3456789012345 + n;
  a.threshold = std::numeric_limits<double>::quiet_NaN();
  a.unit = "cm";
  a.reason = "level 412 cm >= 400 cm (Meldestufe 2)\nline two\t<tab> & 'quote'";
  a.headline_de = "Hochwasserwarnung Stufe 3";
  a.headline_en = "Flood warning level 3";
  a.description_de = "Überflutung der Uferstraße möglich. ∆h = 12 cm/h 🌊";
  a.description_en = "Flooding of the river road possible.";
  a.instruction_de = "Keller räumen.";
  a.instruction_en = "Clear basements.";
  a.first_seen = Ms(1700000000123 + n);
  a.activated = Ms(1700000060456);
  a.last_change = Ms(-5);  // before 1970: times are signed
  a.expires = Ms(1700003600000);
  a.onset = Ms(1700001800000);
  a.ack = Acknowledgement{"officer.mueller", "seen, sirens prepared", Ms(1700000100789)};
  a.escalated = true;
  a.messages = {{"floodwarn@talstadt.example", "fw.1", Ms(1700000060456)},
                {"floodwarn@talstadt.example", "fw.2", Ms(1700000070000)}};
  a.incident = id;
  return a;
}

inline AlertEvent SampleEvent(const std::string& alert_id, int n = 0) {
  AlertEvent e;
  e.sequence = 0;
  e.kind = EventKind::kUpdated;
  e.at = Ms(1700000200000 + n);
  e.alert = SampleAlert(alert_id, n);
  e.actor = "system";
  e.note = "event " + std::to_string(n);
  e.cap_xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert>Ä</alert>";
  e.cap_identifier = "fw." + alert_id + "." + std::to_string(n);
  return e;
}

inline Silence SampleSilence(const std::string& id) {
  Silence s;
  s.id = id;
  s.alert_id = "fw.a";
  s.station_id = "DE-2730010";
  s.rule_id = "talstadt.stage";
  s.author = "officer.mueller";
  s.reason = "gauge maintenance";
  s.created = Ms(1700000000000);
  s.expires = Ms(1700007200000);
  s.approved_by = "officer.schmidt";
  s.needs_approval = true;
  s.removed = true;
  s.removed_by = "officer.schmidt";
  return s;
}

inline AuditEntry SampleAudit(const std::string& action, int n = 0) {
  AuditEntry e;
  e.at = Ms(1700000300000 + n);
  e.actor = "officer.mueller";
  e.action = action;
  e.alert_id = "fw.a";
  e.detail = "n=" + std::to_string(n) + " note=\"x, y\"";
  return e;
}

inline void ExpectSameDouble(double a, double b, const char* what) {
  if (std::isnan(a) || std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << what << ": " << a << " vs " << b;
  } else {
    EXPECT_EQ(a, b) << what;  // bit-exact, not approximately
  }
}

inline void ExpectSameAlert(const Alert& x, const Alert& y) {
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.rule_id, y.rule_id);
  EXPECT_EQ(x.subject, y.subject);
  EXPECT_EQ(x.kind, y.kind);
  EXPECT_EQ(x.level, y.level);
  EXPECT_EQ(x.state, y.state);
  EXPECT_EQ(x.mode, y.mode);
  EXPECT_EQ(x.suppressed, y.suppressed);
  EXPECT_EQ(x.silenced, y.silenced);
  EXPECT_EQ(x.station_id, y.station_id);
  EXPECT_EQ(x.subject_name, y.subject_name);
  EXPECT_EQ(x.area.id, y.area.id);
  EXPECT_EQ(x.area.name, y.area.name);
  ASSERT_EQ(x.area.polygon.size(), y.area.polygon.size());
  for (std::size_t i = 0; i < x.area.polygon.size(); ++i) {
    ExpectSameDouble(x.area.polygon[i].lat, y.area.polygon[i].lat, "polygon.lat");
    ExpectSameDouble(x.area.polygon[i].lon, y.area.polygon[i].lon, "polygon.lon");
  }
  ASSERT_EQ(x.area.circle.has_value(), y.area.circle.has_value());
  if (x.area.circle) {
    ExpectSameDouble(x.area.circle->first.lat, y.area.circle->first.lat, "circle.lat");
    ExpectSameDouble(x.area.circle->first.lon, y.area.circle->first.lon, "circle.lon");
    ExpectSameDouble(x.area.circle->second, y.area.circle->second, "circle.radius");
  }
  EXPECT_EQ(x.area.ars, y.area.ars);
  ExpectSameDouble(x.value, y.value, "value");
  ExpectSameDouble(x.threshold, y.threshold, "threshold");
  EXPECT_EQ(x.unit, y.unit);
  EXPECT_EQ(x.reason, y.reason);
  EXPECT_EQ(x.headline_de, y.headline_de);
  EXPECT_EQ(x.headline_en, y.headline_en);
  EXPECT_EQ(x.description_de, y.description_de);
  EXPECT_EQ(x.description_en, y.description_en);
  EXPECT_EQ(x.instruction_de, y.instruction_de);
  EXPECT_EQ(x.instruction_en, y.instruction_en);
  EXPECT_EQ(x.first_seen, y.first_seen);
  EXPECT_EQ(x.activated, y.activated);
  EXPECT_EQ(x.last_change, y.last_change);
  EXPECT_EQ(x.expires, y.expires);
  EXPECT_EQ(x.onset, y.onset);
  ASSERT_EQ(x.ack.has_value(), y.ack.has_value());
  if (x.ack) {
    EXPECT_EQ(x.ack->by, y.ack->by);
    EXPECT_EQ(x.ack->note, y.ack->note);
    EXPECT_EQ(x.ack->at, y.ack->at);
  }
  EXPECT_EQ(x.escalated, y.escalated);
  ASSERT_EQ(x.messages.size(), y.messages.size());
  for (std::size_t i = 0; i < x.messages.size(); ++i) {
    EXPECT_EQ(x.messages[i].sender, y.messages[i].sender);
    EXPECT_EQ(x.messages[i].identifier, y.messages[i].identifier);
    EXPECT_EQ(x.messages[i].sent, y.messages[i].sent);
  }
  EXPECT_EQ(x.incident, y.incident);
}

inline void ExpectSameEvent(const AlertEvent& x, const AlertEvent& y) {
  EXPECT_EQ(x.sequence, y.sequence);
  EXPECT_EQ(x.kind, y.kind);
  EXPECT_EQ(x.at, y.at);
  ExpectSameAlert(x.alert, y.alert);
  EXPECT_EQ(x.actor, y.actor);
  EXPECT_EQ(x.note, y.note);
  EXPECT_EQ(x.cap_xml, y.cap_xml);
  EXPECT_EQ(x.cap_identifier, y.cap_identifier);
}

inline void ExpectSameSilence(const Silence& x, const Silence& y) {
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.alert_id, y.alert_id);
  EXPECT_EQ(x.station_id, y.station_id);
  EXPECT_EQ(x.rule_id, y.rule_id);
  EXPECT_EQ(x.author, y.author);
  EXPECT_EQ(x.reason, y.reason);
  EXPECT_EQ(x.created, y.created);
  EXPECT_EQ(x.expires, y.expires);
  EXPECT_EQ(x.approved_by, y.approved_by);
  EXPECT_EQ(x.needs_approval, y.needs_approval);
  EXPECT_EQ(x.removed, y.removed);
  EXPECT_EQ(x.removed_by, y.removed_by);
}

inline void ExpectSameAudit(const AuditEntry& x, const AuditEntry& y) {
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.at, y.at);
  EXPECT_EQ(x.actor, y.actor);
  EXPECT_EQ(x.action, y.action);
  EXPECT_EQ(x.alert_id, y.alert_id);
  EXPECT_EQ(x.detail, y.detail);
  EXPECT_EQ(x.prev_hash, y.prev_hash);
  EXPECT_EQ(x.hash, y.hash);
}

}  // namespace floodwarn::alerting::testutil
