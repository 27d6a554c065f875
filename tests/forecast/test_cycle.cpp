// One forecast cycle (floodwarn::forecast::RunCycle) on a small synthetic
// town: the analysis checkpoint, the forecast series at points and zones,
// the hot start from a checkpoint giving the same forecast bit for bit as an
// uninterrupted analysis, and failures reported in result.json, not thrown.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "floodwarn/forecast/cycle.hpp"
#include "small_town.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

namespace fs = std::filesystem;

// A cycle on the small town: a river flood rising from 2 to 30 m3/s over the
// first hour, held, and 40 mm/h of rain from 1200 s to 2400 s.
forecast::CycleSpec Spec(const testing::SmallTown& town, const std::string& id, double start,
                         double analysis_end, double issue, double end) {
  forecast::CycleSpec s;
  s.cycle_id = id;
  s.scenario = town.scenario;
  s.epoch = "2026-07-14T12:00:00Z";
  s.start_time = start;
  s.analysis_end = analysis_end;
  s.analysis_checkpoint = town.dir + "/analysis_" + id + ".h5";
  s.issue_time = issue;
  s.forecast_end = end;
  s.output_interval = 300.0;
  s.boundaries["river"] = {{0.0, 3600.0, 100000.0}, {2.0, 30.0, 30.0}};
  s.rain_mm_per_h = forecast::Series{{0.0, 1199.0, 1200.0, 2400.0, 2401.0, 100000.0},
                                     {0.0, 0.0, 40.0, 40.0, 0.0, 0.0}};
  s.points = {{"underpass", town.underpass_x, town.underpass_y},
              {"gauge", town.gauge_x, town.gauge_y}};
  s.zones_file = town.zones;
  s.zone_depths = {0.1, 0.3};
  s.out_dir = town.dir + "/cycle_" + id;
  s.check_conservation = true;
  return s;
}

class ForecastCycle : public ::testing::Test {
 protected:
  void SetUp() override {
    town_ = testing::WriteSmallTown(testing::MakeTempDir("floodwarn_cycle"));
  }
  testing::SmallTown town_;
};

TEST_F(ForecastCycle, ColdStartWritesTheAnalysisAndTheForecast) {
  const forecast::CycleSpec spec = Spec(town_, "a", 0.0, 1500.0, 1800.0, 5400.0);
  // The spec goes through cycle.json as serve hands it to the child.
  forecast::WriteCycleSpec(town_.dir + "/a.json", spec);
  const forecast::CycleResult r =
      forecast::RunCycle(forecast::ReadCycleSpec(town_.dir + "/a.json"));
  ASSERT_EQ(r.status, "ok") << r.error;
  EXPECT_TRUE(r.analysis_written);
  EXPECT_TRUE(fs::exists(spec.analysis_checkpoint));
  EXPECT_TRUE(fs::exists(spec.out_dir + "/forecast.nc"));
  EXPECT_DOUBLE_EQ(r.lead_time_reached, 3600.0);
  EXPECT_DOUBLE_EQ(r.model_time, 5400.0);
  EXPECT_LT(r.mass_relative_error, 1e-10);
  // Points and zones at every forecast time: 1800, 2100, ..., 5400 s.
  ASSERT_EQ(r.points.size(), 2u);
  ASSERT_EQ(r.points[0].t.size(), 13u);
  EXPECT_DOUBLE_EQ(r.points[0].t.front(), 1800.0);
  EXPECT_DOUBLE_EQ(r.points[0].t.back(), 5400.0);
  ASSERT_EQ(r.zones.size(), 2u);
  EXPECT_EQ(r.zones[0].id, "underpass");
  // The rain fills the underpass: deeper at the end of the rain than at the issue time.
  EXPECT_GT(r.points[0].depth[2], r.points[0].depth[0]);
  EXPECT_GT(r.zone_table[0].max_depth, 0.1);
  // The level at the gauge is its bed plus its depth.
  const double bed = testing::SmallTownBed(town_.gauge_x, town_.gauge_y);
  EXPECT_NEAR(r.points[1].level[5], bed + r.points[1].depth[5], 1e-12);
  // result.json round trip.
  const forecast::CycleResult back = forecast::ReadCycleResult(spec.out_dir + "/result.json");
  EXPECT_EQ(back.status, "ok");
  EXPECT_EQ(back.points[0].depth, r.points[0].depth);
  ASSERT_EQ(back.zone_table[0].first_time_above.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    const double a = back.zone_table[0].first_time_above[k],
                 b = r.zone_table[0].first_time_above[k];
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << k << ": " << a << " vs " << b;
  }
}

// Cycle 1 analyses 0 -> 900 s and writes its checkpoint; cycle 2 continues
// from it to 1800 s and forecasts. The same forecast as one cycle that
// analyses 0 -> 1800 s, bit for bit: the state carried between cycles loses
// nothing, so a restart of serve (which resumes from the last checkpoint)
// changes no forecast.
TEST_F(ForecastCycle, HotStartFromTheCheckpointGivesTheSameForecastBitForBit) {
  const forecast::CycleResult whole = forecast::RunCycle(Spec(town_, "whole", 0, 1800, 1800, 4200));
  ASSERT_EQ(whole.status, "ok") << whole.error;
  const forecast::CycleSpec s1 = Spec(town_, "one", 0, 900, 900, 1800);
  ASSERT_EQ(forecast::RunCycle(s1).status, "ok");
  forecast::CycleSpec s2 = Spec(town_, "two", 900, 1800, 1800, 4200);
  s2.start_checkpoint = s1.analysis_checkpoint;
  const forecast::CycleResult resumed = forecast::RunCycle(s2);
  ASSERT_EQ(resumed.status, "ok") << resumed.error;
  ASSERT_EQ(resumed.points.size(), whole.points.size());
  for (std::size_t p = 0; p < whole.points.size(); ++p) {
    SCOPED_TRACE(whole.points[p].id);
    EXPECT_EQ(resumed.points[p].depth, whole.points[p].depth);
  }
  EXPECT_EQ(resumed.zones[1].depth, whole.zones[1].depth);
  EXPECT_GT(whole.points[1].depth.back(), 0.1);  // the river is there
}

TEST_F(ForecastCycle, FailuresAreResultsNamingTheCause) {
  forecast::CycleSpec bad = Spec(town_, "bad", 0, 600, 600, 1200);
  bad.boundaries["rivr"] = bad.boundaries["river"];
  const forecast::CycleResult r = forecast::RunCycle(bad);
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.error.find("rivr"), std::string::npos) << r.error;
  EXPECT_FALSE(r.analysis_written);
  EXPECT_EQ(forecast::ReadCycleResult(bad.out_dir + "/result.json").status, "failed");

  forecast::CycleSpec wrong_start = Spec(town_, "wrong", 300, 600, 600, 1200);
  wrong_start.start_checkpoint = town_.dir + "/missing.h5";
  const forecast::CycleResult w = forecast::RunCycle(wrong_start);
  EXPECT_EQ(w.status, "failed");
  EXPECT_NE(w.error.find("missing.h5"), std::string::npos) << w.error;
}

}  // namespace
}  // namespace floodwarn
