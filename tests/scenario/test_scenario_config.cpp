// Scenario config loading: a good config gives the right values; each bad
// input throws ConfigError naming the config file and the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "test_support.hpp"

namespace floodwarn::scenario {
namespace {

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// 6 x 4 cells of 10 m, west 100, south 200; elevation = 10 * row + col (row 0
// north), one nodata cell at column 5, row 0 (the north-east corner).
std::string DemText(int cols = 6, int rows = 4) {
  std::string s = "ncols " + std::to_string(cols) + "\nnrows " + std::to_string(rows) +
                  "\nxllcorner 100\nyllcorner 200\ncellsize 10\nNODATA_value -9999\n";
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const bool nodata = (r == 0 && c == cols - 1);
      s += (nodata ? std::string("-9999") : std::to_string(10 * r + c)) + " ";
    }
    s += "\n";
  }
  return s;
}

class ScenarioConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("floodwarn_scenario");
    WriteText(dir_ + "/dem.asc", DemText());
  }

  // Writes `body` as the config and returns its path.
  std::string Config(const std::string& body, const std::string& name = "case.toml") {
    const std::string path = dir_ + "/" + name;
    WriteText(path, body);
    return path;
  }

  // Minimal valid sections; tests append or replace pieces.
  static std::string Domain(const std::string& extra = "") {
    return "[domain]\ndem = \"dem.asc\"\nmanning = 0.03\n" + extra;
  }
  static std::string Time() { return "[time]\nend = 100.0\n"; }

  // Loads `body` and expects a ConfigError naming the file and `key`.
  void ExpectError(const std::string& body, const std::string& key, const std::string& also = "") {
    const std::string path = Config(body);
    try {
      LoadScenario(path);
      ADD_FAILURE() << "no ConfigError for key " << key;
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(key), std::string::npos) << "expected key '" << key << "' in: " << msg;
      if (!also.empty()) {
        EXPECT_NE(msg.find(also), std::string::npos) << msg;
      }
    }
  }

  std::string dir_;
};

TEST_F(ScenarioConfigTest, GoodConfigLoadsWithTheRightValues) {
  WriteText(dir_ + "/q.csv", "# hydrograph\ntime_s,discharge_m3s\n0,1\n60,3.5\n100,0\n");
  const std::string path = Config(R"(
title = "unit"
[domain]
dem = "dem.asc"
manning = 0.025
initial_wse = 25.0
[time]
end = 100.0
output_interval = 30.0
cfl = 0.4
max_dt = 2.0
[rain]
times = [0.0, 50.0]
rates_mm_per_h = [36.0, 0.0]
[[inflow]]
name = "creek"
x = 115.0
y = 235.0
discharge = "q.csv"
[[boundary]]
edge = "east"
kind = "level"
from = 205.0
to = 225.0
level = 3.0
[[boundary]]
edge = "south"
kind = "inflow"
times = [0.0, 10.0]
discharge = [0.0, 2.0]
[output]
dir = "out"
point_interval = 25.0
[[output.point]]
name = "p1"
x = 105.0
y = 205.0
[solver]
dry_depth = 1e-5
gravity = 9.8
)");
  const ScenarioConfig c = LoadScenario(path);
  EXPECT_EQ(c.title, "unit");
  // Grid: rows flipped so that j = 0 is the south row (raster row 3).
  ASSERT_EQ(c.domain.nx, 6);
  ASSERT_EQ(c.domain.ny, 4);
  EXPECT_DOUBLE_EQ(c.domain.dx, 10.0);
  EXPECT_DOUBLE_EQ(c.domain.x_west, 100.0);
  EXPECT_DOUBLE_EQ(c.domain.y_south, 200.0);
  EXPECT_DOUBLE_EQ(c.domain.bed[c.domain.Index(0, 0)], 30.0);  // raster row 3, col 0
  EXPECT_DOUBLE_EQ(c.domain.bed[c.domain.Index(2, 3)], 2.0);   // raster row 0, col 2
  EXPECT_EQ(c.domain.active[c.domain.Index(5, 3)], 0);         // the nodata cell
  EXPECT_EQ(c.domain.active[c.domain.Index(5, 2)], 1);
  ASSERT_EQ(c.domain.manning.size(), 1u);
  EXPECT_DOUBLE_EQ(c.domain.manning[0], 0.025);
  // initial_wse 25: depth = 25 - bed where positive; 0 in the nodata cell.
  EXPECT_DOUBLE_EQ(c.initial_depth[c.domain.Index(1, 3)], 24.0);  // bed 1
  EXPECT_DOUBLE_EQ(c.initial_depth[c.domain.Index(0, 0)], 0.0);   // bed 30
  EXPECT_DOUBLE_EQ(c.initial_depth[c.domain.Index(5, 3)], 0.0);
  // Time.
  EXPECT_DOUBLE_EQ(c.end, 100.0);
  EXPECT_EQ(c.output_times, (std::vector<double>{30.0, 60.0, 90.0, 100.0}));
  EXPECT_DOUBLE_EQ(c.options.cfl, 0.4);
  EXPECT_DOUBLE_EQ(c.options.max_dt, 2.0);
  EXPECT_DOUBLE_EQ(c.options.dry_depth, 1e-5);
  EXPECT_DOUBLE_EQ(c.options.gravity, 9.8);
  // Rain converted from mm/h to m/s.
  EXPECT_DOUBLE_EQ(c.rain_m_per_s.At(0.0), 36.0 / 3.6e6);
  EXPECT_DOUBLE_EQ(c.rain_m_per_s.At(25.0), 18.0 / 3.6e6);
  // Inflow from CSV (relative to the config's folder).
  ASSERT_EQ(c.inflows.size(), 1u);
  EXPECT_EQ(c.inflows[0].name, "creek");
  EXPECT_DOUBLE_EQ(c.inflows[0].discharge.At(60.0), 3.5);
  // Boundaries.
  ASSERT_EQ(c.boundaries.size(), 2u);
  EXPECT_EQ(c.boundaries[0].edge, Edge::kEast);
  EXPECT_EQ(c.boundaries[0].kind, BoundaryKind::kLevel);
  EXPECT_DOUBLE_EQ(c.boundaries[0].from, 205.0);
  EXPECT_DOUBLE_EQ(c.boundaries[0].to, 225.0);
  EXPECT_DOUBLE_EQ(c.boundaries[0].series.At(50.0), 3.0);
  EXPECT_EQ(c.boundaries[1].kind, BoundaryKind::kInflow);
  EXPECT_GT(c.boundaries[1].from, c.boundaries[1].to);  // whole edge
  EXPECT_DOUBLE_EQ(c.boundaries[1].series.At(5.0), 1.0);
  // Output.
  EXPECT_EQ(c.output_dir, dir_ + "/out");
  ASSERT_EQ(c.points.size(), 1u);
  EXPECT_EQ(c.points[0].i, 0);
  EXPECT_EQ(c.points[0].j, 0);
  EXPECT_EQ(c.point_times, (std::vector<double>{0.0, 25.0, 50.0, 75.0, 100.0}));
}

