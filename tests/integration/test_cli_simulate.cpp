// Runs the real `floodwarn simulate` binary on every config under configs/
// and checks what it wrote; also its exit codes and messages on bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/grids/raster.hpp"
#include "floodwarn/scenario/model.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

namespace fs = std::filesystem;

using CliRun = testing::CommandResult;

// OUT/QUANTITY_LABELs.asc: one map of a run's output time.
std::string GridPath(const std::string& out, const char* quantity, const std::string& label) {
  std::string path = out;
  path.append("/").append(quantity).append("_").append(label).append("s.asc");
  return path;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

CliRun RunFloodwarn(const std::string& args) {
  return testing::RunCommand(Quote(testing::BinaryDir() + "/apps/floodwarn") + " " + args);
}

using testing::ReadText;

std::vector<std::string> ConfigFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() + "/configs"))
    if (e.is_regular_file() && e.path().extension() == ".toml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A number after "key": in the summary, or NaN.
double JsonNumber(const std::string& json, const std::string& key) {
  std::smatch m;
  const std::regex re("\"" + key + "\": ([-+0-9.eE]+)");
  if (!std::regex_search(json, m, re)) return std::nan("");
  return std::stod(m[1].str());
}

TEST(CliSimulate, EveryBundledConfigRunsAndWritesConsistentOutputs) {
  const auto configs = ConfigFiles();
  ASSERT_GE(configs.size(), 2u) << "expected the bundled configs under configs/";
  for (const std::string& config : configs) {
    SCOPED_TRACE(config);
    const std::string out = testing::MakeTempDir("floodwarn_cli") + "/results";
    // With the conservation check (issue #17): a clamp that adds or removes
    // water beyond round-off stops the run with exit status 2.
    const CliRun run =
        RunFloodwarn("simulate " + Quote(config) +
                     " --quiet --threads 1 --check-conservation stop --output-dir " + Quote(out));
    ASSERT_EQ(run.exit_code, 0) << run.output;

    const scenario::ScenarioConfig cfg = scenario::LoadScenario(config);
    const grids::RasterD dem = grids::ReadAsciiGrid(cfg.dem_path);

    // Snapshots: every output time, three fields, on the DEM's grid.
    const grids::RasterD max_depth = grids::ReadAsciiGrid(out + "/max_depth.asc");
    ASSERT_EQ(max_depth.cols(), dem.cols());
    ASSERT_EQ(max_depth.rows(), dem.rows());
    EXPECT_TRUE(max_depth.geo().SameGrid(dem.geo()));
    double max_seen = 0.0;
    for (const double t : cfg.output_times) {
      const std::string label = scenario::TimeLabel(t);
      const grids::RasterD h = grids::ReadAsciiGrid(GridPath(out, "depth", label));
      const grids::RasterD u = grids::ReadAsciiGrid(GridPath(out, "u", label));
      const grids::RasterD v = grids::ReadAsciiGrid(GridPath(out, "v", label));
      ASSERT_EQ(h.size(), dem.size());
      ASSERT_EQ(u.size(), dem.size());
      ASSERT_EQ(v.size(), dem.size());
      int bad_max = 0, bad_mask = 0, bad_depth = 0, bad_velocity = 0;
      for (int r = 0; r < dem.rows(); ++r) {
        for (int c = 0; c < dem.cols(); ++c) {
          if (dem.IsNodata(c, r) != h.IsNodata(c, r) ||
              dem.IsNodata(c, r) != max_depth.IsNodata(c, r)) {
            ++bad_mask;
            continue;
          }
          if (dem.IsNodata(c, r)) continue;
          if (!(h(c, r) >= 0.0) || !std::isfinite(u(c, r)) || !std::isfinite(v(c, r))) ++bad_depth;
          if (!(max_depth(c, r) >= h(c, r))) ++bad_max;
          if (h(c, r) <= cfg.options.dry_depth && (u(c, r) != 0.0 || v(c, r) != 0.0))
            ++bad_velocity;
          max_seen = std::max(max_seen, h(c, r));
        }
      }
      EXPECT_EQ(bad_mask, 0) << "nodata mask differs from the DEM at t = " << t;
      EXPECT_EQ(bad_depth, 0) << "negative or non-finite values at t = " << t;
      EXPECT_EQ(bad_max, 0) << "max_depth < depth at t = " << t;
      EXPECT_EQ(bad_velocity, 0) << "velocity in dry cells at t = " << t;
    }
    EXPECT_GT(max_seen, 0.0) << "no water anywhere in any snapshot";

    // Extremes and hazard: arrival time where (and only where) the max depth
    // passed the arrival depth (0.01 m), within the run; speeds >= 0; the
    // hazard class is the FD2320 class of the hazard rating.
    // The CF-NetCDF result opens with the real gdalinfo on the DEM's grid.
    ASSERT_TRUE(fs::exists(out + "/results.nc"));
    const CliRun info =
        testing::RunCommand("gdalinfo 'NETCDF:\"" + out + "/results.nc\":max_depth'");
    if (info.exit_code == 0) {
      EXPECT_NE(info.output.find("Size is " + std::to_string(dem.cols()) + ", " +
                                 std::to_string(dem.rows())),
                std::string::npos)
          << info.output;
    } else {
      ADD_FAILURE() << "gdalinfo could not open results.nc: " << info.output;
    }
    // GeoTIFF exports hold the same values as the ASCII grids.
    for (const char* name : {"max_depth", "hazard_class", "max_wse"}) {
      const grids::RasterD tif = grids::ReadRaster(out + "/" + name + ".tif");
      const grids::RasterD asc = grids::ReadAsciiGrid(out + "/" + name + ".asc");
      ASSERT_EQ(tif.size(), asc.size()) << name;
      EXPECT_TRUE(tif.geo().SameGrid(asc.geo())) << name;
      int differ = 0;
      for (int r = 0; r < asc.rows(); ++r)
        for (int c = 0; c < asc.cols(); ++c)
          if (asc.IsNodata(c, r) != tif.IsNodata(c, r) ||
              (!asc.IsNodata(c, r) && std::fabs(asc(c, r) - tif(c, r)) > 1e-8 * (1 + asc(c, r))))
            ++differ;
      EXPECT_EQ(differ, 0) << name << ".tif differs from " << name << ".asc";
    }
    // Peak water level (issue #15): the ground the solver used plus the max
    // depth where the cell got wet, nodata where it never did; the ground
    // map is the DEM (with buildings raised where the config raises them).
    {
      const grids::RasterD wse = grids::ReadAsciiGrid(out + "/max_wse.asc");
      const grids::RasterD ground = grids::ReadRaster(out + "/ground.tif");
      const grids::RasterD bed = scenario::ToRaster(cfg, cfg.domain.bed);
      ASSERT_EQ(wse.size(), dem.size());
      ASSERT_EQ(ground.size(), dem.size());
      EXPECT_TRUE(ground.geo().SameGrid(dem.geo()));
      int bad_wse = 0, bad_ground = 0, wet = 0;
      for (int r = 0; r < dem.rows(); ++r) {
        for (int c = 0; c < dem.cols(); ++c) {
          if (dem.IsNodata(c, r)) {
            bad_ground += ground.IsNodata(c, r) ? 0 : 1;
            bad_wse += wse.IsNodata(c, r) ? 0 : 1;
            continue;
          }
          if (ground.IsNodata(c, r) || std::fabs(ground(c, r) - bed(c, r)) > 1e-6) ++bad_ground;
          const bool building = !cfg.buildings.empty() &&
                                cfg.buildings[cfg.domain.Index(c, cfg.domain.ny - 1 - r)] != 0;
          if (!building && std::fabs(bed(c, r) - dem(c, r)) > 1e-9) ++bad_ground;
          const double md = max_depth(c, r);
          if (md > cfg.options.dry_depth) {
            ++wet;
            // 9 significant digits in the grids: 1e-6 m at levels of 100 m.
            if (wse.IsNodata(c, r) || std::fabs(wse(c, r) - (bed(c, r) + md)) > 1e-6) ++bad_wse;
          } else if (!wse.IsNodata(c, r)) {
            ++bad_wse;
          }
        }
      }
      EXPECT_GT(wet, 0);
      EXPECT_EQ(bad_wse, 0) << "max_wse is not ground + max depth where wet, nodata where dry";
      EXPECT_EQ(bad_ground, 0) << "ground.tif is not the ground the solver used";
    }
    const grids::RasterD vmax = grids::ReadAsciiGrid(out + "/max_speed.asc");
    const grids::RasterD arrival = grids::ReadAsciiGrid(out + "/arrival_time.asc");
    const grids::RasterD hr = grids::ReadAsciiGrid(out + "/hazard_rating.asc");
    const grids::RasterD hc = grids::ReadAsciiGrid(out + "/hazard_class.asc");
    int bad_arrival = 0, bad_speed = 0, bad_class = 0, arrived = 0;
    for (int r = 0; r < dem.rows(); ++r) {
      for (int c = 0; c < dem.cols(); ++c) {
        if (dem.IsNodata(c, r)) continue;
        const double md = max_depth(c, r);
        if (md > 0.0101) {
          ++arrived;
          if (arrival.IsNodata(c, r) || arrival(c, r) < 0 || arrival(c, r) > cfg.end) ++bad_arrival;
        } else if (md < 0.0099 && !arrival.IsNodata(c, r)) {
          ++bad_arrival;
        }
        if (!(vmax(c, r) >= 0.0)) ++bad_speed;
        const double rating = hr(c, r);
        const int expected = md <= cfg.options.dry_depth ? 0
                             : rating < 0.75             ? 1
                             : rating <= 1.25            ? 2
                             : rating <= 2.0             ? 3
                                                         : 4;
        if (hc(c, r) != expected) ++bad_class;
      }
    }
    EXPECT_GT(arrived, 0);
    EXPECT_EQ(bad_arrival, 0) << "arrival time inconsistent with max depth";
    EXPECT_EQ(bad_speed, 0);
    EXPECT_EQ(bad_class, 0) << "hazard class does not match the hazard rating";

    // points.csv: header, then one row per sample time with one depth per point.
    std::istringstream csv(ReadText(out + "/points.csv"));
    std::string line;
    ASSERT_TRUE(std::getline(csv, line));
    std::string header = "time_s";
    for (const auto& p : cfg.points) header += "," + p.name + "_depth_m";
    EXPECT_EQ(line, header);
    std::size_t rows = 0;
    while (std::getline(csv, line)) {
      ASSERT_LT(rows, cfg.point_times.size()) << "extra row: " << line;
      std::istringstream ls(line);
      std::string cell;
      std::vector<double> values;
      while (std::getline(ls, cell, ',')) values.push_back(std::stod(cell));
      ASSERT_EQ(values.size(), cfg.points.size() + 1) << line;
      EXPECT_DOUBLE_EQ(values[0], cfg.point_times[rows]);
      for (std::size_t k = 1; k < values.size(); ++k) EXPECT_GE(values[k], 0.0) << line;
      ++rows;
    }
    EXPECT_EQ(rows, cfg.point_times.size());

    // summary.json: a finished run with a closed mass balance.
    const std::string summary = ReadText(out + "/summary.json");
    EXPECT_NE(summary.find("\"status\": \"ok\""), std::string::npos) << summary;
    const double rel = JsonNumber(summary, "relative_error");
    EXPECT_TRUE(std::isfinite(rel)) << summary;
    EXPECT_LT(std::fabs(rel), 1e-8) << summary;
    EXPECT_NE(summary.find("\"violations\": 0,"), std::string::npos) << summary;
    EXPECT_DOUBLE_EQ(JsonNumber(summary, "simulated_time_s"), cfg.end);
    EXPECT_GT(JsonNumber(summary, "steps"), 0.0);
    // The run's max depth covers every step, so at least every snapshot
    // (which is rounded to 9 significant digits).
    EXPECT_GE(JsonNumber(summary, "max_depth_m"), max_seen * (1.0 - 1e-8));

    // Nothing half-written left behind.
    for (const auto& e : fs::directory_iterator(out))
      EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
}

// A small dam break written into `dir`: 20 x 10 cells of 1 m, water 2 m
// deep in the western quarter.
std::string WriteSmallCase(const std::string& dir, const std::string& extra) {
  std::ofstream dem(dir + "/dem.asc");
  dem << "ncols 20\nnrows 10\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
  std::ofstream h(dir + "/h.asc");
  h << "ncols 20\nnrows 10\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 20; ++c) {
      dem << "0 ";
      h << (c < 5 ? "2 " : "0 ");
    }
    dem << "\n";
    h << "\n";
  }
  std::string path = dir + "/small.toml";
  std::ofstream cfg(path);
  cfg << "[domain]\ndem = \"dem.asc\"\nmanning = 0.0\ninitial_depth = \"h.asc\"\n"
         "[time]\nend = 5.0\n"
      << extra;
  return path;
}

