// TTN v3 uplinks and the Dragino LDDS75 decoder.
//
// Test vectors, derived by hand from the LDDS75 uplink layout on fPort 2
// (Dragino LDDS75 LoRaWAN Distance Detection Sensor user manual, "Uplink
// Payload": Battery 2 bytes, Distance 2 bytes, Interrupt flag 1, TempC_DS18B20
// 2, Sensor flag 1; big-endian; battery = word & 0x3FFF mV; distance in mm,
// "Invalid Reading" below 20 mm), then base64-encoded for frm_payload:
//
//   bytes                     base64          battery  distance  int  temp    sensor
//   0B 45 0B 05 00 00 00 00   C0ULBQAAAAA=    0x0B45   0x0B05              0.0     0
//                                             =2885 mV =2821 mm   0
//   CB 45 0B 05               y0ULBQ==        0xCB45&0x3FFF = 0x0B45 = 2885 mV (top bits masked)
//   0B 45 00 13 00 FF 9C 00   C0UAEwD/nAA=    2885     0x13=19 -> invalid   0xFF9C=-100 -> -10.0
//   0B 45 00 14 01 01 10 01   C0UAFAEBEAE=    2885     0x14=20 -> valid 1   0x0110=272 -> 27.2   1
//   0B 45 00 00 00 00 00 00   C0UAAAAAAAA=    distance 0: no sensor connected
//   0B 45                     C0U=            too short (2 bytes)
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "floodwarn/ingest/ttn.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
using std::chrono::milliseconds;

namespace {

const fi::TimePoint kRecv{milliseconds(1709291703000)};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sample() {
  return ReadFile(floodwarn::testing::SourceDir() + "/tests/ingest/data/ttn_uplink_ldds75.json");
}

std::string WithPayload(std::string json, const std::string& b64) {
  const std::string key = "\"frm_payload\": \"C0ULBQAAAAA=\"";
  const auto pos = json.find(key);
  EXPECT_NE(pos, std::string::npos);
  json.replace(pos, key.size(), "\"frm_payload\": \"" + b64 + "\"");
  return json;
}

fi::TtnConfig Config() {
  fi::TtnConfig c;
  fi::TtnDevice d;
  d.station_id = "KYLL-BRUECKE-1";
  d.mount_height_mm = 4000.0;  // sensor face 4.000 m above gauge zero
  d.unit = "cm";
  c.devices["ldds75-kyll-bridge-1"] = d;
  return c;
}

std::vector<std::uint8_t> Bytes(std::initializer_list<int> v) {
  std::vector<std::uint8_t> out;
  for (int x : v) out.push_back(static_cast<std::uint8_t>(x));
  return out;
}

}  // namespace

TEST(Base64, DecodesAndRejects) {
  EXPECT_EQ(*fi::DecodeBase64("C0ULBQAAAAA="), Bytes({0x0B, 0x45, 0x0B, 0x05, 0, 0, 0, 0}));
  EXPECT_EQ(*fi::DecodeBase64("y0ULBQ=="), Bytes({0xCB, 0x45, 0x0B, 0x05}));
  EXPECT_EQ(*fi::DecodeBase64("C0U="), Bytes({0x0B, 0x45}));
  EXPECT_TRUE(fi::DecodeBase64("")->empty());
  EXPECT_FALSE(fi::DecodeBase64("C0U"));       // not a multiple of 4
  EXPECT_FALSE(fi::DecodeBase64("C0U*"));      // bad character
  EXPECT_FALSE(fi::DecodeBase64("C=U="));      // padding inside
  EXPECT_FALSE(fi::DecodeBase64("C0U=C0U="));  // padding before the end
}

TEST(Ldds75, DataSheetLayout) {
  auto f = fi::DecodeLdds75(*fi::DecodeBase64("C0ULBQAAAAA="));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->battery_mv, 2885);
  EXPECT_EQ(f->distance_mm, 2821);
  EXPECT_TRUE(f->distance_valid);
  EXPECT_EQ(f->interrupt_flag.value(), 0);
  EXPECT_EQ(f->temperature_c.value(), 0.0);
  EXPECT_EQ(f->sensor_flag.value(), 0);

  f = fi::DecodeLdds75(*fi::DecodeBase64("y0ULBQ=="));  // 4-byte frame, top battery bits set
  ASSERT_TRUE(f);
  EXPECT_EQ(f->battery_mv, 2885);
  EXPECT_EQ(f->distance_mm, 2821);
  EXPECT_FALSE(f->interrupt_flag);
  EXPECT_FALSE(f->temperature_c);

  f = fi::DecodeLdds75(*fi::DecodeBase64("C0UAEwD/nAA="));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->distance_mm, 19);
  EXPECT_FALSE(f->distance_valid);
  EXPECT_DOUBLE_EQ(f->temperature_c.value(), -10.0);

  f = fi::DecodeLdds75(*fi::DecodeBase64("C0UAFAEBEAE="));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->distance_mm, 20);
  EXPECT_TRUE(f->distance_valid);
  EXPECT_EQ(f->interrupt_flag.value(), 1);
  EXPECT_DOUBLE_EQ(f->temperature_c.value(), 27.2);
  EXPECT_EQ(f->sensor_flag.value(), 1);

  std::string err;
  EXPECT_FALSE(fi::DecodeLdds75(*fi::DecodeBase64("C0U="), &err));
  EXPECT_NE(err.find("2 bytes"), std::string::npos) << err;
}