TEST_F(ScenarioConfigTest, DefaultsAndRasterInputs) {
  std::string n = "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\n";
  for (int r = 0; r < 4; ++r) n += "0.01 0.02 0.03 0.04 0.05 0.06\n";
  WriteText(dir_ + "/n.asc", n);
  const ScenarioConfig c =
      LoadScenario(Config("[domain]\ndem = \"dem.asc\"\nmanning = \"n.asc\"\ninitial_depth = "
                          "0.5\n[time]\nend = 10\n"));
  ASSERT_EQ(c.domain.manning.size(), 24u);
  EXPECT_DOUBLE_EQ(c.domain.manning[c.domain.Index(2, 1)], 0.03);
  EXPECT_DOUBLE_EQ(c.initial_depth[c.domain.Index(2, 1)], 0.5);
  EXPECT_DOUBLE_EQ(c.initial_depth[c.domain.Index(5, 3)], 0.0);  // nodata cell stays dry
  EXPECT_EQ(c.output_times, (std::vector<double>{10.0}));
  EXPECT_EQ(c.output_dir, dir_ + "/output");
  EXPECT_TRUE(c.rain_m_per_s.empty());
  EXPECT_TRUE(c.boundaries.empty());
  EXPECT_EQ(c.point_times.size(), 101u);  // default point_interval = end / 100
}

// [solver] check_conservation (issue #17): booleans and the three modes; the
// default is off; anything else is an error naming the key.
TEST_F(ScenarioConfigTest, CheckConservationModes) {
  using floodwarn::solver::ConservationCheck;
  EXPECT_EQ(LoadScenario(Config(Domain() + Time())).options.check_conservation,
            ConservationCheck::kOff);
  const std::pair<const char*, ConservationCheck> cases[] = {{"true", ConservationCheck::kStop},
                                                             {"false", ConservationCheck::kOff},
                                                             {"\"stop\"", ConservationCheck::kStop},
                                                             {"\"warn\"", ConservationCheck::kWarn},
                                                             {"\"off\"", ConservationCheck::kOff}};
  for (const auto& [value, mode] : cases) {
    SCOPED_TRACE(value);
    const ScenarioConfig c =
        LoadScenario(Config(Domain() + Time() + "[solver]\ncheck_conservation = " + value + "\n"));
    EXPECT_EQ(c.options.check_conservation, mode);
  }
  ExpectError(Domain() + Time() + "[solver]\ncheck_conservation = \"yes\"\n",
              "solver.check_conservation", "\"warn\"");
  ExpectError(Domain() + Time() + "[solver]\ncheck_conservation = 1\n", "solver.check_conservation",
              "expected true, false");
}

TEST_F(ScenarioConfigTest, UnknownTopLevelKey) {
  ExpectError(Domain() + Time() + "[outptu]\ndir = \"x\"\n", "outptu", "unknown key");
}

TEST_F(ScenarioConfigTest, UnknownKeyInsideATable) {
  ExpectError(Domain() + "[time]\nend = 10\nouput_interval = 1\n", "time.ouput_interval",
              "unknown key");
  ExpectError(Domain("manning_n = 0.03\n") + Time(), "domain.manning_n");
  ExpectError(Domain() + Time() + "[[boundary]]\nedge = \"east\"\nkind = \"outflow\"\nlevl = 2\n",
              "boundary[0].levl");
  ExpectError(Domain() + Time() + "[[output.point]]\nname = \"a\"\nx = 105\ny = 205\nz = 1\n",
              "output.point[0].z");
}

TEST_F(ScenarioConfigTest, MissingDemFile) {
  ExpectError("[domain]\ndem = \"nope.asc\"\nmanning = 0.03\n" + Time(), "domain.dem", "nope.asc");
}

TEST_F(ScenarioConfigTest, ManningRasterOfTheWrongSize) {
  WriteText(dir_ + "/n.asc", DemText(5, 4));
  ExpectError("[domain]\ndem = \"dem.asc\"\nmanning = \"n.asc\"\n" + Time(), "domain.manning",
              "does not match");
}

TEST_F(ScenarioConfigTest, NegativeManning) {
  ExpectError("[domain]\ndem = \"dem.asc\"\nmanning = -0.01\n" + Time(), "domain.manning", ">= 0");
  std::string n = "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\n";
  for (int r = 0; r < 4; ++r)
    n += r == 2 ? "0.03 0.03 -0.5 0.03 0.03 0.03\n" : "0.03 0.03 0.03 0.03 0.03 0.03\n";
  WriteText(dir_ + "/n.asc", n);
  ExpectError("[domain]\ndem = \"dem.asc\"\nmanning = \"n.asc\"\n" + Time(), "domain.manning",
              "column 2, row 2");
}

TEST_F(ScenarioConfigTest, UnsortedHydrographTimes) {
  ExpectError(Domain() + Time() +
                  "[[inflow]]\nname = \"a\"\nx = 105\ny = 205\ntimes = [0, 20, 10]\n"
                  "discharge = [1, 2, 3]\n",
              "inflow[0].times", "strictly increasing");
  // Duplicates in a CSV: the message also names the CSV file.
  WriteText(dir_ + "/q.csv", "time_s,discharge_m3s\n0,1\n5,2\n5,3\n");
  ExpectError(Domain() + Time() + "[[inflow]]\nx = 105\ny = 205\ndischarge = \"q.csv\"\n",
              "inflow[0].discharge", "q.csv");
}

TEST_F(ScenarioConfigTest, NegativeRainAndDischarge) {
  ExpectError(Domain() + Time() + "[rain]\ntimes = [0, 10]\nrates_mm_per_h = [1, -2]\n",
              "rain.rates_mm_per_h", ">= 0");
  WriteText(dir_ + "/r.csv", "time_s,rate_mm_per_h\n0,1\n10,-1\n");
  ExpectError(Domain() + Time() + "[rain]\nseries = \"r.csv\"\n", "rain.series", ">= 0");
  ExpectError(Domain() + Time() + "[[inflow]]\nx = 105\ny = 205\ndischarge = -1\n",
              "inflow[0].discharge", ">= 0");
}

TEST_F(ScenarioConfigTest, BothInitialDepthAndWse) {
  ExpectError(Domain("initial_depth = 1.0\ninitial_wse = 2.0\n") + Time(), "initial_wse",
              "not both");
}

TEST_F(ScenarioConfigTest, OutputPointOutsideTheGridOrInNodata) {
  ExpectError(Domain() + Time() + "[[output.point]]\nname = \"far\"\nx = 99\ny = 205\n",
              "output.point[0]", "outside the grid");
  ExpectError(Domain() + Time() +
                  "[[output.point]]\nname = \"a\"\nx = 105\ny = 205\n"
                  "[[output.point]]\nname = \"wall\"\nx = 155\ny = 235\n",
              "output.point[1]", "nodata");
}

TEST_F(ScenarioConfigTest, BadEnumNamesKeyAndLine) {
  const std::string body = Domain() + Time() +  // lines 1-5
                           "[[boundary]]\nedge = \"east\"\nkind = \"outflow\"\n"
                           "[[boundary]]\nedge = \"west\"\nkind = \"outlet\"\n";  // line 11
  ExpectError(body, "boundary[1].kind", "case.toml:11:");
  ExpectError(Domain() + Time() + "[[boundary]]\nedge = \"up\"\nkind = \"wall\"\n",
              "boundary[0].edge");
  ExpectError(Domain() + Time() + "[[boundary]]\nedge = \"west\"\nkind = \"level\"\n",
              "boundary[0].level", "missing");
}

