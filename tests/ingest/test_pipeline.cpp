// IngestPipeline: events only after commit and only for new readings,
// malformed records counted while the good ones are kept, a failing store
// raises nothing, stale / failing / back-to-ok station health with metrics,
// QC from the station registry.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sqlite3.h>

#include <cmath>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;
using namespace std::chrono_literals;

namespace {

// 2024-03-01T00:00:00Z
const fi::TimePoint kT0{std::chrono::milliseconds(1709251200000LL)};

fi::Reading R(const std::string& station, std::chrono::minutes at, double value,
              fi::QcFlag flag = fi::QcFlag::kNotEvaluated) {
  fi::Reading r;
  r.station_id = station;
  r.observed = kT0 + at;
  r.received = kT0 + at + 2s;
  r.value = value;
  r.unit = "cm";
  r.flag = flag;
  r.source = "mqtt";
  return r;
}

fi::DecodeResult Decoded(std::vector<fi::Reading> readings) {
  fi::DecodeResult d;
  d.readings = std::move(readings);
  return d;
}

// Records events; on each reading checks that it is already in the store.
class Recorder : public fi::IngestSubscriber {
 public:
  explicit Recorder(const fi::ReadingStore* store = nullptr) : store_(store) {}
  void OnReading(const fi::Reading& r) override {
    readings.push_back(r);
    if (store_) {
      auto stored = store_->Query(r.station_id, r.observed, r.observed + 1ms);
      durable_when_raised.push_back(!stored.empty());
    }
  }
  void OnStationHealth(const fi::StationHealthEvent& e) override { health.push_back(e); }
  std::vector<fi::Reading> readings;
  std::vector<bool> durable_when_raised;
  std::vector<fi::StationHealthEvent> health;

 private:
  const fi::ReadingStore* store_;
};

std::string Metrics(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST(Pipeline, EventsAfterCommitOnlyForNewReadings) {
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipeline pipeline(store, registry);
  Recorder rec(&store);
  pipeline.AddSubscriber(&rec);
  auto res = pipeline.Ingest("mqtt", Decoded({R("A", 0min, 1), R("A", 15min, 2), R("B", 0min, 3)}));
  EXPECT_EQ(res.inserted, 3u);
  ASSERT_EQ(rec.readings.size(), 3u);
  for (bool durable : rec.durable_when_raised) EXPECT_TRUE(durable);
  // re-delivery of the same readings (plus one new): one event, 2 duplicates
  res = pipeline.Ingest("mqtt", Decoded({R("A", 0min, 1), R("A", 30min, 4), R("B", 0min, 3)}));
  EXPECT_EQ(res.inserted, 1u);
  EXPECT_EQ(res.duplicates, 2u);
  ASSERT_EQ(rec.readings.size(), 4u);
  EXPECT_EQ(rec.readings.back().value, 4.0);
  const std::string m = Metrics(registry);
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_readings_total{flag="not_evaluated",source="mqtt"} 4)"))
      << m;
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_duplicates_total{source="mqtt"} 2)")) << m;
}

// A source's running totals (MqttSourceStats) become counters that advance by
// what is new and never go back; a recreated source starts again at 0.
TEST(Pipeline, ConnectionTotalsBecomeCounters) {
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipeline pipeline(store, registry);
  pipeline.metrics().SetConnectionTotals("mqtt:gauges", 1, 3);
  pipeline.metrics().SetConnectionTotals("mqtt:gauges", 2, 5);
  std::string m = Metrics(registry);
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_connects_total{source="mqtt:gauges"} 2)")) << m;
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_connect_failures_total{source="mqtt:gauges"} 5)")) << m;
  pipeline.metrics().SetConnectionTotals("mqtt:gauges", 0, 1);  // the source was recreated
  m = Metrics(registry);
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_connects_total{source="mqtt:gauges"} 2)")) << m;
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_connect_failures_total{source="mqtt:gauges"} 6)")) << m;
}

TEST(Pipeline, MalformedRecordsCountedGoodOnesKept) {
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipeline pipeline(store, registry);
  Recorder rec;
  pipeline.AddSubscriber(&rec);
  const fi::TimePoint now = kT0 + 1h;
  std::vector<fi::DecodeResult> batch;
  batch.push_back(fi::DecodeMqttJson(
      R"([{"station":"A","time":"2024-03-01T00:00:00Z","value":1,"unit":"cm"},)"
      R"({"station":"A","time":"2024-03-01T00:15:00Z","value":"high","unit":"cm"},)"
      R"({"station":"A","time":"2024-03-01T00:30:00Z","value":3,"unit":"cm"}])",
      "gauges/A", now));
  batch.push_back(fi::DecodeMqttJson("{garbage", "gauges/B", now));
  batch.push_back(fi::DecodeMqttJson(
      R"({"station":"B","time":"2024-03-01T00:00:00Z","value":7,"unit":"cm"})", "gauges/B", now));
  const auto res = pipeline.Ingest("mqtt", std::move(batch));
  EXPECT_EQ(res.decode_errors, 2u);
  EXPECT_EQ(res.inserted, 3u);
  EXPECT_EQ(store.Count(), 3u);
  EXPECT_EQ(rec.readings.size(), 3u);
  EXPECT_TRUE(Has(Metrics(registry), R"(floodwarn_ingest_decode_errors_total{source="mqtt"} 2)"));
}

