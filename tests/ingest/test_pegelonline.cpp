// PEGELONLINE decoder and poller against a local HTTP server replaying
// API-shaped responses: conditional requests (ETag -> 304), a 500 followed by
// success with backoff, a timeout, gap filling from the cursor, and the
// 52North sample from ../shared as an external check of the decoder.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/pegelonline.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "test_http_replay_server.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUuid = "47174d8f-1b8e-4599-8a59-b580dd55bc87";  // EITZE
// 2023-01-04T18:15:00Z etc. (the API sends +01:00 in winter)
fi::TimePoint Utc(int h, int m) {
  return fi::TimePoint(std::chrono::milliseconds(1672790400000LL)) + std::chrono::hours(h) +
         std::chrono::minutes(m);
}

fi::PegelonlineSeries Eitze() {
  fi::PegelonlineSeries s;
  s.station_id = "EITZE";
  s.uuid = kUuid;
  return s;
}

// The server's state, scripted by each test.
struct Api {
  std::mutex mu;
  std::string current = ft::ReadTestData("pegelonline_eitze_W_current.json");
  std::string measurements = ft::ReadTestData("pegelonline_eitze_W_measurements.json");
  std::string etag = "\"v1\"";
  int fail_next = 0;  // answer 500 to that many current-measurement requests
  std::chrono::milliseconds delay{0};
  std::vector<std::string> log;  // "current If-None-Match=..." / "measurements start=..."
};

void Install(ft::ReplayServer& server, Api& api) {
  const std::string base = std::string("/webservices/rest-api/v2/stations/") + kUuid + "/W";
  server.server().Get(base + "/currentmeasurement.json", [&api](const httplib::Request& req,
                                                                httplib::Response& res) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> lock(api.mu);
      api.log.push_back("current If-None-Match=" + req.get_header_value("If-None-Match"));
      delay = api.delay;
      if (api.fail_next > 0) {
        --api.fail_next;
        res.status = 500;
        res.set_content("{\"status\":500,\"message\":\"Internal error\"}", "application/json");
        return;
      }
      if (req.get_header_value("If-None-Match") == api.etag) {
        res.status = 304;
        return;
      }
      res.set_header("ETag", api.etag);
      res.set_content(api.current, "application/json");
    }
    std::this_thread::sleep_for(delay);
  });
  server.server().Get(base + "/measurements.json",
                      [&api](const httplib::Request& req, httplib::Response& res) {
                        std::lock_guard<std::mutex> lock(api.mu);
                        api.log.push_back("measurements start=" + req.get_param_value("start"));
                        res.set_content(api.measurements, "application/json");
                      });
}

struct Rig {
  Rig() : store(ft::MakeTempDir("pegelonline") + "/readings.db"), pipeline(store, registry) {}
  fi::PegelonlineConfig Config(const std::string& base) {
    fi::PegelonlineConfig c;
    c.base_url = base + "/webservices/rest-api/v2";
    c.series = {Eitze()};
    c.interval = 300s;
    c.backoff_initial = 5s;
    c.http.timeout = 2000ms;
    return c;
  }
  prometheus::Registry registry;
  fi::ReadingStore store;
  fi::IngestPipeline pipeline;
};

}  // namespace

TEST(PegelonlineDecode, MeasurementsAndCurrent) {
  const auto r = fi::DecodePegelonlineMeasurements(
      ft::ReadTestData("pegelonline_eitze_W_measurements.json"), "u", Eitze(), Utc(20, 0));
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.readings.size(), 5u);
  EXPECT_EQ(r.readings[0].observed, Utc(17, 15));  // 18:15+01:00
  EXPECT_EQ(r.readings[0].value, 366.0);
  EXPECT_EQ(r.readings[0].unit, "cm");
  EXPECT_EQ(r.readings[0].source, "pegelonline");
  EXPECT_EQ(r.readings[4].observed, Utc(18, 15));
  const auto c = fi::DecodePegelonlineCurrent(ft::ReadTestData("pegelonline_eitze_W_current.json"),
                                              "u", Eitze(), Utc(20, 0));
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].value, 369.0);
  EXPECT_EQ(c.readings[0].observed, Utc(18, 15));
}

TEST(PegelonlineDecode, BadElementsReportedGoodKept) {
  const std::string body = R"([{"timestamp":"2023-01-04T18:15:00+01:00","value":366.0},)"
                           R"({"timestamp":"2023-01-04T18:30:00","value":367.0},)"
                           R"({"timestamp":"2023-01-04T18:45:00+01:00"},)"
                           R"({"timestamp":"2023-01-04T19:00:00+01:00","value":369.0}])";
  const auto r = fi::DecodePegelonlineMeasurements(body, "url", Eitze(), Utc(20, 0));
  ASSERT_EQ(r.readings.size(), 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].offset, body.find(R"({"timestamp":"2023-01-04T18:30)"));
  EXPECT_NE(r.errors[0].message.find("offset"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[1].offset, body.find(R"({"timestamp":"2023-01-04T18:45)"));
  EXPECT_NE(r.errors[1].message.find("value"), std::string::npos);
  const auto o = fi::DecodePegelonlineMeasurements("{\"a\":1}", "url", Eitze(), Utc(20, 0));
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_NE(o.errors[0].message.find("array"), std::string::npos);
}

// External check: the 52North message derived from the real API.
TEST(PegelonlineDecode, SharedSample52North) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/pegelonline_eitze_kafka_message_52north.json");
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  const auto& w = doc["timeseries"][0];
  ASSERT_EQ(w["shortname"], "W");
  const auto r =
      fi::DecodePegelonlineMeasurements(w["measurements"].dump(), path, Eitze(), Utc(20, 0));
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.readings.size(), 5u);
  EXPECT_EQ(r.readings.front().observed, Utc(17, 15));
  EXPECT_EQ(r.readings.back().observed, Utc(18, 15));
  EXPECT_EQ(r.readings.back().value, 369.0);
  const auto c =
      fi::DecodePegelonlineCurrent(w["currentMeasurement"].dump(), path, Eitze(), Utc(20, 0));
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].observed, Utc(18, 15));
}