TEST_F(ScenarioConfigTest, TimeErrors) {
  ExpectError(Domain() + "[time]\nend = 0\n", "time.end", "> 0");
  ExpectError(Domain() + "[time]\nend = 10\noutput_times = [5, 20]\n", "time.output_times");
  ExpectError(Domain(), "time", "missing");
  ExpectError(Domain() + "[time]\nend = \"10\"\n", "time.end", "expected a number");
}

TEST_F(ScenarioConfigTest, SyntaxErrorNamesFileAndLine) {
  ExpectError(Domain() + "[time]\nend = = 10\n", "TOML", "case.toml:5:");
}

}  // namespace
}  // namespace floodwarn::scenario

namespace floodwarn::scenario {
namespace {

// Real terrain formats through GDAL: a GeoTIFF DEM in EPSG:25832 carries its
// CRS into the config; a Manning GeoTIFF on a coarser grid in the same CRS is
// resampled (nearest: every DEM cell takes the value of the coarse cell it lies
// in); a raster in another CRS is an error naming the file and key.
class ScenarioGdalTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("floodwarn_scenario_gdal"); }
  // 6 x 4 cells of 10 m, west 100, north 240; bed = col.
  grids::RasterD Dem(const std::string& crs) {
    grids::RasterD r(6, 4, grids::GeoTransform{100, 240, 10, 10}, 0.0);
    for (int row = 0; row < 4; ++row)
      for (int col = 0; col < 6; ++col) r(col, row) = col;
    r.set_crs_wkt(crs);
    return r;
  }
  std::string Write(const std::string& body) {
    const std::string path = dir_ + "/case.toml";
    std::ofstream(path) << body;
    return path;
  }
  std::string dir_;
};

TEST_F(ScenarioGdalTest, GeoTiffDemAndCoarserManningAreResampled) {
  grids::WriteGeoTiff(dir_ + "/dem.tif", Dem("EPSG:25832"));
  // Manning on 20 m cells covering the DEM: columns 0-2 of 20 m = x 100..160.
  grids::RasterD n(3, 2, grids::GeoTransform{100, 240, 20, 20}, 0.0);
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 3; ++col) n(col, row) = 0.01 * (1 + col + 3 * row);
  n.set_crs_wkt("EPSG:25832");
  grids::WriteGeoTiff(dir_ + "/n.tif", n);
  const ScenarioConfig cfg = LoadScenario(
      Write("[domain]\ndem = \"dem.tif\"\nmanning = \"n.tif\"\ninitial_depth = 0.1\n[time]\nend = "
            "10.0\n"));
  EXPECT_TRUE(grids::SameCrs(cfg.crs_wkt, "EPSG:25832"));
  const Domain& d = cfg.domain;
  ASSERT_EQ(d.nx, 6);
  ASSERT_EQ(d.ny, 4);
  ASSERT_EQ(d.manning.size(), 24u);
  for (int j = 0; j < 4; ++j) {
    for (int i = 0; i < 6; ++i) {
      const int coarse_col = i / 2, coarse_row = (3 - j) / 2;  // solver j = 0 is south
      EXPECT_NEAR(d.manning[d.Index(i, j)], 0.01 * (1 + coarse_col + 3 * coarse_row), 1e-15)
          << i << "," << j;
      EXPECT_DOUBLE_EQ(d.bed[d.Index(i, j)], i);
    }
  }
}

TEST_F(ScenarioGdalTest, RasterInAnotherCrsIsAnError) {
  grids::WriteGeoTiff(dir_ + "/dem.tif", Dem("EPSG:25832"));
  grids::RasterD n = Dem("EPSG:25833");
  grids::WriteGeoTiff(dir_ + "/n.tif", n);
  const std::string path =
      Write("[domain]\ndem = \"dem.tif\"\nmanning = \"n.tif\"\n[time]\nend = 10.0\n");
  try {
    LoadScenario(path);
    ADD_FAILURE() << "no ConfigError for a Manning raster in another CRS";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("domain.manning"), std::string::npos) << msg;
    EXPECT_NE(msg.find("n.tif"), std::string::npos) << msg;
    EXPECT_NE(msg.find("coordinate reference system"), std::string::npos) << msg;
  }
}

TEST_F(ScenarioGdalTest, DemFullOfNodataIsAnError) {
  grids::RasterD dem = Dem("EPSG:25832");
  dem.set_nodata(-9999.0);
  for (auto& v : dem.data()) v = -9999.0;
  grids::WriteGeoTiff(dir_ + "/dem.tif", dem);
  const std::string path =
      Write("[domain]\ndem = \"dem.tif\"\nmanning = 0.03\n[time]\nend = 10.0\n");
  try {
    LoadScenario(path);
    ADD_FAILURE() << "no ConfigError for a DEM that is all nodata";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("domain.dem"), std::string::npos) << msg;
    EXPECT_NE(msg.find("every cell is nodata"), std::string::npos) << msg;
  }
}

// Land-use classes (6 x 4, row 0 north): 1 grass, 2 road, 3 in one cell.
std::string LanduseText(const std::string& cell_2_1 = "3") {
  std::string s = "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\n";
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 6; ++c) s += (r == 1 && c == 2 ? cell_2_1 : c < 3 ? "1" : "2") + " ";
    s += "\n";
  }
  return s;
}

TEST_F(ScenarioConfigTest, LanduseThroughAManningTable) {
  WriteText(dir_ + "/lu.asc", LanduseText());
  const ScenarioConfig c = LoadScenario(Config(
      "[domain]\ndem = \"dem.asc\"\nlanduse = \"lu.asc\"\n[manning_table]\n\"1\" = 0.035\n\"2\" = "
      "0.013\n\"3\" = 0.1\n\"7\" = 0.05\n" +
      Time()));
  const solver::Domain& d = c.domain;
  ASSERT_EQ(d.manning.size(), 24u);
  // Raster row 1 is solver row j = 2.
  EXPECT_DOUBLE_EQ(d.manning[d.Index(2, 2)], 0.1);
  EXPECT_DOUBLE_EQ(d.manning[d.Index(0, 0)], 0.035);
  EXPECT_DOUBLE_EQ(d.manning[d.Index(4, 3)], 0.013);
  EXPECT_DOUBLE_EQ(d.manning[d.Index(5, 3)], 0.0);  // nodata cell of the DEM
}

TEST_F(ScenarioConfigTest, LanduseErrors) {
  WriteText(dir_ + "/lu.asc", LanduseText());
  const std::string dom = "[domain]\ndem = \"dem.asc\"\nlanduse = \"lu.asc\"\n";
  // A class of the raster missing from the table: the class and its first cell.
  ExpectError(dom + "[manning_table]\n\"1\" = 0.035\n\"2\" = 0.013\n" + Time(), "manning_table",
              "class 3 (first at column 2, row 1");
  ExpectError(dom + "[manning_table]\n\"1\" = 0.035\n\"2\" = -0.013\n\"3\" = 0.1\n" + Time(),
              "manning_table.2", ">= 0");
  ExpectError(dom + "[manning_table]\ngrass = 0.035\n" + Time(), "manning_table.grass",
              "integer land-use class code");
  ExpectError(dom + Time(), "manning_table", "needs a [manning_table]");
  ExpectError(dom + "manning = 0.03\n[manning_table]\n\"1\" = 0.03\n" + Time(), "domain.landuse",
              "not both");
  ExpectError(Domain() + "[manning_table]\n\"1\" = 0.03\n" + Time(), "manning_table",
              "only used with domain.landuse");
  WriteText(dir_ + "/lu.asc", LanduseText("2.5"));
  ExpectError(dom + "[manning_table]\n\"1\" = 0.035\n\"2\" = 0.013\n" + Time(), "domain.landuse",
              "integers, got 2.5 at column 2, row 1");
}

