// The live forecast loop (floodwarn::forecast::ForecastLoop) with a real
// reading store and the real `floodwarn forecast run` as its child process:
// forcing from stored readings, the analysis carried from cycle to cycle,
// and every way a cycle can fail reaching the sink as a reason, never as
// silence.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "floodwarn/forecast/loop.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "small_town.hpp"
#include "small_town_readings.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;
using TimePoint = ingest::TimePoint;

// 2026-07-14 12:00:00 UTC
const TimePoint kT0 = TimePoint(seconds(1784030400));

struct RecordingSink : forecast::ForecastSink {
  std::vector<forecast::CycleResult> forecasts;
  std::vector<std::string> unavailable;
  void OnForecast(const forecast::CycleResult& r, TimePoint) override { forecasts.push_back(r); }
  void OnForecastUnavailable(const std::string&, TimePoint, const std::string& why) override {
    unavailable.push_back(why);
  }
};

ingest::Station MakeStation(const std::string& id, ingest::Quantity kind, const std::string& unit) {
  ingest::Station s;
  s.id = id;
  s.name = id;
  s.kind = kind;
  s.unit = unit;
  s.expected_interval = minutes(5);
  return s;
}

class ForecastLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("floodwarn_loop");
    town_ = testing::WriteSmallTown(dir_);
    stations_ =
        ingest::StationRegistry({MakeStation("river_q", ingest::Quantity::kDischarge, "m3/s"),
                                 MakeStation("rain", ingest::Quantity::kRainfall, "mm")});
    store_ = std::make_unique<ingest::ReadingStore>(dir_ + "/readings.db");
    cfg_.file = dir_ + "/serve.toml";
    cfg_.scenario = town_.scenario;
    cfg_.state_dir = dir_ + "/forecast";
    cfg_.interval = minutes(5);
    cfg_.lead_time = minutes(30);
    cfg_.output_interval = minutes(5);
    cfg_.analysis_lag = minutes(5);
    cfg_.warm_up = minutes(30);
    cfg_.timeout = minutes(10);
    cfg_.inflows = {{"river_q", "river", "", false, seconds(7200), 0.0}};
    cfg_.rain_stations = {"rain"};
    cfg_.points = {{"underpass", town_.underpass_x, town_.underpass_y}};
    cfg_.zones_file = town_.zones;
    cfg_.check_conservation = true;
  }
  // Readings every 5 min from kT0 - 1 h to `until`: river 5 m3/s, rain 2 mm per 5 min.
  void StoreReadings(TimePoint until) {
    store_->Write(testing::SmallTownReadings(kT0 - minutes(60), until));
  }
  forecast::ForecastLoop MakeLoop(RecordingSink& sink, TimePoint now) {
    forecast::ForecastLoop::Options opt;
    opt.clock = [now] { return now; };
    opt.executable = testing::BinaryDir() + "/apps/floodwarn";
    return forecast::ForecastLoop(cfg_, stations_, *store_, sink, opt);
  }

  std::string dir_;
  testing::SmallTown town_;
  ingest::StationRegistry stations_;
  std::unique_ptr<ingest::ReadingStore> store_;
  forecast::ForecastConfig cfg_;
};