TEST(Pipeline, FailingStoreRaisesNothingAndKeepsCursor) {
  prometheus::Registry registry;
  const std::string path = ft::MakeTempDir("pipeline") + "/r.db";
  fi::ReadingStore store(path);
  fi::IngestPipeline pipeline(store, registry);
  Recorder rec;
  pipeline.AddSubscriber(&rec);
  const std::string cursor = "c";
  std::string value = "1";
  std::vector<fi::DecodeResult> ok;
  ok.push_back(Decoded({R("A", 0min, 1)}));
  pipeline.Ingest("mqtt", std::move(ok), &cursor, &value);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER no_b BEFORE INSERT ON readings WHEN NEW.station='B' "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  value = "2";
  std::vector<fi::DecodeResult> bad;
  bad.push_back(Decoded({R("A", 15min, 2), R("B", 15min, 3)}));
  EXPECT_THROW(pipeline.Ingest("mqtt", std::move(bad), &cursor, &value), std::runtime_error);
  EXPECT_EQ(rec.readings.size(), 1u);  // only the first, committed reading
  EXPECT_EQ(store.Cursor("c").value_or(""), "1");
  EXPECT_EQ(store.Count(), 1u);
}

// One default for "stale" (issue #11): the pipeline's, a registry station's
// without [station.qc] stale_factor and so the alert engine's (which takes
// its stations' stale limits from the registry) are kDefaultStaleFactor.
TEST(Pipeline, OneStaleDefault) {
  EXPECT_EQ(fi::IngestPipelineOptions{}.stale_after_intervals, fi::kDefaultStaleFactor);
  EXPECT_EQ(fi::QcParams{}.stale_factor, fi::kDefaultStaleFactor);
  const fi::StationRegistry registry = fi::ParseStations(
      "[[station]]\nid = \"A\"\nkind = \"water_level\"\nunit = \"cm\"\n"
      "expected_interval = \"15min\"\nlocation = { lat = 50.0, lon = 8.0 }\n",
      "stations.toml");
  ASSERT_NE(registry.Find("A"), nullptr);
  EXPECT_EQ(registry.Find("A")->qc.stale_factor, fi::kDefaultStaleFactor);
  EXPECT_EQ(registry.Find("A")->StaleAfter(), 30min);
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  const fi::IngestPipelineOptions opt = fi::PipelineOptionsFromRegistry(registry, store);
  EXPECT_EQ(opt.stale_after_intervals_by_station.at("A"), fi::kDefaultStaleFactor);
}

TEST(Pipeline, StaleThenBackToOk) {
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipelineOptions opt;
  opt.expected_interval["A"] = 15min;
  opt.expected_interval["SILENT"] = 15min;
  opt.stale_after_intervals = 2.0;
  fi::IngestPipeline pipeline(store, registry, opt);
  Recorder rec;
  pipeline.AddSubscriber(&rec);
  pipeline.Ingest("mqtt", Decoded({R("A", 0min, 100)}));

  pipeline.CheckStale(kT0 + 20min);
  // A is fine (no event); SILENT never reported: stale right away
  ASSERT_EQ(rec.health.size(), 1u);
  EXPECT_EQ(rec.health[0].station_id, "SILENT");
  EXPECT_EQ(rec.health[0].health, fi::StationHealth::kStale);
  EXPECT_NE(rec.health[0].reason.find("no reading yet"), std::string::npos);
  EXPECT_EQ(pipeline.Health("A"), fi::StationHealth::kOk);

  pipeline.CheckStale(kT0 + 30min);  // exactly 2 intervals: not yet
  EXPECT_EQ(rec.health.size(), 1u);
  pipeline.CheckStale(kT0 + 31min);
  ASSERT_EQ(rec.health.size(), 2u);
  EXPECT_EQ(rec.health[1].station_id, "A");
  EXPECT_EQ(rec.health[1].health, fi::StationHealth::kStale);
  EXPECT_EQ(rec.health[1].last_reading, kT0);
  EXPECT_NE(rec.health[1].reason.find("no reading for 31 min (expected every 15 min)"),
            std::string::npos)
      << rec.health[1].reason;
  std::string m = Metrics(registry);
  EXPECT_TRUE(Has(m, "floodwarn_ingest_stale_stations 2")) << m;
  EXPECT_TRUE(Has(m, R"(floodwarn_ingest_reading_age_seconds{station="A"} 1860)")) << m;
  pipeline.CheckStale(kT0 + 40min);  // still stale: no repeated event
  EXPECT_EQ(rec.health.size(), 2u);

  // a late backfill of an old reading does not make A fresh
  auto late = R("A", 5min, 101);
  late.received = kT0 + 41min;
  pipeline.Ingest("zrxp", Decoded({late}));
  EXPECT_EQ(rec.health.size(), 2u);
  // a fresh reading does
  pipeline.Ingest("mqtt", Decoded({R("A", 45min, 102)}));
  ASSERT_EQ(rec.health.size(), 3u);
  EXPECT_EQ(rec.health[2].health, fi::StationHealth::kOk);
  EXPECT_EQ(pipeline.Health("A"), fi::StationHealth::kOk);
  pipeline.CheckStale(kT0 + 46min);
  m = Metrics(registry);
  EXPECT_TRUE(Has(m, "floodwarn_ingest_stale_stations 1")) << m;
  EXPECT_EQ(rec.health.size(), 3u);
}