TEST_F(ScenarioConfigTest, InfiltrationSections) {
  WriteText(dir_ + "/ks.asc", LanduseText());  // 1, 2 or 3 (m/s: only the values matter)
  const ScenarioConfig ga = LoadScenario(Config(Domain() + Time() +
                                                "[infiltration]\nmodel = \"green_ampt\"\nks = "
                                                "\"ks.asc\"\npsi = 0.11\ndtheta = 0.3\n"));
  EXPECT_EQ(ga.infiltration.model, InfiltrationModel::kGreenAmpt);
  ASSERT_EQ(ga.infiltration.ks.size(), 24u);
  EXPECT_DOUBLE_EQ(ga.infiltration.ks[ga.domain.Index(2, 2)], 3.0);
  EXPECT_EQ(ga.infiltration.psi, (std::vector<double>{0.11}));
  EXPECT_TRUE(ga.infiltration.initial_f.empty());  // solver default 1e-3
  const ScenarioConfig h =
      LoadScenario(Config(Domain() + Time() +
                          "[infiltration]\nmodel = \"horton\"\nf0 = 1e-4\nfc = 1e-5\nk = "
                          "2e-3\n"));
  EXPECT_EQ(h.infiltration.model, InfiltrationModel::kHorton);
  EXPECT_EQ(h.infiltration.k, (std::vector<double>{2e-3}));
  const ScenarioConfig none = LoadScenario(Config(Domain() + Time()));
  EXPECT_EQ(none.infiltration.model, InfiltrationModel::kNone);
}

TEST_F(ScenarioConfigTest, InfiltrationErrors) {
  const std::string ga = Domain() + Time() + "[infiltration]\nmodel = \"green_ampt\"\n";
  ExpectError(ga + "ks = -1e-5\npsi = 0.1\ndtheta = 0.3\n", "infiltration.ks", ">= 0");
  ExpectError(ga + "ks = 1e-5\ndtheta = 0.3\n", "infiltration.psi", "missing");
  ExpectError(ga + "ks = 1e-5\npsi = 0.1\ndtheta = 0.3\ninitial_infiltration = 0\n",
              "infiltration.initial_infiltration", "> 0");
  ExpectError(ga + "ks = 1e-5\npsi = 0.1\ndtheta = 0.3\nf0 = 1\n", "infiltration.f0",
              "unknown key");
  ExpectError(ga + "ks = 1e-5\npsi = \"nope.asc\"\ndtheta = 0.3\n", "infiltration.psi", "nope.asc");
  ExpectError(Domain() + Time() + "[infiltration]\nmodel = \"philip\"\n", "infiltration.model",
              "green_ampt or horton");
  ExpectError(Domain() + Time() +
                  "[infiltration]\nmodel = \"horton\"\nf0 = 1e-5\nfc = 1e-4\nk = "
                  "1e-3\n",
              "infiltration.fc", "<= infiltration.f0");
  ExpectError(Domain() + Time() + "[infiltration]\nmodel = \"horton\"\nf0 = 1e-4\nfc = 1e-5\n",
              "infiltration.k", "missing");
}

// Buildings mask on the DEM's grid (6 x 4, row 0 north): buildings at column 2
// and 3 of row 1 (values 1 and 7: any nonzero), over the DEM's nodata cell
// (column 5, row 0: stays outside the domain, not a building); column 2 of
// row 2 is the mask's nodata (no building); everything else 0.
std::string BuildingsText() {
  std::string s =
      "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\nNODATA_value -9999\n";
  s += "0 0 0 0 0 1\n";
  s += "0 0 1 7 0 0\n";
  s += "0 0 -9999 0 0 0\n";
  s += "0 0 0 0 0 0\n";
  return s;
}

bool IsBuildingCell(int col, int row) { return row == 1 && (col == 2 || col == 3); }

TEST_F(ScenarioConfigTest, BlockedBuildingsBecomeExactlyTheInactiveMaskCells) {
  WriteText(dir_ + "/b.asc", BuildingsText());
  const ScenarioConfig c = LoadScenario(Config(Domain("buildings = \"b.asc\"\n") + Time()));
  const solver::Domain& d = c.domain;  // the fixture's Domain() hides the type
  ASSERT_EQ(c.buildings.size(), 24u);
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const int row = d.ny - 1 - j;
      const bool dem_nodata = row == 0 && i == 5;
      const std::size_t k = d.Index(i, j);
      EXPECT_EQ(d.active[k], dem_nodata || IsBuildingCell(i, row) ? 0 : 1) << i << "," << row;
      EXPECT_EQ(c.buildings[k], IsBuildingCell(i, row) ? 1 : 0) << i << "," << row;
      if (d.active[k]) {
        EXPECT_DOUBLE_EQ(d.bed[k], 10.0 * row + i);
      }
    }
  }
}

TEST_F(ScenarioConfigTest, RaisedBuildingsRaiseExactlyTheMaskBeds) {
  WriteText(dir_ + "/b.asc", BuildingsText());
  const ScenarioConfig c = LoadScenario(
      Config(Domain("buildings = \"b.asc\"\nbuilding_mode = \"raised\"\nbuilding_height = 2.5\n"
                    "initial_wse = 100\n") +
             Time()));
  const solver::Domain& d = c.domain;  // the fixture's Domain() hides the type
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const int row = d.ny - 1 - j;
      const std::size_t k = d.Index(i, j);
      if (row == 0 && i == 5) {
        EXPECT_EQ(d.active[k], 0);
        continue;
      }
      EXPECT_EQ(d.active[k], 1) << i << "," << row;
      const double bed = 10.0 * row + i + (IsBuildingCell(i, row) ? 2.5 : 0.0);
      EXPECT_DOUBLE_EQ(d.bed[k], bed) << i << "," << row;
      EXPECT_DOUBLE_EQ(c.initial_depth[k], 100.0 - bed);  // wse over the raised bed
    }
  }
  // Default height: 10 m.
  const ScenarioConfig c10 = LoadScenario(
      Config(Domain("buildings = \"b.asc\"\nbuilding_mode = \"raised\"\n") + Time(), "c10.toml"));
  EXPECT_DOUBLE_EQ(c10.domain.bed[c10.domain.Index(2, 2)], 10.0 * 1 + 2 + 10.0);
  EXPECT_DOUBLE_EQ(c10.domain.bed[c10.domain.Index(2, 1)], 10.0 * 2 + 2);
}

