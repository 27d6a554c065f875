// Deterministic mutation smoke test of the live decoders (runs under g++;
// the libFuzzer targets in fuzz_live/ need clang): thousands of mutated
// payloads from valid MQTT JSON, TTN, PEGELONLINE and SensorThings messages.
// Properties:
//  - no decoder throws or crashes, every error offset lies inside the input;
//  - a message that lost readings reports at least one error (never silent);
//  - when the mutation stays inside one element of an array (no structural
//    characters), every other element is still decoded exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/pegelonline.hpp"
#include "floodwarn/ingest/sensorthings.hpp"
#include "floodwarn/ingest/ttn.hpp"
#include "test_http_replay_server.hpp"  // ReadTestData

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;

namespace {

constexpr int kMutations = 3000;

std::string Mutate(std::string s, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 5), byte(0, 255);
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < n && !s.empty(); ++k) {
    const std::size_t pos = rng() % s.size();
    switch (op(rng)) {
      case 0:
        s[pos] = static_cast<char>(byte(rng));
        break;
      case 1:
        s.erase(pos, 1 + rng() % 8);
        break;
      case 2:
        s.insert(pos, 1, static_cast<char>(byte(rng)));
        break;
      case 3:
        s.resize(pos);  // truncation
        break;
      case 4:
        s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16));  // duplicate a chunk
        break;
      default: {
        static const char* kTokens[] = {"\"",    "{", "}",  "[",     "]", ",", ":",     "null",
                                        "1e999", "-", "\\", "\\u00", "T", "Z", "+01:00"};
        s.insert(pos, kTokens[rng() % (sizeof kTokens / sizeof *kTokens)]);
      }
    }
  }
  return s;
}

void CheckResult(const fi::DecodeResult& r, std::size_t input_size, const std::string& input) {
  for (const auto& e : r.errors) {
    EXPECT_LE(e.offset, input_size) << input;
    EXPECT_FALSE(e.message.empty());
  }
  for (const auto& x : r.readings) {
    EXPECT_FALSE(x.station_id.empty());
    if (x.flag == fi::QcFlag::kMissing)
      EXPECT_TRUE(std::isnan(x.value));
    else
      EXPECT_TRUE(std::isfinite(x.value)) << input;
  }
}

// An array of `n` MQTT JSON readings and the byte span of each element.
std::string MqttArray(int n, std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i) s += ",";
    const std::string e = "{\"station\":\"S" + std::to_string(i) +
                          "\",\"time\":\"2024-03-01T11:" + (i < 10 ? "0" : "") + std::to_string(i) +
                          ":00Z\",\"value\":" + std::to_string(100 + i) + ".5,\"unit\":\"cm\"}";
    spans.push_back({s.size(), s.size() + e.size()});
    s += e;
  }
  return s + "]";
}

}  // namespace

TEST(DecoderMutation, MqttJsonNeverCrashesNeverSilent) {
  std::mt19937 rng(1);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  const std::string base = MqttArray(5, spans);
  std::size_t errors = 0;
  for (int i = 0; i < kMutations; ++i) {
    const std::string m = Mutate(base, rng);
    fi::DecodeResult r;
    ASSERT_NO_THROW(r = fi::DecodeMqttJson(m, "t", fi::TimePoint{}));
    CheckResult(r, m.size(), m);
    if (r.readings.size() < 5) {
      EXPECT_FALSE(r.errors.empty()) << m;
    }
    errors += r.errors.size();
  }
  EXPECT_GT(errors, static_cast<std::size_t>(kMutations / 2));  // the mutations did bite
}

TEST(DecoderMutation, MqttJsonGoodElementsSurviveABadNeighbour) {
  std::mt19937 rng(2);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  const std::string base = MqttArray(6, spans);
  const std::string harmless = "abcXYZ019 .:-_";
  for (int i = 0; i < kMutations; ++i) {
    const int victim = static_cast<int>(rng() % spans.size());
    std::string m = base;
    const auto [from, to] = spans[static_cast<std::size_t>(victim)];
    // replace up to 3 non-structural bytes (not quote, bracket, brace, comma,
    // backslash) by non-structural ones: the element may break, its
    // neighbours must not
    for (int k = 0; k < 3; ++k) {
      const std::size_t pos = from + rng() % (to - from);
      if (std::string("\"{}[],\\").find(m[pos]) == std::string::npos)
        m[pos] = harmless[rng() % harmless.size()];
    }
    const auto r = fi::DecodeMqttJson(m, "t", fi::TimePoint{});
    std::set<std::string> got;
    for (const auto& x : r.readings) got.insert(x.station_id + "=" + std::to_string(x.value));
    for (int e = 0; e < 6; ++e) {
      if (e == victim) continue;
      EXPECT_TRUE(got.count("S" + std::to_string(e) + "=" + std::to_string(100 + e + 0.5)))
          << "element " << e << " lost because of element " << victim << ": " << m;
    }
  }
}

TEST(DecoderMutation, TtnNeverCrashes) {
  std::mt19937 rng(3);
  const std::string base = ft::ReadTestData("ttn_uplink_ldds75.json");
  fi::TtnConfig config;
  fi::TtnDevice d;
  d.station_id = "KYLL";
  d.mount_height_mm = 4000;
  config.devices["ldds75-kyll-bridge-1"] = d;
  std::size_t errors = 0;
  for (int i = 0; i < kMutations; ++i) {
    const std::string m = Mutate(base, rng);
    fi::DecodeResult r;
    ASSERT_NO_THROW(r = fi::DecodeTtnUplink(m, "t", config, fi::TimePoint{}));
    CheckResult(r, m.size(), m);
    EXPECT_LE(r.readings.size(), 1u);
    errors += r.errors.size();
  }
  EXPECT_GT(errors, static_cast<std::size_t>(kMutations / 4));
}

TEST(DecoderMutation, PegelonlineNeverCrashesNeverSilent) {
  std::mt19937 rng(4);
  const std::string base = ft::ReadTestData("pegelonline_eitze_W_measurements.json");
  fi::PegelonlineSeries s;
  s.station_id = "EITZE";
  s.uuid = "u";
  for (int i = 0; i < kMutations; ++i) {
    const std::string m = Mutate(base, rng);
    fi::DecodeResult r;
    ASSERT_NO_THROW(r = fi::DecodePegelonlineMeasurements(m, "t", s, fi::TimePoint{}));
    CheckResult(r, m.size(), m);
    if (r.readings.size() < 5) {
      EXPECT_FALSE(r.errors.empty()) << m;
    }
    ASSERT_NO_THROW(r = fi::DecodePegelonlineCurrent(m, "t", s, fi::TimePoint{}));
    CheckResult(r, m.size(), m);
  }
}

TEST(DecoderMutation, SensorThingsNeverCrashesNeverSilent) {
  std::mt19937 rng(5);
  const std::string base = ft::ReadTestData("sensorthings_observations_page3.json");
  fi::SensorThingsDatastream ds;
  ds.station_id = "KYLL";
  ds.datastream_id = "17";
  for (int i = 0; i < kMutations; ++i) {
    const std::string m = Mutate(base, rng);
    fi::SensorThingsPage p;
    ASSERT_NO_THROW(p = fi::DecodeSensorThingsObservations(m, "t", ds, fi::TimePoint{}));
    CheckResult(p.decoded, m.size(), m);
    if (p.decoded.readings.empty()) {
      EXPECT_FALSE(p.decoded.errors.empty()) << m;
    }
  }
}
