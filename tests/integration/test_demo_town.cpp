// The generated demo town: its inputs make sense (river below the town, the
// underpass a local depression, buildings nodata, points in active cells),
// its config loads, and a short run (60 s, not the whole event) conserves
// mass and takes the river in through the west edge.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "floodwarn/demo/demo_town.hpp"
#include "floodwarn/grids/raster.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

namespace fs = std::filesystem;
using demo::DemoTown;
using demo::PointOfInterest;

const PointOfInterest& Poi(const DemoTown& t, const std::string& kind) {
  for (const auto& p : t.points)
    if (p.kind == kind) return p;
  throw std::runtime_error("no point of kind " + kind);
}

double At(const grids::RasterD& r, double x, double y) {
  return r(r.geo().ColumnOf(x), r.geo().RowOf(y));
}

class DemoTownTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("floodwarn_demo") + "/town");
    town_ = new DemoTown(demo::GenerateDemoTown(*dir_));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(fs::path(*dir_).parent_path(), ec);
    delete town_;
    delete dir_;
  }
  static std::string* dir_;
  static DemoTown* town_;
};
std::string* DemoTownTest::dir_ = nullptr;
DemoTown* DemoTownTest::town_ = nullptr;

TEST_F(DemoTownTest, WritesACompleteDeterministicSet) {
  EXPECT_TRUE(demo::DemoTownIsComplete(*dir_));
  EXPECT_EQ(town_->config_path, (fs::path(*dir_) / "demo_town.toml").string());
  EXPECT_EQ(town_->points.size(), 4u);
  EXPECT_FALSE(demo::DemoTownIsComplete(*dir_ + "/nowhere"));

  // A second generation gives the same bytes.
  const std::string other = testing::MakeTempDir("floodwarn_demo2");
  demo::GenerateDemoTown(other);
  for (const char* f : {"dem.asc", "manning.asc", "initial_depth.asc", "demo_town.toml"}) {
    SCOPED_TRACE(f);
    EXPECT_EQ(fs::file_size(fs::path(*dir_) / f), fs::file_size(fs::path(other) / f));
    const grids::RasterD a = std::string(f) == "demo_town.toml"
                                 ? grids::RasterD()
                                 : grids::ReadAsciiGrid((fs::path(*dir_) / f).string());
    if (a.size() == 0) continue;
    const grids::RasterD b = grids::ReadAsciiGrid((fs::path(other) / f).string());
    EXPECT_TRUE(a.data() == b.data());
  }
  fs::remove_all(other);
}

TEST_F(DemoTownTest, TerrainMakesSense) {
  const grids::RasterD dem = grids::ReadAsciiGrid(*dir_ + "/dem.asc");
  const grids::RasterD n = grids::ReadAsciiGrid(*dir_ + "/manning.asc");
  const grids::RasterD h0 = grids::ReadAsciiGrid(*dir_ + "/initial_depth.asc");
  EXPECT_EQ(dem.cols(), town_->cols);
  EXPECT_EQ(dem.rows(), town_->rows);

  // Buildings are nodata (walls): a few per cent of the cells, the same cells
  // in the Manning raster; every active cell has a plausible Manning n.
  const double building_share = static_cast<double>(dem.CountNodata()) / dem.size();
  EXPECT_GT(building_share, 0.03);
  EXPECT_LT(building_share, 0.3);
  for (int r = 0; r < dem.rows(); ++r)
    for (int c = 0; c < dem.cols(); ++c) {
      ASSERT_EQ(dem.IsNodata(c, r), n.IsNodata(c, r)) << c << "," << r;
      if (!dem.IsNodata(c, r)) {
        ASSERT_GE(n(c, r), 0.01);
        ASSERT_LE(n(c, r), 0.1);
      }
    }

  // The river (at the gauge) lies well below the school and the hospital.
  const auto& gauge = Poi(*town_, "gauge");
  const double z_river = At(dem, gauge.x, gauge.y);
  EXPECT_GT(At(h0, gauge.x, gauge.y), 0.2);  // water in the river at the start
  EXPECT_GT(At(dem, Poi(*town_, "school").x, Poi(*town_, "school").y), z_river + 1.5);
  EXPECT_GT(At(dem, Poi(*town_, "hospital").x, Poi(*town_, "hospital").y), z_river + 2.5);

  // The underpass is a local depression: nothing within 4 m is more than a few
  // cm lower, and every active cell 40-60 m away is at least 1.5 m higher.
  const auto& up = Poi(*town_, "underpass");
  const int uc = dem.geo().ColumnOf(up.x), ur = dem.geo().RowOf(up.y);
  const double z_up = dem(uc, ur);
  const double cell = dem.geo().cell_width;
  for (int dr = -30; dr <= 30; ++dr)
    for (int dc = -30; dc <= 30; ++dc) {
      const int c = uc + dc, r = ur + dr;
      if (dem.IsNodata(c, r)) continue;
      const double dist = std::hypot(dc, dr) * cell;
      if (dist <= 4.0) {
        EXPECT_GE(dem(c, r), z_up - 0.05) << dc << "," << dr;
      }
      if (dist >= 40.0 && dist <= 60.0) {
        EXPECT_GT(dem(c, r), z_up + 1.5) << dc << "," << dr;
      }
    }

  // Initial water only in the river (the gauge's surroundings), none in town.
  EXPECT_EQ(At(h0, Poi(*town_, "school").x, Poi(*town_, "school").y), 0.0);
  EXPECT_EQ(At(h0, up.x, up.y), 0.0);
}