TEST_F(ScenarioConfigTest, BuildingErrorsNameTheKey) {
  WriteText(dir_ + "/b.asc", BuildingsText());
  const std::string b = "buildings = \"b.asc\"\n";
  ExpectError(Domain(b + "building_mode = \"walls\"\n") + Time(), "domain.building_mode",
              "blocked or raised");
  ExpectError(Domain(b + "building_mode = \"raised\"\nbuilding_height = -1\n") + Time(),
              "domain.building_height", ">= 0");
  ExpectError(Domain(b + "building_height = 3\n") + Time(), "domain.building_height",
              "building_mode = raised");
  ExpectError(Domain("building_mode = \"raised\"\n") + Time(), "domain.building_mode",
              "only used with domain.buildings");
  ExpectError(Domain("buildings = \"nope.asc\"\n") + Time(), "domain.buildings", "nope.asc");
  ExpectError(Domain("buildings = 1\n") + Time(), "domain.buildings", "raster path");
  WriteText(dir_ + "/small.asc", DemText(5, 4));
  ExpectError(Domain("buildings = \"small.asc\"\n") + Time(), "domain.buildings", "does not match");
  // A mask over every cell leaves no active cell.
  std::string all = "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\n";
  for (int r = 0; r < 4; ++r) all += "1 1 1 1 1 1\n";
  WriteText(dir_ + "/all.asc", all);
  ExpectError(Domain("buildings = \"all.asc\"\n") + Time(), "domain.buildings", "no active cell");
  // A building on an output point or a point inflow, in either mode
  // (x = 125, y = 225 is column 2, row 1).
  for (const std::string mode : {"blocked", "raised"}) {
    const std::string dom = Domain(b + "building_mode = \"" + mode + "\"\n") + Time();
    ExpectError(dom +
                    "[[output.point]]\nname = \"a\"\nx = 105\ny = 205\n"
                    "[[output.point]]\nname = \"roof\"\nx = 125\ny = 225\n",
                "output.point[1]", "building");
    ExpectError(dom + "[[inflow]]\nx = 135\ny = 225\ndischarge = 1\n", "inflow[0]", "building");
  }
}

}  // namespace
}  // namespace floodwarn::scenario

namespace floodwarn::scenario {
namespace {

// A buildings mask GeoTIFF on 20 m cells (the DEM has 10 m): each DEM cell
// takes the value of the coarse cell it lies in (nearest). Coarse column 1 of
// row 0 is a building (DEM columns 2-3, rows 0-1); coarse column 2 of row 1 is
// the mask's nodata (no building); the rest 0.
TEST_F(ScenarioGdalTest, CoarserBuildingsMaskIsResampledNearest) {
  grids::WriteGeoTiff(dir_ + "/dem.tif", Dem("EPSG:25832"));
  grids::RasterD m(3, 2, grids::GeoTransform{100, 240, 20, 20}, 0.0);
  m.set_nodata(-1.0);
  m(1, 0) = 5.0;
  m(2, 1) = -1.0;
  m.set_crs_wkt("EPSG:25832");
  grids::WriteGeoTiff(dir_ + "/b.tif", m);
  const ScenarioConfig cfg = LoadScenario(
      Write("[domain]\ndem = \"dem.tif\"\nmanning = 0.03\nbuildings = \"b.tif\"\n[time]\nend = "
            "10.0\n"));
  const Domain& d = cfg.domain;
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const int row = d.ny - 1 - j;
      const bool building = row <= 1 && (i == 2 || i == 3);
      EXPECT_EQ(d.active[d.Index(i, j)], building ? 0 : 1) << i << "," << row;
      EXPECT_EQ(cfg.buildings[d.Index(i, j)], building ? 1 : 0) << i << "," << row;
    }
  }
}

TEST_F(ScenarioGdalTest, BuildingsMaskInAnotherCrsIsAnError) {
  grids::WriteGeoTiff(dir_ + "/dem.tif", Dem("EPSG:25832"));
  grids::WriteGeoTiff(dir_ + "/b.tif", Dem("EPSG:25833"));
  const std::string path = Write(
      "[domain]\ndem = \"dem.tif\"\nmanning = 0.03\nbuildings = \"b.tif\"\n[time]\nend = 10.0\n");
  try {
    LoadScenario(path);
    ADD_FAILURE() << "no ConfigError for a buildings mask in another CRS";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("domain.buildings"), std::string::npos) << msg;
    EXPECT_NE(msg.find("b.tif"), std::string::npos) << msg;
    EXPECT_NE(msg.find("coordinate reference system"), std::string::npos) << msg;
  }
}

// ---------------------------------------------------------------------------
// [rain] zones: per-zone rain series on a zone raster.

// Zone raster on the 6 x 4 test DEM: zone 1 in columns 0-2, zone 2 in columns
// 3-5; the DEM's nodata cell (column 5, row 0) holds 7, which has no table.
std::string ZonesText() {
  std::string s =
      "ncols 6\nnrows 4\nxllcorner 100\nyllcorner 200\ncellsize 10\nNODATA_value -9999\n";
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 6; ++c) s += (r == 0 && c == 5) ? "7 " : (c < 3 ? "1 " : "2 ");
    s += "\n";
  }
  return s;
}

const char* kTwoZones = R"(
[rain]
zones = "zones.asc"
[[rain.zone]]
id = 1
times = [0.0, 30.0, 60.0]
rates_mm_per_h = [0.0, 36.0, 0.0]
[[rain.zone]]
id = 2
series = "zone2.csv"
)";

// Piecewise-linear reference, held outside.
double Lin(const std::vector<double>& t, const std::vector<double>& v, double x) {
  if (x <= t.front()) return v.front();
  if (x >= t.back()) return v.back();
  std::size_t k = 1;
  while (t[k] < x) ++k;
  return v[k - 1] + (v[k] - v[k - 1]) * (x - t[k - 1]) / (t[k] - t[k - 1]);
}

TEST_F(ScenarioConfigTest, RainZoneFramesReproduceEachZoneSeries) {
  WriteText(dir_ + "/zones.asc", ZonesText());
  WriteText(dir_ + "/zone2.csv", "time_s,rate_mm_per_h\n0,10\n45,20\n100,0\n");
  const ScenarioConfig cfg = LoadScenario(Config(Domain() + Time() + kTwoZones));
  const std::vector<double> t1 = {0, 30, 60}, v1 = {0, 36, 0};
  const std::vector<double> t2 = {0, 45, 100}, v2 = {10, 20, 0};
  EXPECT_TRUE(cfg.rain_m_per_s.empty());
  ASSERT_EQ(cfg.rain_frame_times, (std::vector<double>{0, 30, 45, 60, 100}));
  ASSERT_EQ(cfg.rain_frames.size(), 5u);
  const auto& ft = cfg.rain_frame_times;
  const int nx = cfg.domain.nx, ny = cfg.domain.ny;
  for (double t : {0.0, 10.0, 30.0, 40.0, 45.0, 50.0, 59.0, 75.0, 100.0, 150.0}) {
    std::size_t k = 0;
    while (k + 2 < ft.size() && ft[k + 1] <= t) ++k;
    const double w = std::min(1.0, std::max(0.0, (t - ft[k]) / (ft[k + 1] - ft[k])));
    for (int j = 0; j < ny; ++j) {
      for (int i = 0; i < nx; ++i) {
        const std::size_t c = static_cast<std::size_t>(j) * nx + i;
        const double got = (1 - w) * cfg.rain_frames[k][c] + w * cfg.rain_frames[k + 1][c];
        const bool outside = (i == 5 && j == ny - 1);
        const double want = outside ? 0.0 : (i < 3 ? Lin(t1, v1, t) : Lin(t2, v2, t)) / 3.6e6;
        EXPECT_NEAR(got, want, 1e-15) << "t " << t << " cell " << i << "," << j;
      }
    }
  }
}