TEST(CliSimulate, BadConfigExitsOneNamingFileAndKey) {
  const std::string dir = testing::MakeTempDir("floodwarn_cli_bad");
  const std::string cfg = WriteSmallCase(dir,
                                         "[[boundary]]\nedge = \"east\"\nkind = \"outflow\"\n"
                                         "[[boundary]]\nedge = \"west\"\nkind = \"outlet\"\n");
  const CliRun run = RunFloodwarn("simulate " + Quote(cfg) + " --quiet");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("error: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("small.toml"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("boundary[1].kind"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir + "/output")) << "a bad config must not start a run";

  const CliRun missing = RunFloodwarn("simulate " + Quote(dir + "/nope.toml"));
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("nope.toml"), std::string::npos) << missing.output;

  const CliRun usage = RunFloodwarn("simulate");
  EXPECT_NE(usage.exit_code, 0) << usage.output;
}

TEST(CliSimulate, BlowUpExitsTwoAndIsReported) {
  const std::string dir = testing::MakeTempDir("floodwarn_cli_blowup");
  // A 2 m dam break moves at ~4 m/s: a 0.5 m/s speed bound reports a blow-up.
  const std::string cfg = WriteSmallCase(dir, "[solver]\nmax_speed_bound = 0.5\n");
  const CliRun run =
      RunFloodwarn("simulate " + Quote(cfg) + " --quiet --output-dir " + Quote(dir + "/out"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("error: "), std::string::npos) << run.output;
  const std::string summary = ReadText(dir + "/out/summary.json");
  EXPECT_NE(summary.find("\"status\": \"blow_up\""), std::string::npos) << summary;
  EXPECT_FALSE(fs::exists(dir + "/out/max_depth.asc"));
  EXPECT_FALSE(fs::exists(dir + "/out/results.nc"));
  EXPECT_FALSE(fs::exists(dir + "/out/results.nc.tmp"));
}

// Issue #15: the blow-up is told once, naming its cell; and a run that fails
// leaves no file of the earlier run in the folder (before: the last good
// run's maps and results.nc sat beside the new summary.json saying blow_up).
TEST(CliSimulate, AFailedRunLeavesNothingOfTheEarlierRunAndSaysItOnce) {
  const std::string dir = testing::MakeTempDir("floodwarn_cli_stale");
  const std::string good = WriteSmallCase(dir, "");
  const std::string out = dir + "/out";
  ASSERT_EQ(
      RunFloodwarn("simulate " + Quote(good) + " --quiet --output-dir " + Quote(out)).exit_code, 0);
  ASSERT_TRUE(fs::exists(out + "/max_depth.asc"));
  ASSERT_TRUE(fs::exists(out + "/results.nc"));
  const std::string bad = WriteSmallCase(dir, "[solver]\nmax_speed_bound = 0.5\n");
  const CliRun run = RunFloodwarn("simulate " + Quote(bad) + " --quiet --output-dir " + Quote(out));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  std::size_t told = 0;
  for (std::size_t at = run.output.find("blow-up at"); at != std::string::npos;
       at = run.output.find("blow-up at", at + 1))
    ++told;
  EXPECT_EQ(told, 1u) << run.output;
  EXPECT_NE(run.output.find("cell (i="), std::string::npos) << run.output;
  for (const char* f : {"max_depth.asc", "results.nc", "max_depth.tif", "hazard_class.asc",
                        "arrival_time.asc", "depth_5s.asc"})
    EXPECT_FALSE(fs::exists(out + "/" + f)) << f << " of the earlier run is still there";
  EXPECT_NE(ReadText(out + "/summary.json").find("\"status\": \"blow_up\""), std::string::npos);
}

// A rerun of a past event must reproduce what the system said at the time:
// the same config gives bit-identical results on 1 and 2 threads (each face
// is computed once per step, the floating-point model is fixed; see
// docs/SOLVER.md "Kernels and determinism").
TEST(CliSimulate, ResultsAreBitIdenticalAcrossThreadCounts) {
  const std::string dir = testing::MakeTempDir("floodwarn_cli_threads");
  // The bundled dam break with exact (17-digit) grids and absolute data paths.
  std::string text = ReadText(testing::SourceDir() + "/configs/dambreak_building.toml");
  text = std::regex_replace(text, std::regex("\"data/"),
                            "\"" + testing::SourceDir() + "/configs/data/");
  text = std::regex_replace(text, std::regex("\\[output\\]\n"), "[output]\ndigits = 17\n");
  ASSERT_NE(text.find("digits = 17"), std::string::npos);
  const std::string config = dir + "/exact.toml";
  std::ofstream(config) << text;
  for (const char* threads : {"1", "2"}) {
    const CliRun run = RunFloodwarn("simulate " + Quote(config) + " --quiet --threads " + threads +
                                    " --output-dir " + Quote(dir + "/t" + threads));
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  int compared = 0;
  for (const auto& e : fs::directory_iterator(dir + "/t1")) {
    const std::string name = e.path().filename().string();
    // summary.json holds wall times; results.nc may hold HDF5 object
    // timestamps. The same fields are compared exactly in the 17-digit grids.
    if (name == "summary.json" || name == "results.nc") continue;
    const std::string a = ReadText(e.path().string());
    const std::string b = ReadText(std::string(dir).append("/t2/").append(name));
    ASSERT_FALSE(a.empty()) << name;
    EXPECT_TRUE(a == b) << name << " differs between 1 and 2 threads";
    ++compared;
  }
  EXPECT_GE(compared, 5);
}

// Hot start: the bundled dam break with a checkpoint at 30 s, run through, and
// restarted from that checkpoint into another folder, ends with byte-identical
// (17-digit) grids; a checkpoint of another domain is refused.
TEST(CliSimulate, RestartFromCheckpointEndsIdentical) {
  const std::string dir = testing::MakeTempDir("floodwarn_cli_restart");
  std::string text = ReadText(testing::SourceDir() + "/configs/dambreak_building.toml");
  text = std::regex_replace(text, std::regex("\"data/"),
                            "\"" + testing::SourceDir() + "/configs/data/");
  text = std::regex_replace(text, std::regex("\\[output\\]\n"), "[output]\ndigits = 17\n");
  text += "\n[checkpoint]\ntimes = [30.0]\n";
  const std::string config = dir + "/ckpt.toml";
  std::ofstream(config) << text;

  const CliRun full =
      RunFloodwarn("simulate " + Quote(config) + " --quiet --output-dir " + Quote(dir + "/full"));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string ckpt = dir + "/full/checkpoint_30s.h5";
  ASSERT_TRUE(fs::exists(ckpt));
  const CliRun resumed = RunFloodwarn("simulate " + Quote(config) + " --quiet --restart " +
                                      Quote(ckpt) + " --output-dir " + Quote(dir + "/resumed"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  for (const char* name : {"max_depth.asc", "max_speed.asc", "arrival_time.asc", "depth_60s.asc",
                           "u_60s.asc", "v_60s.asc", "hazard_rating.asc"}) {
    const std::string a = ReadText(dir + "/full/" + name);
    ASSERT_FALSE(a.empty()) << name;
    EXPECT_TRUE(a == ReadText(dir + "/resumed/" + name)) << name << " differs after restart";
  }
  // Snapshots before the checkpoint are not rewritten by the resumed run.
  EXPECT_FALSE(fs::exists(dir + "/resumed/depth_20s.asc"));
  EXPECT_TRUE(fs::exists(dir + "/resumed/depth_40s.asc"));

  // A checkpoint of another domain (the tidal basin) is refused.
  const std::string other = dir + "/other.toml";
  std::string tb = ReadText(testing::SourceDir() + "/configs/tidal_basin.toml");
  tb =
      std::regex_replace(tb, std::regex("\"data/"), "\"" + testing::SourceDir() + "/configs/data/");
  std::ofstream(other) << tb;
  const CliRun bad = RunFloodwarn("simulate " + Quote(other) + " --quiet --restart " + Quote(ckpt) +
                                  " --output-dir " + Quote(dir + "/bad"));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("another domain"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find(ckpt), std::string::npos) << bad.output;
}

TEST(CliSimulate, HelpAndVersion) {
  const CliRun help = RunFloodwarn("simulate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--threads"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--output-dir"), std::string::npos) << help.output;
  const CliRun version = RunFloodwarn("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("floodwarn "), std::string::npos) << version.output;
}

}  // namespace
}  // namespace floodwarn