TEST_F(DemoTownTest, ConfigLoadsWithPointsInActiveCells) {
  const scenario::ScenarioConfig cfg = scenario::LoadScenario(town_->config_path);
  EXPECT_EQ(cfg.domain.nx, town_->cols);
  EXPECT_DOUBLE_EQ(cfg.end, town_->end_s);
  ASSERT_EQ(cfg.points.size(), town_->points.size());
  for (std::size_t k = 0; k < cfg.points.size(); ++k) {
    SCOPED_TRACE(cfg.points[k].name);
    EXPECT_EQ(cfg.points[k].name, town_->points[k].name);
    EXPECT_TRUE(cfg.domain.active[cfg.domain.Index(cfg.points[k].i, cfg.points[k].j)]);
  }
  // 60 mm of rain in the first hour (DWD "extreme" class).
  EXPECT_NEAR(cfg.rain_m_per_s.Integral(0.0, 3600.0), 0.060, 1e-9);
  // Inflow at the west edge, outflow at the east edge.
  ASSERT_EQ(cfg.boundaries.size(), 2u);
  EXPECT_EQ(cfg.boundaries[0].edge, solver::Edge::kWest);
  EXPECT_EQ(cfg.boundaries[0].kind, solver::BoundaryKind::kInflow);
  EXPECT_EQ(cfg.boundaries[1].edge, solver::Edge::kEast);
  EXPECT_EQ(cfg.boundaries[1].kind, solver::BoundaryKind::kOutflow);
  EXPECT_FALSE(cfg.output_times.empty());
}

// A short run: 60 s of the event.
scenario::ScenarioConfig ShortRun(const std::string& config, const std::string& out) {
  scenario::ScenarioConfig cfg = scenario::LoadScenario(config);
  cfg.end = 60.0;
  cfg.output_times = {60.0};
  cfg.point_times = {0.0, 30.0, 60.0};
  cfg.output_dir = out;
  cfg.options.check_conservation = solver::ConservationCheck::kStop;  // issue #17
  return cfg;
}

TEST_F(DemoTownTest, ShortRunConservesMassAndTakesTheRiverIn) {
  const std::string tmp = testing::MakeTempDir("floodwarn_demo_run");
  {
    SCOPED_TRACE("as configured");
    const scenario::ScenarioConfig cfg = ShortRun(town_->config_path, tmp + "/a");
    const scenario::RunResult r = scenario::RunScenario(cfg);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_LT(r.mass_balance.RelativeError(), 1e-10);
    EXPECT_GT(r.mass_balance.rain_in, 0.0);
    EXPECT_TRUE(fs::exists(tmp + "/a/max_depth.asc"));
  }
  {
    // Without the outflow edge, all boundary flux is the river coming in: it
    // matches the hydrograph's volume (the face passes what the ghost cell
    // carries; a few per cent while the inflow cells adjust).
    SCOPED_TRACE("inflow only");
    scenario::ScenarioConfig cfg = ShortRun(town_->config_path, tmp + "/b");
    cfg.boundaries.erase(cfg.boundaries.begin() + 1);
    const double expected_in = cfg.boundaries[0].series.Integral(0.0, 60.0);
    const scenario::RunResult r = scenario::RunScenario(cfg);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_LT(r.mass_balance.RelativeError(), 1e-10);
    EXPECT_NEAR(-r.mass_balance.BoundaryNetOut(), expected_in, 0.1 * expected_in);
    // Each term under its own name (issue #15): the river is booked as water
    // in through the edges, nothing as leaving, and not as a point inflow.
    EXPECT_NEAR(r.mass_balance.boundary_in, expected_in, 0.1 * expected_in);
    EXPECT_LT(r.mass_balance.boundary_out, 1e-6 * expected_in);
    EXPECT_EQ(r.mass_balance.inflow_in, 0.0);
    // ... and so in summary.json, read as a user's script would.
    std::ifstream in(tmp + "/b/summary.json");
    const nlohmann::json summary = nlohmann::json::parse(in);
    const nlohmann::json& mb = summary.at("mass_balance");
    EXPECT_NEAR(mb.at("boundary_in_m3").get<double>(), expected_in, 0.1 * expected_in);
    EXPECT_LT(mb.at("boundary_out_m3").get<double>(), 1e-6 * expected_in);
    EXPECT_EQ(mb.at("inflow_in_m3").get<double>(), 0.0);
    // Rain: the first minute of the ramp onto every active cell.
    std::size_t active = 0;
    for (auto a : cfg.domain.active) active += a;
    const double rain =
        cfg.rain_m_per_s.Integral(0.0, 60.0) * active * cfg.domain.dx * cfg.domain.dy;
    EXPECT_NEAR(r.mass_balance.rain_in, rain, 1e-6 * rain);
  }
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace floodwarn