TEST_F(ForecastLoopTest, CyclesCarryTheAnalysisFromOneToTheNext) {
  StoreReadings(kT0 + minutes(10));
  RecordingSink sink;
  {
    forecast::ForecastLoop loop = MakeLoop(sink, kT0);
    std::string missing;
    const forecast::CycleSpec plan = loop.Plan(kT0 + seconds(20), &missing);
    ASSERT_TRUE(missing.empty()) << missing;
    EXPECT_EQ(plan.cycle_id, "20260714T120000Z");
    EXPECT_TRUE(plan.start_checkpoint.empty());  // nothing to continue: spin up
    EXPECT_DOUBLE_EQ(plan.issue_time - plan.analysis_end, 300.0);
    EXPECT_DOUBLE_EQ(plan.forecast_end - plan.issue_time, 1800.0);
    ASSERT_TRUE(plan.rain_mm_per_h.has_value());
    EXPECT_DOUBLE_EQ(plan.rain_mm_per_h->v.front(), 24.0);  // 2 mm per 5 min
    ASSERT_EQ(plan.boundaries.count("river"), 1u);
    EXPECT_DOUBLE_EQ(plan.boundaries.at("river").v.back(), 5.0);  // persistence

    const forecast::CycleStatus first = loop.RunCycle(kT0 + seconds(20));
    ASSERT_EQ(first.status, "ok") << first.reason;
    ASSERT_EQ(sink.forecasts.size(), 1u);
    EXPECT_DOUBLE_EQ(first.lead_time_reached_s, 1800.0);
  }
  // A new loop (serve restarted) continues from the checkpoint the first wrote.
  forecast::ForecastLoop again = MakeLoop(sink, kT0 + minutes(5));
  std::string missing;
  const forecast::CycleSpec next = again.Plan(kT0 + minutes(5), &missing);
  ASSERT_TRUE(missing.empty()) << missing;
  EXPECT_FALSE(next.start_checkpoint.empty());
  EXPECT_TRUE(fs::exists(next.start_checkpoint));
  const forecast::CycleStatus second = again.RunCycle(kT0 + minutes(5));
  ASSERT_EQ(second.status, "ok") << second.reason;
  EXPECT_EQ(sink.forecasts.size(), 2u);
  EXPECT_TRUE(sink.unavailable.empty());
}

TEST_F(ForecastLoopTest, AStaleForcingGaugeMakesTheForecastUnavailable) {
  StoreReadings(kT0 - minutes(30));  // nothing in the last 30 min
  RecordingSink sink;
  forecast::ForecastLoop loop = MakeLoop(sink, kT0);
  const forecast::CycleStatus st = loop.RunCycle(kT0);
  EXPECT_EQ(st.status, "no_forcing");
  ASSERT_EQ(sink.unavailable.size(), 1u);
  EXPECT_NE(sink.unavailable[0].find("river_q"), std::string::npos) << sink.unavailable[0];
  EXPECT_NE(sink.unavailable[0].find("rain"), std::string::npos) << sink.unavailable[0];
  EXPECT_TRUE(sink.forecasts.empty());
}

TEST_F(ForecastLoopTest, ALateCycleIsStoppedAndReported) {
  StoreReadings(kT0);
  cfg_.lead_time = std::chrono::hours(24);
  cfg_.timeout = seconds(1);  // one second for a day of forecast
  RecordingSink sink;
  forecast::ForecastLoop loop = MakeLoop(sink, kT0);
  const forecast::CycleStatus st = loop.RunCycle(kT0);
  EXPECT_EQ(st.status, "late");
  ASSERT_EQ(sink.unavailable.size(), 1u);
  EXPECT_NE(sink.unavailable[0].find("not done within"), std::string::npos) << sink.unavailable[0];
}

TEST_F(ForecastLoopTest, ABlowUpIsAFailureWithItsCause) {
  StoreReadings(kT0);
  // The same town with a depth bound the river exceeds: a blow-up.
  std::ifstream in(town_.scenario);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir_ + "/blowup.toml") << text << "[solver]\nmax_depth_bound = 0.05\n";
  cfg_.scenario = dir_ + "/blowup.toml";
  RecordingSink sink;
  forecast::ForecastLoop loop = MakeLoop(sink, kT0);
  const forecast::CycleStatus st = loop.RunCycle(kT0);
  EXPECT_EQ(st.status, "failed");
  ASSERT_EQ(sink.unavailable.size(), 1u);
  EXPECT_NE(sink.unavailable[0].find("blow-up"), std::string::npos) << sink.unavailable[0];
}

}  // namespace
}  // namespace floodwarn
