// SensorThings decoder and poller against a local HTTP server replaying
// FROST-shaped Observation pages: paging through @iot.nextLink (3 pages),
// cursor per page, interval phenomenonTime, bad observations skipped with
// their offset, a 500 then success.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cmath>
#include <mutex>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/sensorthings.hpp"
#include "test_http_replay_server.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;
using namespace std::chrono_literals;

namespace {

// 2024-03-01T00:00:00Z
fi::TimePoint Utc(int h, int m) {
  return fi::TimePoint(std::chrono::milliseconds(1709251200000LL)) + std::chrono::hours(h) +
         std::chrono::minutes(m);
}

fi::SensorThingsDatastream Kyll() {
  fi::SensorThingsDatastream d;
  d.station_id = "KYLL-ERDORF";
  d.datastream_id = "17";
  d.unit = "cm";
  return d;
}

std::string Page(const std::string& name, const std::string& base) {
  std::string s = ft::ReadTestData(name);
  for (std::size_t p; (p = s.find("{BASE}")) != std::string::npos;) s.replace(p, 6, base);
  return s;
}

struct Api {
  std::mutex mu;
  std::string base;
  int fail_next = 0;
  bool empty = false;
  std::vector<std::string> log;  // "$filter|$orderby|$skip"
};

void Install(ft::ReplayServer& server, Api& api) {
  server.server().Get(
      R"(/FROST-Server/v1\.1/Datastreams\(17\)/Observations)",
      [&api](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(api.mu);
        const std::string skip = req.get_param_value("$skip");
        api.log.push_back(req.get_param_value("$filter") + "|" + req.get_param_value("$orderby") +
                          "|" + skip);
        if (api.fail_next > 0) {
          --api.fail_next;
          res.status = 500;
          return;
        }
        const std::string v11 = api.base + "/FROST-Server/v1.1";
        if (api.empty)
          res.set_content(R"({"value":[]})", "application/json");
        else if (skip.empty())
          res.set_content(Page("sensorthings_observations_page1.json", v11), "application/json");
        else if (skip == "2")
          res.set_content(Page("sensorthings_observations_page2.json", v11), "application/json");
        else
          res.set_content(Page("sensorthings_observations_page3.json", v11), "application/json");
      });
}

struct Rig {
  Rig() : store(ft::MakeTempDir("sta") + "/readings.db"), pipeline(store, registry) {}
  fi::SensorThingsConfig Config(const std::string& base) {
    fi::SensorThingsConfig c;
    c.base_url = base + "/FROST-Server/v1.1";
    c.datastreams = {Kyll()};
    c.page_size = 2;
    c.backoff_initial = 5s;
    return c;
  }
  prometheus::Registry registry;
  fi::ReadingStore store;
  fi::IngestPipeline pipeline;
};

}  // namespace

TEST(SensorThingsDecode, PageWithInstantIntervalNullAndBadResult) {
  const std::string body = Page("sensorthings_observations_page2.json", "http://x");
  const auto page = fi::DecodeSensorThingsObservations(body, "url", Kyll(), Utc(12, 0));
  ASSERT_EQ(page.decoded.readings.size(), 2u);
  // interval "10:15/10:30": observed at its end
  EXPECT_EQ(page.decoded.readings[0].observed, Utc(10, 30));
  EXPECT_EQ(page.decoded.readings[0].value, 91.0);
  EXPECT_EQ(page.decoded.readings[0].source, "sensorthings");
  EXPECT_EQ(page.decoded.readings[1].observed, Utc(11, 0));
  EXPECT_TRUE(std::isnan(page.decoded.readings[1].value));
  EXPECT_EQ(page.decoded.readings[1].flag, fi::QcFlag::kMissing);
  ASSERT_EQ(page.decoded.errors.size(), 1u);
  EXPECT_EQ(page.decoded.errors[0].offset, body.find(R"({"@iot.id": 1004)"));
  EXPECT_NE(page.decoded.errors[0].message.find("result"), std::string::npos);
  ASSERT_TRUE(page.next_link);
  EXPECT_NE(page.next_link->find("$skip=5"), std::string::npos);
}

