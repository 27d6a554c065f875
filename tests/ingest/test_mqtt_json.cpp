// floodwarn's MQTT JSON payload: single object, arrays, and every kind of
// bad record, which must be reported with its byte offset while the good
// records of the same message are kept.
#include <gtest/gtest.h>

#include <cmath>

#include "floodwarn/ingest/mqtt_json.hpp"

namespace fi = floodwarn::ingest;
using std::chrono::milliseconds;

namespace {
const fi::TimePoint kRecv{milliseconds(1709291702000)};
// 2024-03-01T11:15:00Z
const fi::TimePoint kT{milliseconds(1709291700000)};
}  // namespace

TEST(MqttJson, SingleObjectWithOffset) {
  auto r = fi::DecodeMqttJson(
      R"({"station":"EITZE","time":"2024-03-01T12:15:00+01:00","value":369.5,"unit":"cm"})",
      "gauges/EITZE", kRecv);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.readings.size(), 1u);
  const auto& x = r.readings[0];
  EXPECT_EQ(x.station_id, "EITZE");
  EXPECT_EQ(x.observed, kT);  // +01:00 converted to UTC
  EXPECT_EQ(x.value, 369.5);
  EXPECT_EQ(x.unit, "cm");
  EXPECT_EQ(x.quantity, fi::Quantity::kWaterLevel);
  EXPECT_EQ(x.flag, fi::QcFlag::kNotEvaluated);
  EXPECT_EQ(x.source, "mqtt");
  EXPECT_EQ(x.received, kRecv);
}

TEST(MqttJson, TimeFormats) {
  auto t = [](const char* s) {
    auto r = fi::DecodeMqttJson(
        std::string(R"({"station":"A","value":1,"unit":"cm","time":")") + s + "\"}", "t", kRecv);
    return r.readings.empty() ? fi::TimePoint{} : r.readings[0].observed;
  };
  EXPECT_EQ(t("2024-03-01T11:15:00Z"), kT);
  EXPECT_EQ(t("2024-03-01T11:15:00.250Z"), kT + milliseconds(250));
  EXPECT_EQ(t("2024-03-01T06:15:00-0500"), kT);
  EXPECT_EQ(t("2024-03-01T11:15:00.123456789+00:00"), kT + milliseconds(123));
  // 2024 is a leap year; 2023 is not
  EXPECT_NE(t("2024-02-29T00:00:00Z"), fi::TimePoint{});
  EXPECT_EQ(t("2023-02-29T00:00:00Z"), fi::TimePoint{});
  EXPECT_EQ(t("2024-03-01T11:15:00"), fi::TimePoint{});  // no offset: ambiguous
  EXPECT_EQ(t("2024-03-01 11:15Z"), fi::TimePoint{});
}

TEST(MqttJson, ArrayKeepsGoodRecordsAndReportsBadOnesWithOffsets) {
  const std::string payload =
      R"([{"station":"A","time":"2024-03-01T11:15:00Z","value":1,"unit":"cm"},)"    // 0
      R"( {"station":"B","time":"yesterday","value":2,"unit":"cm"},)"               // bad time
      R"( {"station":"C","time":"2024-03-01T11:15:00Z","value":"3","unit":"cm"},)"  // string value
      R"( {"station":"D","time":"2024-03-01T11:15:00Z","value":4,"unit":"cm","valu":5},)"  // typo
      R"( {"station":"E","time":"2024-03-01T11:15:00Z","value":5 "unit":"cm"},)"           // syntax
      R"( {"station":"F","time":"2024-03-01T11:15:00Z","value":null,"unit":"cm"},)"
      R"( {"station":"G","time":"2024-03-01T11:15:00Z","value":7,"unit":"m3/s","quantity":"discharge"}])";
  auto r = fi::DecodeMqttJson(payload, "gauges/batch", kRecv);
  ASSERT_EQ(r.readings.size(), 3u);
  EXPECT_EQ(r.readings[0].station_id, "A");
  EXPECT_EQ(r.readings[1].station_id, "F");
  EXPECT_TRUE(std::isnan(r.readings[1].value));
  EXPECT_EQ(r.readings[1].flag, fi::QcFlag::kMissing);
  EXPECT_EQ(r.readings[2].station_id, "G");
  EXPECT_EQ(r.readings[2].quantity, fi::Quantity::kDischarge);
  ASSERT_EQ(r.errors.size(), 4u);
  for (const auto& e : r.errors) EXPECT_EQ(e.source, "gauges/batch");
  EXPECT_EQ(r.errors[0].offset, payload.find(R"({"station":"B")"));
  EXPECT_NE(r.errors[0].message.find("time"), std::string::npos);
  EXPECT_EQ(r.errors[1].offset, payload.find(R"({"station":"C")"));
  EXPECT_NE(r.errors[1].message.find("value"), std::string::npos);
  EXPECT_EQ(r.errors[2].offset, payload.find(R"({"station":"D")"));
  EXPECT_NE(r.errors[2].message.find("valu\""), std::string::npos);
  // the syntax error points into element E, at the unexpected "unit" token
  const auto unit_e = payload.find(R"("unit":"cm"},)", payload.find(R"("E")"));
  EXPECT_GE(r.errors[3].offset, unit_e);
  EXPECT_LE(r.errors[3].offset, unit_e + 6);
  EXPECT_NE(r.errors[3].message.find("malformed JSON"), std::string::npos);
}

TEST(MqttJson, MissingKeysNamed) {
  for (const char* key : {"station", "time", "value", "unit"}) {
    std::string p = R"({"station":"A","time":"2024-03-01T11:15:00Z","value":1,"unit":"cm"})";
    const auto pos = p.find(std::string("\"") + key + "\"");
    const auto end = p.find_first_of(",}", p.find(':', pos));
    p.erase(pos, end - pos + (p[end] == ',' ? 1 : 0));
    if (p[p.size() - 2] == ',') p.erase(p.size() - 2, 1);
    auto r = fi::DecodeMqttJson(p, "t", kRecv);
    ASSERT_EQ(r.errors.size(), 1u) << p;
    EXPECT_NE(r.errors[0].message.find(std::string("missing key \"") + key), std::string::npos)
        << r.errors[0].message;
  }
}

TEST(MqttJson, BrokenStructure) {
  auto r = fi::DecodeMqttJson("", "t", kRecv);
  EXPECT_TRUE(r.readings.empty());
  EXPECT_EQ(r.errors.size(), 1u);
  // truncated array: the complete first element survives
  const std::string trunc =
      R"([{"station":"A","time":"2024-03-01T11:15:00Z","value":1,"unit":"cm"}, {"station":"B","ti)";
  r = fi::DecodeMqttJson(trunc, "t", kRecv);
  ASSERT_EQ(r.readings.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].offset, trunc.size());
  r = fi::DecodeMqttJson("[]", "t", kRecv);
  EXPECT_TRUE(r.readings.empty());
  EXPECT_TRUE(r.errors.empty());
  r = fi::DecodeMqttJson("42", "t", kRecv);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("expected a JSON object"), std::string::npos);
  r = fi::DecodeMqttJson(
      R"({"station":"A","time":"2024-03-01T11:15:00Z","value":1e999,"unit":"cm"})", "t", kRecv);
  EXPECT_EQ(r.readings.size(), 0u);
  EXPECT_EQ(r.errors.size(), 1u);
}