TEST(Pipeline, ReportingButOnlyFailedReadingsIsFailing) {
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipelineOptions opt;
  opt.expected_interval["A"] = 15min;
  fi::IngestPipeline pipeline(store, registry, opt);
  Recorder rec;
  pipeline.AddSubscriber(&rec);
  pipeline.Ingest("mqtt", Decoded({R("A", 0min, 100)}));
  pipeline.Ingest("mqtt", Decoded({R("A", 15min, 5000, fi::QcFlag::kFail),
                                   R("A", 30min, NAN, fi::QcFlag::kMissing)}));
  pipeline.CheckStale(kT0 + 35min);
  ASSERT_EQ(rec.health.size(), 1u);
  EXPECT_EQ(rec.health[0].health, fi::StationHealth::kFailing);
  EXPECT_NE(rec.health[0].reason.find("no usable reading"), std::string::npos);
}

TEST(Pipeline, RestartRemembersLastReadingFromStore) {
  prometheus::Registry r1, r2;
  const std::string path = ft::MakeTempDir("pipeline") + "/r.db";
  fi::ReadingStore store(path);
  fi::IngestPipelineOptions opt;
  opt.expected_interval["A"] = 15min;
  {
    fi::IngestPipeline first(store, r1, opt);
    first.Ingest("mqtt", Decoded({R("A", 0min, 100)}));
  }
  fi::IngestPipeline second(store, r2, opt);
  Recorder rec;
  second.AddSubscriber(&rec);
  second.CheckStale(kT0 + 10min);
  EXPECT_TRUE(rec.health.empty());  // known fresh from the store: no "never reported"
  second.CheckStale(kT0 + 40min);
  ASSERT_EQ(rec.health.size(), 1u);
  EXPECT_EQ(rec.health[0].health, fi::StationHealth::kStale);
}

TEST(Pipeline, QcFromStationRegistry) {
  const auto registry_stations = fi::ParseStations(R"(
[[station]]
id = "kyll"
name = "Kyll"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 49.8, lon = 6.6 }
[station.qc]
gross_min = 0
gross_max = 900
stale_factor = 3
)",
                                                   "inline");
  prometheus::Registry registry;
  fi::ReadingStore store(ft::MakeTempDir("pipeline") + "/r.db");
  fi::IngestPipeline pipeline(store, registry,
                              fi::PipelineOptionsFromRegistry(registry_stations, store));
  Recorder rec;
  pipeline.AddSubscriber(&rec);
  pipeline.Ingest("mqtt", Decoded({R("kyll", 0min, 120), R("kyll", 15min, 950)}));
  ASSERT_EQ(rec.readings.size(), 2u);
  EXPECT_EQ(store.Latest("kyll")->flag, fi::QcFlag::kFail);
  EXPECT_NE(store.Latest("kyll")->reason.find("gross_range"), std::string::npos);
  EXPECT_EQ(store.LatestUsable("kyll")->value, 120.0);
  EXPECT_TRUE(
      Has(Metrics(registry), R"(floodwarn_ingest_readings_total{flag="fail",source="mqtt"} 1)"));
  // stale_factor 3 from the registry: 45 min allowed
  pipeline.CheckStale(kT0 + 44min);
  EXPECT_TRUE(rec.health.empty() || rec.health.back().health != fi::StationHealth::kStale);
  // the last usable reading (0 min) is too old, but the station reported a
  // failed value at 15 min: failing, not stale
  pipeline.CheckStale(kT0 + 46min);
  ASSERT_FALSE(rec.health.empty());
  EXPECT_EQ(rec.health.back().health, fi::StationHealth::kFailing);
  pipeline.CheckStale(kT0 + 61min);
  EXPECT_EQ(rec.health.back().health, fi::StationHealth::kStale);
}