TEST(TtnUplink, LevelFromMountHeightMinusDistance) {
  auto r = fi::DecodeTtnUplink(Sample(), "v3/floodwarn-gauges@ttn/devices/x/up", Config(), kRecv);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.readings.size(), 1u);
  const auto& x = r.readings[0];
  EXPECT_EQ(x.station_id, "KYLL-BRUECKE-1");
  EXPECT_DOUBLE_EQ(x.value, 117.9);  // (4000 - 2821) mm = 117.9 cm
  EXPECT_EQ(x.unit, "cm");
  EXPECT_EQ(x.flag, fi::QcFlag::kNotEvaluated);
  EXPECT_EQ(x.source, "ttn");
  // uplink_message.received_at 2024-03-01T11:15:02.185937224Z, truncated to ms
  EXPECT_EQ(x.observed.time_since_epoch().count(), 1709291702185);
  EXPECT_EQ(x.received, kRecv);
}

TEST(TtnUplink, UnitsOfTheLevel) {
  auto cfg = Config();
  cfg.devices.begin()->second.unit = "m";
  auto r = fi::DecodeTtnUplink(Sample(), "t", cfg, kRecv);
  ASSERT_EQ(r.readings.size(), 1u);
  EXPECT_DOUBLE_EQ(r.readings[0].value, 1.179);
  cfg.devices.begin()->second.unit = "ft";
  r = fi::DecodeTtnUplink(Sample(), "t", cfg, kRecv);
  EXPECT_TRUE(r.readings.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("\"ft\""), std::string::npos);
}

TEST(TtnUplink, InvalidDistanceIsAMissingReadingNotALowLevel) {
  auto r = fi::DecodeTtnUplink(WithPayload(Sample(), "C0UAEwD/nAA="), "t", Config(), kRecv);
  ASSERT_EQ(r.readings.size(), 1u);
  EXPECT_TRUE(std::isnan(r.readings[0].value));
  EXPECT_EQ(r.readings[0].flag, fi::QcFlag::kMissing);
  EXPECT_NE(r.readings[0].reason.find("invalid"), std::string::npos);
  r = fi::DecodeTtnUplink(WithPayload(Sample(), "C0UAAAAAAAA="), "t", Config(), kRecv);
  ASSERT_EQ(r.readings.size(), 1u);
  EXPECT_EQ(r.readings[0].flag, fi::QcFlag::kMissing);
  EXPECT_EQ(r.readings[0].reason, "ldds75: no sensor");
}

TEST(TtnUplink, ErrorsNameTheDeviceAndProblem) {
  auto r = fi::DecodeTtnUplink(WithPayload(Sample(), "C0U="), "t", Config(), kRecv);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("ldds75-kyll-bridge-1"), std::string::npos);
  r = fi::DecodeTtnUplink(WithPayload(Sample(), "!!!!"), "t", Config(), kRecv);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("base64"), std::string::npos);
  fi::TtnConfig empty;
  r = fi::DecodeTtnUplink(Sample(), "t", empty, kRecv);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("unknown device"), std::string::npos);
  empty.ignore_unknown_devices = true;
  r = fi::DecodeTtnUplink(Sample(), "t", empty, kRecv);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.readings.empty());
  r = fi::DecodeTtnUplink("{\"end_device_ids\":", "t", Config(), kRecv);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("malformed JSON"), std::string::npos);
}

TEST(TtnUplink, OtherPortsAreNotMeasurements) {
  std::string s = Sample();
  s.replace(s.find("\"f_port\": 2"), 11, "\"f_port\": 5");
  auto r = fi::DecodeTtnUplink(s, "t", Config(), kRecv);
  EXPECT_TRUE(r.readings.empty());
  EXPECT_TRUE(r.errors.empty());
  // f_port omitted (0 is omitted by TTS): a MAC-only frame
  s = Sample();
  s.replace(s.find("\"f_port\": 2,"), 12, "");
  r = fi::DecodeTtnUplink(s, "t", Config(), kRecv);
  EXPECT_TRUE(r.readings.empty());
  EXPECT_TRUE(r.errors.empty());
}