TEST_F(ScenarioConfigTest, RainZonesGiveEachZoneItsVolumeInAClosedBox) {
  // Flat 5 x 3 box; column 2 is nodata (a wall between the zones).
  std::string dem = "ncols 5\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 10\nNODATA_value -9999\n";
  std::string zones = dem;
  for (int r = 0; r < 3; ++r) {
    dem += "0 0 -9999 0 0\n";
    zones += "1 1 1 2 2\n";
  }
  WriteText(dir_ + "/flat.asc", dem);
  WriteText(dir_ + "/zones.asc", zones);
  const std::string path = Config(R"(
[domain]
dem = "flat.asc"
manning = 0.03
[time]
end = 100.0
output_interval = 50.0
max_dt = 7.0
[rain]
zones = "zones.asc"
[[rain.zone]]
id = 1
times = [0.0, 30.0, 60.0]
rates_mm_per_h = [0.0, 36.0, 0.0]
[[rain.zone]]
id = 2
times = [10.0, 45.0, 80.0]
rates_mm_per_h = [10.0, 20.0, 5.0]
[output]
dir = "out"
digits = 17
)");
  const ScenarioConfig cfg = LoadScenario(path);
  const RunResult res = RunScenario(cfg);
  ASSERT_TRUE(res.ok) << res.error;
  EXPECT_DOUBLE_EQ(res.sim_time, 100.0);
  // Exact integrals (mm/h * s) of each series over [0, 100], held outside.
  const double i1 = 0.5 * 36.0 * 60.0;
  const double i2 = 10.0 * 10.0 + 0.5 * (10 + 20) * 35 + 0.5 * (20 + 5) * 35 + 5.0 * 20.0;
  const double area = 100.0;
  const double want1 = 6 * area * i1 / 3.6e6, want2 = 6 * area * i2 / 3.6e6;
  const grids::RasterD h = grids::ReadRaster(cfg.output_dir + "/depth_100s.asc");
  double v1 = 0, v2 = 0;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 5; ++c) {
      if (c < 2) v1 += h(c, r) * area;
      if (c > 2) v2 += h(c, r) * area;
    }
  }
  const double tol = std::is_same<solver::Real, double>::value ? 1e-10 : 1e-5;
  EXPECT_NEAR(v1, want1, tol * want1);
  EXPECT_NEAR(v2, want2, tol * want2);
  EXPECT_NEAR(res.mass_balance.rain_in, want1 + want2, tol * (want1 + want2));
}

TEST_F(ScenarioConfigTest, RainZoneErrorsNameTheKey) {
  WriteText(dir_ + "/zones.asc", ZonesText());
  WriteText(dir_ + "/zone2.csv", "time_s,rate_mm_per_h\n0,10\n45,20\n100,0\n");
  const std::string base = Domain() + Time();
  const std::string z1 =
      "[rain]\nzones = \"zones.asc\"\n[[rain.zone]]\nid = 1\nrates_mm_per_h = 3.0\n";
  // Zone 2 in the raster without a table: the id and its first cell.
  ExpectError(base + z1, "rain.zones", "zone id 2 (first at column 3, row 0");
  // A table whose zone occurs nowhere in the raster (inside the DEM): a typo.
  ExpectError(base + z1 + "[[rain.zone]]\nid = 2\nrates_mm_per_h = 1.0\n[[rain.zone]]\nid = 3\n" +
                  "rates_mm_per_h = 1.0\n",
              "rain.zone[2].id", "zone id 3 does not occur");
  ExpectError(
      base + z1 + "[[rain.zone]]\nid = 2\ntimes = [0.0, 10.0]\nrates_mm_per_h = [1.0, -2.0]\n",
      "rain.zone[1].rates_mm_per_h", ">= 0");
  ExpectError(
      base + z1 + "[[rain.zone]]\nid = 2\ntimes = [0.0, 10.0]\nrates_mm_per_h = [1.0, nan]\n",
      "rain.zone[1].rates_mm_per_h[1]", "finite");
  ExpectError(
      base + z1 + "[[rain.zone]]\nid = 2\ntimes = [10.0, 0.0]\nrates_mm_per_h = [1.0, 2.0]\n",
      "rain.zone[1].times", "strictly increasing");
  ExpectError(base + z1 + "[[rain.zone]]\nid = 2.5\nrates_mm_per_h = 1.0\n", "rain.zone[1].id",
              "integer");
  ExpectError(base + z1 + "[[rain.zone]]\nid = 1\nrates_mm_per_h = 1.0\n", "rain.zone[1].id",
              "twice");
  ExpectError(base +
                  "[rain]\nzones = \"zones.asc\"\nrates_mm_per_h = 3.0\n[[rain.zone]]\nid = 1\n"
                  "rates_mm_per_h = 3.0\n",
              "rain.rates_mm_per_h", "rain.zones");
  ExpectError(base + "[rain]\nrates_mm_per_h = 3.0\n[[rain.zone]]\nid = 1\nrates_mm_per_h = 3.0\n",
              "rain.zone", "rain.zones");
  ExpectError(
      base + "[rain]\nzones = \"missing.asc\"\n[[rain.zone]]\nid = 1\nrates_mm_per_h = 3.0\n",
      "rain.zones", "file not found");
  std::string frac = ZonesText();
  frac.replace(frac.find("1 "), 2, "1.5 ");
  WriteText(dir_ + "/zones.asc", frac);
  ExpectError(base + z1 + "[[rain.zone]]\nid = 2\nrates_mm_per_h = 1.0\n", "rain.zones",
              "integers, got 1.5");
}

// ---------------------------------------------------------------------------
// [rain] grid: one band per time (a VRT stacking ESRI ASCII bands).

// An ESRI ASCII raster on the 6 x 4 test DEM's grid with value f(col, row).
template <class F>
std::string GridText(F f, int cols = 6, int rows = 4, double west = 100, double south = 200) {
  std::string s = "ncols " + std::to_string(cols) + "\nnrows " + std::to_string(rows) +
                  "\nxllcorner " + std::to_string(west) + "\nyllcorner " + std::to_string(south) +
                  "\ncellsize 10\nNODATA_value -9999\n";
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) s += std::to_string(f(c, r)) + " ";
    s += "\n";
  }
  return s;
}

std::string VrtText(const std::vector<std::string>& bands, int cols = 6, int rows = 4,
                    double west = 100, double north = 240) {
  std::string s = "<VRTDataset rasterXSize=\"" + std::to_string(cols) + "\" rasterYSize=\"" +
                  std::to_string(rows) + "\">\n<GeoTransform>" + std::to_string(west) +
                  ", 10, 0, " + std::to_string(north) + ", 0, -10</GeoTransform>\n";
  for (std::size_t b = 0; b < bands.size(); ++b)
    s += "<VRTRasterBand dataType=\"Float64\" band=\"" + std::to_string(b + 1) +
         "\"><NoDataValue>-9999</NoDataValue><SimpleSource><SourceFilename "
         "relativeToVRT=\"1\">" +
         bands[b] + "</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>\n";
  return s + "</VRTDataset>\n";
}

