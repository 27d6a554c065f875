// JSON codec of the alerting types: exact round trips, the documented wire
// format (ms since epoch, enum names), and errors that name the key.
#include <gtest/gtest.h>

#include <limits>

#include "floodwarn/alerting/json_codec.hpp"
#include "test_store_util.hpp"

namespace floodwarn::alerting {
namespace {
using nlohmann::json;
using namespace testutil;

TEST(JsonCodec, AlertRoundTripIsExactThroughText) {
  Alert a = SampleAlert("fw.3f2a", 7);
  Alert b = AlertFromJson(ParseJson(Dump(ToJson(a))));
  ExpectSameAlert(a, b);
}

TEST(JsonCodec, DefaultAlertRoundTrips) {
  Alert a;  // no ack, no circle, empty polygon, zero times
  Alert b = AlertFromJson(ParseJson(Dump(ToJson(a))));
  ExpectSameAlert(a, b);
  EXPECT_FALSE(b.ack.has_value());
  EXPECT_FALSE(b.area.circle.has_value());
}

TEST(JsonCodec, EventSilenceAuditRoundTrip) {
  AlertEvent e = SampleEvent("fw.a", 3);
  e.sequence = 18446744073709551615ull;  // full uint64 range survives
  ExpectSameEvent(e, AlertEventFromJson(ParseJson(Dump(ToJson(e)))));
  Silence s = SampleSilence("sil-1");
  ExpectSameSilence(s, SilenceFromJson(ParseJson(Dump(ToJson(s)))));
  AuditEntry au = SampleAudit("acknowledge", 2);
  au.id = 42;
  au.prev_hash = std::string(64, 'a');
  au.hash = std::string(64, 'b');
  ExpectSameAudit(au, AuditEntryFromJson(ParseJson(Dump(ToJson(au)))));
}

// The channel form is the webhook document of docs/alerting/CHANNELS.md
// (the same encoder as the store's rows, its other documented form).
TEST(JsonCodec, ChannelFormIsTheDocumentedWebhookDocument) {
  AlertEvent e = SampleEvent("fw.hook", 1);
  e.alert.kind = RuleKind::kWaterLevel;  // onset = first_seen
  const json j = ParseJson(Dump(ToJson(e, JsonForm::kChannel)));
  EXPECT_EQ(j["kind"], "updated");
  EXPECT_EQ(j["at"], "2023-11-14T22:16:40.001Z");  // ISO 8601 UTC with milliseconds
  EXPECT_EQ(j["cap_xml"], e.cap_xml);
  const json& a = j["alert"];
  EXPECT_EQ(a["id"], "fw.hook");
  EXPECT_EQ(a["kind"], "water_level");
  EXPECT_EQ(a["state"], "acknowledged");
  EXPECT_EQ(a["mode"], "Exercise");
  EXPECT_EQ(a["first_seen"], "2023-11-14T22:13:20.124Z");
  EXPECT_EQ(a["onset"], "2023-11-14T22:13:20.124Z");  // as in the CAP message
  EXPECT_EQ(a["last_change"], "1969-12-31T23:59:59.995Z");
  EXPECT_TRUE(a["threshold"].is_null());  // NaN: a JSON null, not the store's "NaN"
  EXPECT_DOUBLE_EQ(a["value"].get<double>(), e.alert.value);
  EXPECT_EQ(a["ack"]["by"], "officer.mueller");
  EXPECT_EQ(a["ack"]["at"], "2023-11-14T22:15:00.789Z");
  EXPECT_FALSE(a.contains("messages"));  // the CAP chain stays in the store
  const json& area = a["area"];
  ASSERT_EQ(area["polygon"].size(), 4u);
  EXPECT_EQ(area["polygon"][1], json::array({50.2, 8.25}));  // [lat, lon] pairs
  EXPECT_DOUBLE_EQ(area["circle"]["radius_km"].get<double>(), 2.5);
  EXPECT_TRUE(area["circle"].contains("lat"));
  EXPECT_EQ(area["ars"], "064120000000");

  // Absent things are absent: no ack, no circle, no onset, no CAP; "" for a
  // time that never happened.
  Alert bare;
  bare.id = "fw.bare";
  AlertEvent quiet;
  quiet.alert = bare;
  const json q = ParseJson(Dump(ToJson(quiet, JsonForm::kChannel)));
  EXPECT_FALSE(q.contains("cap_xml"));
  EXPECT_FALSE(q["alert"].contains("ack"));
  EXPECT_FALSE(q["alert"].contains("onset"));
  EXPECT_FALSE(q["alert"]["area"].contains("circle"));
  EXPECT_EQ(q["alert"]["area"]["polygon"], json::array());
  EXPECT_EQ(q["alert"]["activated"], "");
  EXPECT_EQ(ChannelTime(TimePoint{}), "");
}

TEST(JsonCodec, EveryEnumValueRoundTrips) {
  for (auto k : {RuleKind::kWaterLevel, RuleKind::kRateOfRise, RuleKind::kRainfall,
                 RuleKind::kForecastDepth, RuleKind::kSensorOutage, RuleKind::kManual}) {
    Alert a;
    a.kind = k;
    EXPECT_EQ(AlertFromJson(ToJson(a)).kind, k) << ToString(k);
  }
  for (auto s : {AlertState::kPending, AlertState::kActive, AlertState::kAcknowledged,
                 AlertState::kResolved}) {
    Alert a;
    a.state = s;
    EXPECT_EQ(AlertFromJson(ToJson(a)).state, s) << ToString(s);
  }
  for (auto m : {Mode::kActual, Mode::kExercise, Mode::kTest}) {
    Alert a;
    a.mode = m;
    EXPECT_EQ(AlertFromJson(ToJson(a)).mode, m) << ToString(m);
  }
  for (auto k : {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved,
                 EventKind::kAcknowledged, EventKind::kEscalated, EventKind::kSuppressed,
                 EventKind::kUnsuppressed, EventKind::kSilenceChanged, EventKind::kPending}) {
    AlertEvent e;
    e.kind = k;
    EXPECT_EQ(AlertEventFromJson(ToJson(e)).kind, k) << ToString(k);
  }
}

TEST(JsonCodec, WireFormatIsMillisecondsAndEnumNames) {
  Alert a = SampleAlert("fw.x");
  json j = ToJson(a);
  EXPECT_EQ(j.at("first_seen"), 1700000000123);
  EXPECT_EQ(j.at("last_change"), -5);
  EXPECT_EQ(j.at("kind"), "forecast_depth");
  EXPECT_EQ(j.at("state"), "acknowledged");
  EXPECT_EQ(j.at("mode"), "Exercise");
  EXPECT_EQ(j.at("threshold"), "NaN");
  EXPECT_EQ(j.at("ack").at("at"), 1700000100789);
  EXPECT_EQ(j.at("area").at("circle").at("radius_km"), 2.5);
  AlertEvent e;
  e.kind = EventKind::kSilenceChanged;
  EXPECT_EQ(ToJson(e).at("kind"), "silence_changed");
}

TEST(JsonCodec, NonFiniteDoublesRoundTrip) {
  Alert a;
  a.value = std::numeric_limits<double>::infinity();
  a.threshold = -std::numeric_limits<double>::infinity();
  Alert b = AlertFromJson(ParseJson(Dump(ToJson(a))));
  EXPECT_EQ(b.value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(b.threshold, -std::numeric_limits<double>::infinity());
  a.value = 0.1 + 0.2;  // needs 17 significant digits
  a.threshold = -0.0;
  b = AlertFromJson(ParseJson(Dump(ToJson(a))));
  EXPECT_EQ(b.value, 0.1 + 0.2);
  EXPECT_TRUE(std::signbit(b.threshold));
}

TEST(JsonCodec, MissingKeysKeepDefaultsUnknownKeysAreIgnored) {
  Alert a = AlertFromJson(json{{"id", "fw.1"}, {"level", 2}, {"added_in_v2", true}});
  EXPECT_EQ(a.id, "fw.1");
  EXPECT_EQ(a.level, 2);
  EXPECT_EQ(a.state, AlertState::kPending);
  EXPECT_EQ(a.rule_id, "");
}

void ExpectError(const json& j, const std::string& needle) {
  try {
    AlertFromJson(j);
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(JsonCodec, WrongTypesAndUnknownEnumsNameTheKey) {
  ExpectError(json{{"level", "3"}}, "alert.level: expected an integer, got string");
  ExpectError(json{{"state", "on_fire"}}, "alert.state: unknown value \"on_fire\"");
  ExpectError(json{{"first_seen", 1.5}}, "alert.first_seen: expected an integer");
  ExpectError(json{{"area", {{"polygon", {{{"lat", 1}, {"lon", 2}}, {{"lat", "x"}}}}}}},
              "alert.area.polygon[1].lat: expected a number");
  ExpectError(json{{"messages", {{{"sent", "yesterday"}}}}}, "alert.messages[0].sent");
  ExpectError(json::array(), "alert: expected an object, got array");
  try {
    AlertEventFromJson(json{{"alert", {{"mode", "Drill"}}}});
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("event.alert.mode: unknown value"), std::string::npos)
        << e.what();
  }
}

TEST(JsonCodec, InvalidUtf8AndMalformedTextAreErrors) {
  Alert a;
  a.reason = "bad \xff byte";
  EXPECT_THROW(Dump(ToJson(a)), std::invalid_argument);
  try {
    ParseJson("{\"id\": ", "outbox row 7");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("outbox row 7: malformed JSON"), std::string::npos);
  }
}

}  // namespace
}  // namespace floodwarn::alerting