TEST(PegelonlinePoller, ConditionalRequestsBackoffAndGapFill) {
  Api api;
  ft::ReplayServer server;
  Install(server, api);
  server.Start();
  Rig rig;
  fi::PegelonlinePoller poller(rig.Config(server.base()), rig.pipeline, rig.store);
  const fi::TimePoint now = Utc(18, 20);

  // 1. first poll: current (200, ETag v1), then the last 24 h of measurements
  auto o = poller.PollOnce(now);
  EXPECT_EQ(o.requests, 2u);
  EXPECT_EQ(o.failures, 0u);
  EXPECT_EQ(o.inserted, 5u);  // the current measurement duplicates the last one
  EXPECT_EQ(o.next_delay, 300s);
  EXPECT_EQ(rig.store.Count(), 5u);
  EXPECT_EQ(rig.store.Cursor(fi::PegelonlinePoller::CursorName(Eitze())).value_or(""),
            "2023-01-04T18:15:00Z");
  {
    std::lock_guard<std::mutex> lock(api.mu);
    ASSERT_EQ(api.log.size(), 2u);
    EXPECT_EQ(api.log[0], "current If-None-Match=");
    EXPECT_EQ(api.log[1], "measurements start=2023-01-03T18:20:00Z");  // now - 24 h
  }

  // 2. unchanged: If-None-Match v1 -> 304, no measurements request
  o = poller.PollOnce(now + 5min);
  EXPECT_EQ(o.requests, 1u);
  EXPECT_EQ(o.not_modified, 1u);
  EXPECT_EQ(o.inserted, 0u);
  {
    std::lock_guard<std::mutex> lock(api.mu);
    EXPECT_EQ(api.log.back(), "current If-None-Match=\"v1\"");
  }

  // 3. the server fails once (500): a failure and a backoff delay, nothing stored
  {
    std::lock_guard<std::mutex> lock(api.mu);
    api.fail_next = 2;
    api.current = ft::ReadTestData("pegelonline_eitze_W_current_2.json");
    api.measurements = ft::ReadTestData("pegelonline_eitze_W_measurements_2.json");
    api.etag = "\"v2\"";
  }
  o = poller.PollOnce(now + 10min);
  EXPECT_EQ(o.failures, 1u);
  EXPECT_EQ(o.next_delay, 5s);
  o = poller.PollOnce(now + 10min);
  EXPECT_EQ(o.next_delay, 10s);  // grows
  EXPECT_EQ(rig.store.Count(), 5u);

  // 4. then success: measurements since the cursor fill the gap (19:30, 19:45)
  o = poller.PollOnce(now + 11min);
  EXPECT_EQ(o.failures, 0u);
  EXPECT_EQ(o.inserted, 2u);
  EXPECT_EQ(o.next_delay, 300s);  // backoff reset
  {
    std::lock_guard<std::mutex> lock(api.mu);
    EXPECT_EQ(api.log.back(), "measurements start=2023-01-04T18:15:00Z");
  }
  EXPECT_EQ(rig.store.Latest("EITZE")->value, 372.0);
  EXPECT_EQ(rig.store.Cursor(fi::PegelonlinePoller::CursorName(Eitze())).value_or(""),
            "2023-01-04T18:45:00Z");
}

TEST(PegelonlinePoller, TimeoutIsATransientFailure) {
  Api api;
  api.delay = 1500ms;
  ft::ReplayServer server;
  Install(server, api);
  server.Start();
  Rig rig;
  auto config = rig.Config(server.base());
  config.http.timeout = 300ms;
  fi::PegelonlinePoller poller(config, rig.pipeline, rig.store);
  const auto o = poller.PollOnce(Utc(18, 20));
  EXPECT_EQ(o.failures, 1u);
  EXPECT_EQ(o.next_delay, 5s);
  EXPECT_EQ(rig.store.Count(), 0u);
}

TEST(PegelonlinePoller, ServerDownIsATransientFailure) {
  Rig rig;
  auto config = rig.Config("http://127.0.0.1:1");  // nothing listens on port 1
  fi::PegelonlinePoller poller(config, rig.pipeline, rig.store);
  const auto o = poller.PollOnce(Utc(18, 20));
  EXPECT_EQ(o.failures, 1u);
  EXPECT_EQ(o.next_delay, 5s);
}