TEST_F(ScenarioConfigTest, RainGridBandsBecomeFrames) {
  WriteText(dir_ + "/b1.asc", GridText([](int c, int) { return c; }));
  WriteText(dir_ + "/b2.asc", GridText([](int c, int r) { return 2 * c + r; }));
  WriteText(dir_ + "/rain.vrt", VrtText({"b1.asc", "b2.asc"}));
  ScenarioConfig cfg = LoadScenario(
      Config(Domain() + Time() + "[rain]\ngrid = \"rain.vrt\"\ntimes = [0.0, 60.0]\n"));
  ASSERT_EQ(cfg.rain_frame_times, (std::vector<double>{0, 60}));
  ASSERT_EQ(cfg.rain_frames.size(), 2u);
  EXPECT_FALSE(cfg.rain_frames_stepwise);
  const int nx = cfg.domain.nx, ny = cfg.domain.ny;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const int row = ny - 1 - j;
      const std::size_t c = static_cast<std::size_t>(j) * nx + i;
      const bool outside = (i == 5 && row == 0);
      EXPECT_NEAR(cfg.rain_frames[0][c], outside ? 0.0 : i / 3.6e6, 1e-18);
      EXPECT_NEAR(cfg.rain_frames[1][c], outside ? 0.0 : (2 * i + row) / 3.6e6, 1e-18);
    }
  }
  cfg = LoadScenario(Config(Domain() + Time() +
                            "[rain]\ngrid = \"rain.vrt\"\ntimes = [30.0, 90.0]\n"
                            "kind = \"accumulation_mm\"\n"));
  EXPECT_TRUE(cfg.rain_frames_stepwise);
  const std::size_t c = 2;  // column 2, south row (row 3)
  EXPECT_NEAR(cfg.rain_frames[0][c], 2.0 / 1000 / 30, 1e-18);
  EXPECT_NEAR(cfg.rain_frames[1][c], 7.0 / 1000 / 60, 1e-18);
}

// A CF-NetCDF rain series as a (time, y, x) variable, the layout of a
// converted radar product (written with the project's CF writer; GDAL sees
// one band per time step).
TEST_F(ScenarioConfigTest, RainGridFromCfNetcdf) {
  const int nx = 6, ny = 4;
  std::vector<double> f0(nx * ny), f1(nx * ny), zero(nx * ny, 0.0);
  for (int row = 0; row < ny; ++row)
    for (int col = 0; col < nx; ++col) {
      f0[row * nx + col] = col;
      f1[row * nx + col] = 2 * col + row;
    }
  {
    grids::CfRunInfo info;
    info.title = "rain";
    grids::CfNetcdfWriter w(dir_ + "/rain.nc", grids::GeoTransform{100, 240, 10, 10}, nx, ny, "",
                            {}, info);
    w.AppendFrame(0.0, f0, zero, zero, zero);
    w.AppendFrame(60.0, f1, zero, zero, zero);
    w.Close();
  }
  const ScenarioConfig cfg = LoadScenario(
      Config(Domain() + Time() +
             "[rain]\ngrid = \"rain.nc\"\nvariable = \"depth\"\ntimes = [0.0, 60.0]\n"));
  ASSERT_EQ(cfg.rain_frames.size(), 2u);
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const int row = ny - 1 - j;
      if (i == 5 && row == 0) continue;  // outside the DEM
      const std::size_t c = static_cast<std::size_t>(j) * nx + i;
      // The file stores float: 1e-12 m/s is far below its rounding of mm/h.
      EXPECT_NEAR(cfg.rain_frames[0][c], i / 3.6e6, 1e-12) << i << "," << j;
      EXPECT_NEAR(cfg.rain_frames[1][c], (2 * i + row) / 3.6e6, 1e-12) << i << "," << j;
    }
  }
  // A variable the file does not hold is an error naming the key.
  ExpectError(Domain() + Time() +
                  "[rain]\ngrid = \"rain.nc\"\nvariable = \"precip\"\ntimes = [0.0, 60.0]\n",
              "rain.variable");
  // Without `variable`, a file with several variables is an error naming them.
  ExpectError(Domain() + Time() + "[rain]\ngrid = \"rain.nc\"\ntimes = [0.0, 60.0]\n", "rain.grid",
              "depth");
}

TEST_F(ScenarioConfigTest, RainGridAccumulationsGiveTheirVolume) {
  WriteText(dir_ + "/flat.asc", GridText([](int, int) { return 0; }, 5, 3, 0, 0));
  WriteText(dir_ + "/a1.asc", GridText([](int c, int) { return 1 + c; }, 5, 3, 0, 0));
  WriteText(dir_ + "/a2.asc", GridText([](int, int r) { return 2 * r; }, 5, 3, 0, 0));
  WriteText(dir_ + "/acc.vrt", VrtText({"a1.asc", "a2.asc"}, 5, 3, 0, 30));
  const ScenarioConfig cfg = LoadScenario(Config(R"(
[domain]
dem = "flat.asc"
manning = 0.03
[time]
end = 100.0
max_dt = 5.0
[rain]
grid = "acc.vrt"
times = [20.0, 50.0]
kind = "accumulation_mm"
[output]
dir = "out"
)"));
  const RunResult res = RunScenario(cfg);
  ASSERT_TRUE(res.ok) << res.error;
  // Sum over cells of the accumulations (mm) times the cell area.
  const double want = (3 * (1 + 2 + 3 + 4 + 5) + 5 * (0 + 2 + 4)) * 100.0 / 1000.0;
  const double tol = std::is_same<solver::Real, double>::value ? 1e-10 : 1e-5;
  EXPECT_NEAR(res.mass_balance.rain_in, want, tol * want);
}

TEST_F(ScenarioConfigTest, RainGridErrorsNameTheKey) {
  WriteText(dir_ + "/b1.asc", GridText([](int c, int) { return c; }));
  WriteText(dir_ + "/neg.asc", GridText([](int c, int r) { return (c == 1 && r == 2) ? -1 : 0; }));
  WriteText(dir_ + "/rain.vrt", VrtText({"b1.asc", "b1.asc"}));
  WriteText(dir_ + "/neg.vrt", VrtText({"b1.asc", "neg.asc"}));
  const std::string base = Domain() + Time() + "[rain]\n";
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0, 10.0, 20.0]\n", "rain.grid", "band 3");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0]\n", "rain.times", "more bands");
  ExpectError(base + "grid = \"rain.vrt\"\n", "rain.times", "missing");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [10.0, 0.0]\n", "rain.times",
              "strictly increasing");
  ExpectError(base + "grid = \"neg.vrt\"\ntimes = [0.0, 10.0]\n", "rain.grid", "band 2 (t = 10 s)");
  ExpectError(base + "grid = \"nope.nc\"\ntimes = [0.0]\n", "rain.grid", "file not found");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0, 10.0]\nvariable = \"precip\"\n",
              "rain.variable", "precip");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0, 10.0]\nkind = \"depth\"\n", "rain.kind");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0, 10.0]\nkind = \"accumulation_mm\"\n",
              "rain.times", "> 0");
  ExpectError(base + "grid = \"rain.vrt\"\ntimes = [0.0, 10.0]\nrates_mm_per_h = 1.0\n",
              "rain.rates_mm_per_h", "rain.grid");
  ExpectError(base + "rates_mm_per_h = 1.0\nkind = \"rate_mm_per_h\"\n", "rain.kind", "rain.grid");
}

}  // namespace
}  // namespace floodwarn::scenario