TEST(SensorThingsDecode, BrokenEnvelope) {
  auto page = fi::DecodeSensorThingsObservations("{\"value\": 3}", "u", Kyll(), Utc(0, 0));
  EXPECT_EQ(page.decoded.errors.size(), 1u);
  page = fi::DecodeSensorThingsObservations("[1,2]", "u", Kyll(), Utc(0, 0));
  EXPECT_EQ(page.decoded.errors.size(), 1u);
  page = fi::DecodeSensorThingsObservations("{\"valu", "u", Kyll(), Utc(0, 0));
  EXPECT_EQ(page.decoded.errors.size(), 1u);
  // one broken element: the envelope does not parse, the others still do
  const std::string body = R"({"value":[{"phenomenonTime":"2024-03-01T10:00:00Z","result":1},)"
                           R"({"phenomenonTime":"2024-03-01T10:15:00Z","result":},)"
                           R"({"phenomenonTime":"2024-03-01T10:30:00Z","result":3}]})";
  page = fi::DecodeSensorThingsObservations(body, "u", Kyll(), Utc(0, 0));
  EXPECT_EQ(page.decoded.readings.size(), 2u);
  ASSERT_EQ(page.decoded.errors.size(), 1u);
  EXPECT_GT(page.decoded.errors[0].offset, body.find("10:15"));
}

TEST(SensorThingsPoller, FollowsThreePagesThenResumesFromCursor) {
  Api api;
  ft::ReplayServer server;
  Install(server, api);
  server.Start();
  api.base = server.base();
  Rig rig;
  fi::SensorThingsPoller poller(rig.Config(server.base()), rig.pipeline, rig.store);

  auto o = poller.PollOnce(Utc(12, 0));
  EXPECT_EQ(o.requests, 3u);
  EXPECT_EQ(o.failures, 0u);
  EXPECT_EQ(o.inserted, 5u);
  EXPECT_EQ(o.decode_errors, 1u);
  EXPECT_EQ(rig.store.Count(), 5u);
  EXPECT_EQ(rig.store.Latest("KYLL-ERDORF")->value, 97.25);
  EXPECT_EQ(rig.store.Cursor(fi::SensorThingsPoller::CursorName(Kyll())).value_or(""),
            "2024-03-01T11:15:00Z");
  {
    std::lock_guard<std::mutex> lock(api.mu);
    ASSERT_EQ(api.log.size(), 3u);
    // first request: since now - 24 h, ascending
    EXPECT_EQ(api.log[0], "phenomenonTime gt 2024-02-29T12:00:00Z|phenomenonTime asc|");
    EXPECT_EQ(api.log[1].substr(api.log[1].size() - 2), "|2");
    EXPECT_EQ(api.log[2].substr(api.log[2].size() - 2), "|5");
  }

  // next round: asks only for what is newer than the cursor
  {
    std::lock_guard<std::mutex> lock(api.mu);
    api.empty = true;
  }
  o = poller.PollOnce(Utc(12, 5));
  EXPECT_EQ(o.requests, 1u);
  EXPECT_EQ(o.inserted, 0u);
  {
    std::lock_guard<std::mutex> lock(api.mu);
    EXPECT_EQ(api.log.back(), "phenomenonTime gt 2024-03-01T11:15:00Z|phenomenonTime asc|");
  }
}

TEST(SensorThingsPoller, ServerErrorThenSuccess) {
  Api api;
  api.fail_next = 1;
  ft::ReplayServer server;
  Install(server, api);
  server.Start();
  api.base = server.base();
  Rig rig;
  fi::SensorThingsPoller poller(rig.Config(server.base()), rig.pipeline, rig.store);
  auto o = poller.PollOnce(Utc(12, 0));
  EXPECT_EQ(o.failures, 1u);
  EXPECT_EQ(o.next_delay, 5s);
  EXPECT_EQ(rig.store.Count(), 0u);
  EXPECT_FALSE(rig.store.Cursor(fi::SensorThingsPoller::CursorName(Kyll())));
  o = poller.PollOnce(Utc(12, 0));
  EXPECT_EQ(o.failures, 0u);
  EXPECT_EQ(o.inserted, 5u);
  EXPECT_EQ(o.next_delay, 300s);
}
