// `floodwarn radar convert` run as the real executable: what it prints, its
// exit codes, and that the [rain] table it prints, pasted into a scenario,
// loads (every band read and checked by the scenario loader).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/ingest/radolan.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "test_support.hpp"

namespace {

namespace fi = floodwarn::ingest;
namespace grids = floodwarn::grids;

struct Result {
  int rc = -1;
  std::string out;  // stdout + stderr
};

Result Floodwarn(const std::string& args) {
  Result r;
  FILE* p = popen((std::string(FLOODWARN_EXE) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Q(const std::string& s) { return "'" + s + "'"; }

TEST(RadarCli, ConvertPrintsAWorkingRainTable) {
  FLOODWARN_REQUIRE_SHARED(sample, "reference/raa01-rw_10000-1408030950-dwd---bin.gz");
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_radar_cli");
  // A 20 x 20 DEM of 1 km cells in ETRS89 / UTM 32N over the sample's storm
  // (Thuringia), written as an ESRI ASCII grid (no CRS: given by --dem-crs).
  std::ofstream(dir + "/dem.asc") << [] {
    std::ostringstream s;
    s << "ncols 20\nnrows 20\nxllcorner 642000\nyllcorner 5631000\ncellsize 1000\n"
         "NODATA_value -9999\n";
    for (int r = 0; r < 20; ++r) {
      for (int c = 0; c < 20; ++c) s << (r == 0 && c == 0 ? -9999 : 300 - c - r) << ' ';
      s << '\n';
    }
    return s.str();
  }();
  // The same composite once more, an hour later.
  const std::string second = dir + "/raa01-rw_10000-1408031050-dwd---bin";
  {
    std::ifstream in(sample, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string raw = fi::Gunzip(ss.str(), sample);
    raw.replace(2, 6, "031050");
    std::ofstream(second, std::ios::binary) << raw;
  }
  const std::string out = dir + "/rain.nc";
  const Result ok = Floodwarn("radar convert " + Q(second) + " " + Q(sample) + " --dem " +
                              Q(dir + "/dem.asc") + " --dem-crs EPSG:25832 --out " + Q(out));
  ASSERT_EQ(ok.rc, 0) << ok.out;
  EXPECT_NE(ok.out.find("wrote " + out + ": 2 frame(s) of RADOLAN RW (60 min)"), std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("2014-08-03T10:50:00Z"), std::string::npos) << ok.out;
  const std::size_t at = ok.out.find("[rain]\n");
  ASSERT_NE(at, std::string::npos) << ok.out;
  const std::string table = ok.out.substr(at);
  EXPECT_NE(table.find("times = [3600.0, 7200.0]"), std::string::npos) << table;
  EXPECT_NE(table.find("kind = \"accumulation_mm\""), std::string::npos) << table;
  EXPECT_NE(table.find("t = 0 s is 2014-08-03T08:50:00Z"), std::string::npos) << table;

  std::ofstream(dir + "/case.toml") << "[domain]\ndem = \"dem.asc\"\nmanning = 0.05\n"
                                    << "[time]\nend = 7200.0\n"
                                    << table;
  const floodwarn::scenario::ScenarioConfig cfg =
      floodwarn::scenario::LoadScenario(dir + "/case.toml");
  EXPECT_EQ(cfg.rain_frame_times, (std::vector<double>{3600.0, 7200.0}));
  EXPECT_TRUE(cfg.rain_frames_stepwise);  // accumulations, held over their intervals

  // GDAL reads the file on its own; the storm is in it.
  const grids::RasterD band = grids::ReadRaster("NETCDF:\"" + out + "\":precipitation_amount", 1);
  EXPECT_GT(band(10, 10), 0.0);
}

TEST(RadarCli, ErrorsExitNonZeroNamingTheProblem) {
  FLOODWARN_REQUIRE_SHARED(sample, "reference/raa01-rw_10000-1408030950-dwd---bin.gz");
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_radar_cli_err");
  std::ofstream(dir + "/dem.asc")
      << "ncols 2\nnrows 2\nxllcorner 642000\nyllcorner 5631000\ncellsize 1000\n1 1\n1 1\n";
  std::ofstream(dir + "/junk.bin") << "junk";
  Result r = Floodwarn("radar convert " + Q(dir + "/junk.bin") + " --dem " + Q(dir + "/dem.asc") +
                       " --dem-crs EPSG:25832 --out " + Q(dir + "/o.nc"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("error: " + dir + "/junk.bin"), std::string::npos) << r.out;

  r = Floodwarn("radar convert " + Q(sample) + " --dem " + Q(dir + "/dem.asc") + " --out " +
                Q(dir + "/o.nc"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("the DEM has no CRS"), std::string::npos) << r.out;

  r = Floodwarn("radar convert " + Q(sample) + " --dem " + Q(dir + "/dem.asc") +
                " --dem-crs EPSG:25832 --start 2014-08-03 --out " + Q(dir + "/o.nc"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("--start '2014-08-03'"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/o.nc"));
}

}  // namespace