namespace floodwarn::scenario {
namespace {

using testing::ReadText;

// Runs `case.toml` in `dir` uninterrupted and restarted from its 40 s
// checkpoint; the depth, max-depth and arrival grids (17 digits) must be
// byte-identical.
void ExpectRestartBitIdentical(const std::string& dir) {
  ScenarioConfig full = LoadScenario(dir + "/case.toml");
  full.output_dir = dir + "/full";
  ASSERT_TRUE(RunScenario(full).ok);
  ScenarioConfig resumed = LoadScenario(dir + "/case.toml");
  resumed.output_dir = dir + "/resumed";
  resumed.restart_from = dir + "/full/checkpoint_40s.h5";
  const RunResult r = RunScenario(resumed);
  ASSERT_TRUE(r.ok) << r.error;
  for (const char* name : {"depth_100s.asc", "max_depth.asc", "arrival_time.asc"}) {
    const std::string a = ReadText(dir + "/full/" + name);
    ASSERT_FALSE(a.empty()) << name;
    EXPECT_EQ(a, ReadText(dir + "/resumed/" + name)) << name << " differs after the restart";
  }
  EXPECT_GT(r.mass_balance.rain_in, 0.0);
}

// A tilted 6 x 3 box of 10 m cells (water runs east).
std::string TiltedBoxDem() {
  std::string dem = "ncols 6\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 10\n";
  for (int r = 0; r < 3; ++r) dem += "0.5 0.4 0.3 0.2 0.1 0\n";
  return dem;
}

constexpr const char* kRestartCaseHead = R"(
[domain]
dem = "dem.asc"
manning = 0.03
[time]
end = 100.0
output_interval = 50.0
max_dt = 2.0
[checkpoint]
times = [40.0]
[output]
digits = 17
)";

// A run with per-zone rain restarted from a checkpoint taken between two rain
// frame times ends with byte-identical (17-digit) depth and max-depth grids:
// the rain frames are set again after the restart.
TEST(ScenarioRestart, ZoneRainRunRestartsBitIdentical) {
  const std::string dir = testing::MakeTempDir("floodwarn_rain_restart");
  std::string zones = "ncols 6\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 10\n";
  for (int r = 0; r < 3; ++r) zones += "1 1 1 2 2 2\n";
  std::ofstream(dir + "/dem.asc") << TiltedBoxDem();
  std::ofstream(dir + "/zones.asc") << zones;
  std::ofstream(dir + "/case.toml") << kRestartCaseHead << R"(
[rain]
zones = "zones.asc"
[[rain.zone]]
id = 1
times = [0.0, 30.0, 60.0]
rates_mm_per_h = [0.0, 360.0, 0.0]
[[rain.zone]]
id = 2
times = [10.0, 45.0, 80.0]
rates_mm_per_h = [100.0, 200.0, 50.0]
)";
  ExpectRestartBitIdentical(dir);
}

// The same with gridded rain (one raster band per time), as rates
// interpolated in time and as accumulations held over their intervals; and
// with Green-Ampt infiltration, whose state (infiltrated depth) must survive
// the restart too.
TEST(ScenarioRestart, GridRainRunRestartsBitIdentical) {
  for (const bool accumulation : {false, true}) {
    SCOPED_TRACE(accumulation ? "accumulation_mm" : "rate_mm_per_h");
    const std::string dir = testing::MakeTempDir("floodwarn_grid_restart");
    std::ofstream(dir + "/dem.asc") << TiltedBoxDem();
    std::ofstream(dir + "/b1.asc") << GridText([](int c, int r) { return 10 * c + r; }, 6, 3, 0, 0);
    std::ofstream(dir + "/b2.asc") << GridText([](int c, int) { return 200 - 20 * c; }, 6, 3, 0, 0);
    std::ofstream(dir + "/b3.asc") << GridText([](int, int r) { return 50 * r; }, 6, 3, 0, 0);
    std::ofstream(dir + "/rain.vrt") << VrtText({"b1.asc", "b2.asc", "b3.asc"}, 6, 3, 0, 30);
    std::ofstream(dir + "/case.toml")
        << kRestartCaseHead << "[rain]\ngrid = \"rain.vrt\"\ntimes = [20.0, 50.0, 80.0]\n"
        << (accumulation ? "kind = \"accumulation_mm\"\n" : "")
        << "[infiltration]\nmodel = \"green_ampt\"\nks = 2e-6\npsi = 0.1\ndtheta = 0.3\n";
    ExpectRestartBitIdentical(dir);
  }
}

// Gridded rain is read band by band while the run goes on (a long radar
// series is never held in memory at once): a band file that disappears after
// the config was checked stops the run with an error naming the file and the
// band, instead of running on without that rain.
TEST(ScenarioRainGrid, BandsAreReadDuringTheRun) {
  const std::string dir = testing::MakeTempDir("floodwarn_grid_stream");
  std::ofstream(dir + "/dem.asc") << TiltedBoxDem();
  std::ofstream(dir + "/b1.asc") << GridText([](int, int) { return 10; }, 6, 3, 0, 0);
  std::ofstream(dir + "/b2.asc") << GridText([](int, int) { return 20; }, 6, 3, 0, 0);
  std::ofstream(dir + "/b3.asc") << GridText([](int, int) { return 30; }, 6, 3, 0, 0);
  std::ofstream(dir + "/rain.vrt") << VrtText({"b1.asc", "b2.asc", "b3.asc"}, 6, 3, 0, 30);
  std::ofstream(dir + "/case.toml")
      << kRestartCaseHead << "[rain]\ngrid = \"rain.vrt\"\ntimes = [0.0, 30.0, 60.0]\n";
  ScenarioConfig cfg = LoadScenario(dir + "/case.toml");
  cfg.output_dir = dir + "/out";
  cfg.checkpoint_times.clear();
  std::filesystem::remove(dir + "/b3.asc");
  try {
    RunScenario(cfg);
    ADD_FAILURE() << "the run went on without band 3";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("rain.vrt"), std::string::npos) << what;
    EXPECT_NE(what.find("band 3"), std::string::npos) << what;
  }
}

// A checkpoint is refused by a scenario whose soil differs (the infiltrated
// depths it carries would mean nothing there), with a message that says so.
TEST(ScenarioRestart, CheckpointOfOtherInfiltrationIsRefused) {
  const std::string dir = testing::MakeTempDir("floodwarn_soil_restart");
  std::ofstream(dir + "/dem.asc") << TiltedBoxDem();
  const std::string rain = "[rain]\ntimes = [0.0, 100.0]\nrates_mm_per_h = [60.0, 60.0]\n";
  std::ofstream(dir + "/case.toml")
      << kRestartCaseHead << rain
      << "[infiltration]\nmodel = \"green_ampt\"\nks = 2e-6\npsi = 0.1\ndtheta = 0.3\n";
  std::ofstream(dir + "/other.toml")
      << kRestartCaseHead << rain
      << "[infiltration]\nmodel = \"green_ampt\"\nks = 5e-6\npsi = 0.1\ndtheta = 0.3\n";
  ScenarioConfig full = LoadScenario(dir + "/case.toml");
  full.output_dir = dir + "/full";
  ASSERT_TRUE(RunScenario(full).ok);
  ScenarioConfig other = LoadScenario(dir + "/other.toml");
  other.output_dir = dir + "/other";
  other.restart_from = dir + "/full/checkpoint_40s.h5";
  try {
    RunScenario(other);
    ADD_FAILURE() << "a checkpoint of another soil was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("infiltration"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace floodwarn::scenario
