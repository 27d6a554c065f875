// RADOLAN series -> CF-NetCDF rain on a DEM grid (ingest/radar_series.hpp),
// checked against independent computations: the real tools (gdalinfo,
// ncdump) read the georeferencing and the time axis; values at DEM cells
// equal the radar field at the cell's location found with OGR + the DWD
// projection formulas; a scenario run on the file takes in exactly the rain
// the file holds.
#include <gtest/gtest.h>
#include <netcdf.h>
#include <ogr_spatialref.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/ingest/csv.hpp"
#include "floodwarn/ingest/radar_series.hpp"
#include "floodwarn/ingest/radolan.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/real.hpp"
#include "test_support.hpp"

namespace {

namespace fi = floodwarn::ingest;
namespace grids = floodwarn::grids;
namespace fs = std::filesystem;

constexpr const char* kSample = "reference/raa01-rw_10000-1408030950-dwd---bin.gz";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A copy of the sample (uncompressed) with its header rewritten: interval end
// "DDhhmm" (the sample is 030950 = 3 Aug 2014 09:50 UTC), and optionally the
// product and INT field (same widths) and the rain values divided by
// `divisor` (flag bits kept), so that the frames differ. `pattern`: every
// cell with data gets a non-zero value varying from cell to cell instead.
std::string Variant(const std::string& sample, const std::string& ddhhmm,
                    const std::string& product = "RW", const std::string& int_field = "INT  60",
                    int divisor = 1, bool pattern = false) {
  std::string raw = fi::Gunzip(ReadBytes(sample), sample);
  const std::size_t etx = raw.find('\x03');
  raw.replace(0, 2, product);
  raw.replace(2, 6, ddhhmm);
  const std::size_t in = raw.find("INT  60");
  raw.replace(in, 7, int_field);
  for (std::size_t k = etx + 1; k + 1 < raw.size(); k += 2) {
    unsigned v = static_cast<unsigned char>(raw[k]) | (static_cast<unsigned char>(raw[k + 1]) << 8);
    v = (v & 0xF000u) | ((v & 0x0FFFu) / static_cast<unsigned>(divisor));
    if (pattern && (v & 0x2000u) == 0) v = (v & 0xF000u) | (10u + (k / 2) % 97u);
    raw[k] = static_cast<char>(v & 0xFF);
    raw[k + 1] = static_cast<char>(v >> 8);
  }
  return raw;
}

std::string UtmWkt() {
  OGRSpatialReference utm;
  utm.importFromEPSG(25832);
  char* wkt = nullptr;
  utm.exportToWkt(&wkt);
  std::string s = wkt;
  CPLFree(wkt);
  return s;
}

// UTM 32N (m) -> lon/lat (degrees), through OGR/PROJ.
std::pair<double, double> UtmToLonLat(double x, double y) {
  OGRSpatialReference utm, wgs;
  utm.importFromEPSG(25832);
  wgs.importFromEPSG(4326);
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs));
  EXPECT_TRUE(ct->Transform(1, &x, &y));
  return {x, y};
}

// A 40 x 40 DEM of 500 m cells in ETRS89 / UTM 32N over the storm of the
// sample (its 42.1 mm/h maximum lies near 11.17 E, 50.90 N, i.e. x = 652445,
// y = 5640888), sloping gently; a 3 x 3 block of nodata in the north-west
// corner (cells outside the model).
constexpr int kN = 40;
grids::RasterD StormDem(double x_west = 642500, double y_north = 5651000) {
  grids::GeoTransform gt{x_west, y_north, 500.0, 500.0};
  grids::RasterD dem(kN, kN, gt);
  for (int r = 0; r < kN; ++r)
    for (int c = 0; c < kN; ++c) dem(c, r) = 300.0 - 0.5 * c - 0.2 * r;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) dem(c, r) = -9999.0;
  dem.set_nodata(-9999.0);
  dem.set_crs_wkt(UtmWkt());
  return dem;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = pclose(p);
  if (rc != 0) out += "\n[exit status " + std::to_string(rc) + "]";
  return out;
}

void RequireTool(const char* tool) {
  ASSERT_EQ(Shell(std::string("command -v ") + tool + " >/dev/null && echo found"), "found\n")
      << tool << " is missing: a broken install (scripts/setup installs it)";
}

// The variable `name` (time, y, x) read back with netCDF-C, plus its times.
struct NcSeries {
  std::vector<double> time;
  std::vector<float> values;  // [t][row][col]
  int rows = 0, cols = 0;
};
NcSeries ReadNc(const std::string& path, const char* name) {
  NcSeries s;
  int nc = -1, var = -1, tvar = -1, dim = -1;
  EXPECT_EQ(nc_open(path.c_str(), NC_NOWRITE, &nc), NC_NOERR) << path;
  std::size_t nt = 0, ny = 0, nx = 0;
  nc_inq_dimid(nc, "time", &dim);
  nc_inq_dimlen(nc, dim, &nt);
  nc_inq_dimid(nc, "y", &dim);
  nc_inq_dimlen(nc, dim, &ny);
  nc_inq_dimid(nc, "x", &dim);
  nc_inq_dimlen(nc, dim, &nx);
  s.rows = static_cast<int>(ny);
  s.cols = static_cast<int>(nx);
  s.time.resize(nt);
  s.values.resize(nt * ny * nx);
  EXPECT_EQ(nc_inq_varid(nc, "time", &tvar), NC_NOERR);
  EXPECT_EQ(nc_get_var_double(nc, tvar, s.time.data()), NC_NOERR);
  EXPECT_EQ(nc_inq_varid(nc, name, &var), NC_NOERR) << name;
  EXPECT_EQ(nc_get_var_float(nc, var, s.values.data()), NC_NOERR);
  nc_close(nc);
  return s;
}

// Bilinear value of the composite at lon/lat, computed with the DWD format
// description's projection (RadolanProject) and the composite's own grid:
// the fractional position relative to the cell centres, the four
// surrounding centres weighted as GDAL's bilinear kernel does.
double RadarAt(const fi::RadolanComposite& c, double lon, double lat) {
  const auto [xk, yk] = fi::RadolanProject(lon, lat);
  const auto& gt = c.rain_rate.geo();
  const double px = (xk * 1000.0 - gt.x_west) / gt.cell_width - 0.5;
  const double py = (gt.y_north - yk * 1000.0) / gt.cell_height - 0.5;
  const int i = static_cast<int>(std::floor(px)), j = static_cast<int>(std::floor(py));
  const double fx = px - i, fy = py - j;
  return (1 - fx) * (1 - fy) * c.rain_rate(i, j) + fx * (1 - fy) * c.rain_rate(i + 1, j) +
         (1 - fx) * fy * c.rain_rate(i, j + 1) + fx * fy * c.rain_rate(i + 1, j + 1);
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const fi::RadarSeriesError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected exception type: ") + e.what();
  }
  return "no error";
}

class RadarSeries : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = floodwarn::testing::SharedFile(kSample);
    if (!p) GTEST_SKIP() << "shared data missing: ../shared/" << kSample;
    sample_ = *p;
    dir_ = floodwarn::testing::MakeTempDir("floodwarn_radar");
    second_ = dir_ + "/raa01-rw_10000-1408031050-dwd---bin";
    WriteBytes(second_, Variant(sample_, "031050", "RW", "INT  60", 2));
    dem_path_ = dir_ + "/dem.tif";
    grids::WriteGeoTiff(dem_path_, StormDem());
    dem_ = grids::ReadRaster(dem_path_);
  }
  std::string sample_, second_, dir_, dem_path_;
  grids::RasterD dem_;
};

// Where the sample's storm is (for choosing the DEM above).
TEST_F(RadarSeries, SampleMaximumLocation) {
  const fi::RadolanComposite c = fi::ReadRadolanFile(sample_);
  int bc = -1, br = -1;
  double best = -1.0;
  for (int r = 0; r < c.rain_rate.rows(); ++r)
    for (int col = 0; col < c.rain_rate.cols(); ++col)
      if (!c.rain_rate.IsNodata(col, r) && c.rain_rate(col, r) > best)
        best = c.rain_rate(col, r), bc = col, br = r;
  ASSERT_GE(bc, 0);
  const auto& gt = c.rain_rate.geo();
  const auto [lon, lat] =
      fi::RadolanUnproject(gt.CellCenterX(bc) / 1000, gt.CellCenterY(br) / 1000);
  std::printf("max %.1f mm/h at column %d, row %d: lon %.4f, lat %.4f\n", c.rain_rate(bc, br), bc,
              br, lon, lat);
  EXPECT_NEAR(c.rain_rate(bc, br), 42.1, 1e-9);
  EXPECT_NEAR(lon, 11.168, 0.01);
  EXPECT_NEAR(lat, 50.900, 0.01);
}

// (a) + (b): the tools see the CRS and the time axis; the values are the
// radar field at each cell's location.
TEST_F(RadarSeries, ConvertsOntoTheUtmDem) {
  RequireTool("gdalinfo");
  RequireTool("ncdump");
  const std::string out = dir_ + "/rain.nc";
  // Given out of order: sorted by header time.
  const fi::RadarSeriesResult res =
      fi::ConvertRadolanSeries({second_, sample_}, dem_, dem_path_, out);
  ASSERT_EQ(res.frames.size(), 2u);
  EXPECT_EQ(res.frames[0].path, sample_);
  EXPECT_EQ(res.frames[1].path, second_);
  EXPECT_EQ(fi::FormatIsoTime(res.start), "2014-08-03T08:50:00Z");
  EXPECT_EQ(res.Times(), (std::vector<double>{3600.0, 7200.0}));
  EXPECT_EQ(res.active_cells, static_cast<std::size_t>(kN * kN - 9));
  EXPECT_EQ(res.nodata_cells_total, 0u);
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  const std::string h = Shell("ncdump -h " + out);
  EXPECT_NE(h.find("float precipitation_amount(time, y, x)"), std::string::npos) << h;
  EXPECT_NE(h.find("time:units = \"seconds since 2014-08-03 08:50:00\""), std::string::npos) << h;
  EXPECT_NE(h.find("time:bounds = \"time_bnds\""), std::string::npos) << h;
  EXPECT_NE(h.find("precipitation_amount:units = \"mm\""), std::string::npos) << h;
  EXPECT_NE(h.find("precipitation_amount:cell_methods = \"time: sum\""), std::string::npos) << h;
  EXPECT_NE(h.find("precipitation_amount:grid_mapping = \"crs\""), std::string::npos) << h;
  EXPECT_NE(h.find("crs:crs_wkt = \"PROJCRS[\\\"ETRS89 / UTM zone 32N"), std::string::npos) << h;
  // CF parameters for tools without a WKT parser: UTM 32N = TM at 9 E, k0 0.9996.
  EXPECT_NE(h.find("crs:grid_mapping_name = \"transverse_mercator\""), std::string::npos) << h;
  EXPECT_NE(h.find("crs:longitude_of_central_meridian = 9. ;"), std::string::npos) << h;
  EXPECT_NE(h.find("crs:scale_factor_at_central_meridian = 0.9996 ;"), std::string::npos) << h;
  EXPECT_NE(h.find("crs:false_easting = 500000. ;"), std::string::npos) << h;
  EXPECT_NE(h.find(":Conventions = \"CF-1.8\""), std::string::npos) << h;
  EXPECT_NE(h.find(":floodwarn_radar_nodata_share_max = 0."), std::string::npos) << h;
  EXPECT_NE(h.find("Quelle: Deutscher Wetterdienst"), std::string::npos) << h;
  const std::string t = Shell("ncdump -v time,time_bnds " + out);
  EXPECT_NE(t.find("time = 3600, 7200 ;"), std::string::npos) << t;
  EXPECT_NE(t.find("0, 3600,\n  3600, 7200 ;"), std::string::npos) << t;

  const std::string g = Shell("gdalinfo 'NETCDF:\"" + out + "\":precipitation_amount'");
  EXPECT_NE(g.find("UTM zone 32N"), std::string::npos) << g;
  EXPECT_NE(g.find("Size is 40, 40"), std::string::npos) << g;
  EXPECT_NE(g.find("Origin = (642500.000000000000000,5651000.000000000000000)"), std::string::npos)
      << g;
  EXPECT_NE(g.find("Pixel Size = (500.000000000000000,-500.000000000000000)"), std::string::npos)
      << g;
  EXPECT_NE(g.find("Band 2"), std::string::npos) << g;
  EXPECT_EQ(g.find("Band 3"), std::string::npos) << g;
  EXPECT_NE(g.find("NETCDF_DIM_time=7200"), std::string::npos) << g;
  // GDAL reads it back on exactly the DEM's grid and CRS (so the scenario
  // uses it without resampling again).
  const grids::RasterD band2 = grids::ReadRaster("NETCDF:\"" + out + "\":precipitation_amount", 2);
  EXPECT_TRUE(band2.geo().SameGrid(dem_.geo()));
  EXPECT_TRUE(grids::SameCrs(band2.crs_wkt(), dem_.crs_wkt()));

  // (b) Values against the radar field at each cell centre, located
  // independently: UTM -> lon/lat with OGR, lon/lat -> RADOLAN km with the
  // DWD formulas, then bilinear between the four RADOLAN cell centres.
  // Tolerance 1e-4 mm: float storage (7 digits, < 5e-6 mm at 42 mm) plus PROJ
  // vs the sphere formulas (sub-millimetre positions, times a gradient below
  // 30 mm per 1 km cell); measured: below 2e-6 mm.
  const NcSeries s = ReadNc(out, fi::kRadarVariable);
  ASSERT_EQ(s.time, (std::vector<double>{3600.0, 7200.0}));
  const fi::RadolanComposite c1 = fi::ReadRadolanFile(sample_);
  const fi::RadolanComposite c2 = fi::ReadRadolanFile(second_);
  int compared = 0;
  double max_diff = 0.0, max_value = 0.0;
  for (int r = 3; r < kN; r += 4) {
    for (int c = 1; c < kN; c += 4) {
      const auto [lon, lat] = UtmToLonLat(dem_.geo().CellCenterX(c), dem_.geo().CellCenterY(r));
      for (int f = 0; f < 2; ++f) {
        const double expect = RadarAt(f == 0 ? c1 : c2, lon, lat);  // mm/h over 1 h = mm
        const double got = s.values[(static_cast<std::size_t>(f) * kN + r) * kN + c];
        ASSERT_TRUE(std::isfinite(expect)) << c << "," << r;
        EXPECT_NEAR(got, expect, 1e-4) << "frame " << f << " cell " << c << "," << r;
        max_diff = std::max(max_diff, std::abs(got - expect));
        max_value = std::max(max_value, expect);
        ++compared;
      }
    }
  }
  std::printf("compared %d cell values (max %.2f mm): largest difference %.2e mm\n", compared,
              max_value, max_diff);
  EXPECT_GT(max_value, 20.0);  // the DEM really lies under the storm
  // Outside the model (DEM nodata) the radar values are kept as well.
  EXPECT_TRUE(std::isfinite(s.values[0]));
}

// (c) A scenario with the file as [rain] grid: the solver's rain_in equals
// the time integral of the frames over the active cells, computed here from
// the values read back with netCDF-C.
TEST_F(RadarSeries, ScenarioTakesInTheConvertedRain) {
  const std::string out = dir_ + "/rain.nc";
  const fi::RadarSeriesResult res =
      fi::ConvertRadolanSeries({sample_, second_}, dem_, dem_path_, out);
  std::ofstream(dir_ + "/case.toml") << "[domain]\ndem = \"dem.tif\"\nmanning = 0.05\n"
                                     << "[time]\nend = 7200.0\noutput_interval = 3600.0\n"
                                     << "[output]\ndir = \"out\"\n"
                                     << res.RainToml("rain.nc");
  floodwarn::scenario::ScenarioConfig cfg = floodwarn::scenario::LoadScenario(dir_ + "/case.toml");
  const floodwarn::scenario::RunResult run = floodwarn::scenario::RunScenario(cfg);
  ASSERT_TRUE(run.ok) << run.error;

  const NcSeries s = ReadNc(out, fi::kRadarVariable);
  double expected = 0.0;  // m3
  for (std::size_t f = 0; f < s.time.size(); ++f)
    for (int r = 0; r < kN; ++r)
      for (int c = 0; c < kN; ++c)
        if (!dem_.IsNodata(c, r))
          expected += static_cast<double>(s.values[(f * kN + r) * kN + c]) * 1e-3 * 500.0 * 500.0;
  const double tol = std::is_same_v<floodwarn::solver::Real, double> ? 1e-9 : 1e-6;
  std::printf("rain_in %.6f m3, expected %.6f m3\n", run.mass_balance.rain_in, expected);
  EXPECT_GT(expected, 1e6);  // about 10 mm over 400 km2
  EXPECT_NEAR(run.mass_balance.rain_in, expected, tol * expected);
  EXPECT_NEAR(run.sim_time, 7200.0, 1e-9);
}

// --start: composites ending at or before it are skipped; a start inside an
// interval or before the first one is refused.
TEST_F(RadarSeries, StartTime) {
  const std::string out = dir_ + "/rain.nc";
  fi::RadarSeriesOptions opt;
  opt.start = fi::ParseIsoTime("2014-08-03T09:50:00Z");
  const auto res = fi::ConvertRadolanSeries({sample_, second_}, dem_, dem_path_, out, opt);
  ASSERT_EQ(res.frames.size(), 1u);
  EXPECT_EQ(res.frames[0].path, second_);
  EXPECT_EQ(res.Times(), std::vector<double>{3600.0});
  EXPECT_EQ(res.skipped, std::vector<std::string>{sample_});
  EXPECT_NE(Shell("ncdump -h " + out).find("seconds since 2014-08-03 09:50:00"), std::string::npos);

  opt.start = fi::ParseIsoTime("2014-08-03T09:20:00Z");
  std::string e = ErrorOf([&] {
    fi::ConvertRadolanSeries({sample_, second_}, dem_, dem_path_, out, opt);
  });
  EXPECT_NE(e.find("falls inside the interval of " + sample_), std::string::npos) << e;
  EXPECT_NE(e.find("e.g. 2014-08-03T08:50:00Z or 2014-08-03T09:50:00Z"), std::string::npos) << e;
  opt.start = fi::ParseIsoTime("2014-08-03T07:50:00Z");
  e = ErrorOf([&] { fi::ConvertRadolanSeries({sample_, second_}, dem_, dem_path_, out, opt); });
  EXPECT_NE(e.find("before the first composite's interval"), std::string::npos) << e;
  EXPECT_NE(e.find(sample_), std::string::npos) << e;
}

// (d) Bad input: clear errors naming the file; nothing is left behind.
TEST_F(RadarSeries, BadInputIsAClearError) {
  const std::string out = dir_ + "/bad.nc";
  auto convert = [&](std::vector<std::string> files, const grids::RasterD& dem,
                     fi::RadarSeriesOptions opt = {}) {
    return ErrorOf([&] { fi::ConvertRadolanSeries(files, dem, "dem.tif", out, opt); });
  };
  const std::string yw = dir_ + "/yw_1050";
  WriteBytes(yw, Variant(sample_, "031050", "YW"));
  std::string e = convert({sample_, yw}, dem_);
  EXPECT_NE(e.find(yw + ": product YW, but " + sample_ + " is product RW"), std::string::npos) << e;

  const std::string int5 = dir_ + "/rw_int5";
  WriteBytes(int5, Variant(sample_, "031050", "RW", "INT   5"));
  e = convert({sample_, int5}, dem_);
  EXPECT_NE(e.find(int5 + ": interval 5 min, but " + sample_ + " has 60 min"), std::string::npos)
      << e;

  const std::string later = dir_ + "/rw_1150";
  WriteBytes(later, Variant(sample_, "031150"));
  e = convert({later, sample_}, dem_);
  EXPECT_NE(e.find(later + " ends at 2014-08-03T11:50:00Z, 120 min after " + sample_),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;

  e = convert({sample_, sample_}, dem_);
  EXPECT_NE(e.find("are both for the interval ending 2014-08-03T09:50:00Z"), std::string::npos)
      << e;

  const std::string text = dir_ + "/notes.txt";
  WriteBytes(text, "not a radar file\n");
  e = convert({sample_, text}, dem_);
  EXPECT_NE(e.find(text), std::string::npos) << e;
  e = convert({dir_ + "/missing.gz"}, dem_);
  EXPECT_NE(e.find(dir_ + "/missing.gz"), std::string::npos) << e;

  // A DEM in the Mediterranean (UTM 32N, 40.6 N): outside the RADOLAN grid.
  e = convert({sample_}, StormDem(500000, 4500000));
  EXPECT_NE(e.find("dem.tif: 1591 of 1591 active DEM cells lie outside the RADOLAN RW grid of " +
                   sample_),
            std::string::npos)
      << e;

  // An output folder that does not exist: named, and a RadarSeriesError.
  e = ErrorOf([&] { fi::ConvertRadolanSeries({sample_}, dem_, "dem.tif", dir_ + "/no/such.nc"); });
  EXPECT_NE(e.find(dir_ + "/no/such.nc"), std::string::npos) << e;
  EXPECT_EQ(e.find("unexpected exception type"), std::string::npos) << e;

  grids::RasterD no_crs = dem_;
  no_crs.set_crs_wkt("");
  e = convert({sample_}, no_crs);
  EXPECT_NE(e.find("dem.tif: the DEM has no CRS"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

// No-data policy: a DEM inside the RADOLAN grid but beyond the radars' reach
// (North Sea, north-west corner of the grid) is refused by default, naming
// the file and the share; allowed explicitly, the cells become 0 mm and the
// share is recorded per frame and in the file.
TEST_F(RadarSeries, MissingRadarIsNotSilentlyNoRain) {
  const std::string out = dir_ + "/sea.nc";
  const grids::RasterD sea = StormDem(100000, 6050000);  // about 3.8 E, 54.5 N
  std::string e = ErrorOf([&] {
    fi::ConvertRadolanSeries({sample_, second_}, sea, "sea.tif", out);
  });
  EXPECT_NE(e.find(sample_ + ": 1591 of 1591 active DEM cells (100.00 %) have no radar data"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("at most 1.00 %"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  fi::RadarSeriesOptions opt;
  opt.max_nodata_share = 1.0;
  const auto res = fi::ConvertRadolanSeries({sample_, second_}, sea, "sea.tif", out, opt);
  EXPECT_EQ(res.nodata_cells_total, 2u * 1591u);
  EXPECT_DOUBLE_EQ(res.nodata_share_max, 1.0);
  const NcSeries s = ReadNc(out, fi::kRadarVariable);
  EXPECT_EQ(s.values[(0 * kN + 10) * kN + 10], 0.0f);  // active: set to 0 mm
  EXPECT_TRUE(std::isnan(s.values[0]));                // DEM nodata: left without a value
  const std::string h = Shell("ncdump -v radar_nodata_share " + out);
  EXPECT_NE(h.find(":floodwarn_radar_nodata_share_max = 1."), std::string::npos) << h;
  EXPECT_NE(h.find("radar_nodata_share = 1, 1 ;"), std::string::npos) << h;
}

// At the edge of the radar coverage (North Sea, about 5.4 E, 54.3 N): a DEM
// cell whose centre lies in a radar cell without data gets no radar value
// (0 mm, counted), as GDAL's warper does not spread data into no-data areas;
// any other cell gets the bilinear mean of the valid radar cells among its
// four neighbours (weights renormalised). Checked cell by cell against the
// independent location (OGR + DWD formulas).
TEST_F(RadarSeries, CoverageEdgeUsesTheValidNeighbours) {
  const std::string out = dir_ + "/edge.nc";
  const grids::RasterD edge = StormDem(257500, 6033000);
  fi::RadarSeriesOptions opt;
  opt.max_nodata_share = 1.0;
  // The sample with a non-zero value in every cell that has data (the sea
  // was dry that hour), so that interpolation from partial neighbourhoods shows.
  const std::string wet = dir_ + "/wet";
  WriteBytes(wet, Variant(sample_, "030950", "RW", "INT  60", 1, true));
  const auto res = fi::ConvertRadolanSeries({wet}, edge, "edge.tif", out, opt);
  const fi::RadolanComposite comp = fi::ReadRadolanFile(wet);
  const NcSeries s = ReadNc(out, fi::kRadarVariable);
  const auto& gt = comp.rain_rate.geo();
  std::size_t expected_nodata = 0, partial = 0, partial_wet = 0, ambiguous = 0;
  for (int r = 0; r < kN; ++r) {
    for (int c = 0; c < kN; ++c) {
      if (edge.IsNodata(c, r)) continue;
      const auto [lon, lat] = UtmToLonLat(edge.geo().CellCenterX(c), edge.geo().CellCenterY(r));
      const auto [xk, yk] = fi::RadolanProject(lon, lat);
      const double px = (xk * 1000.0 - gt.x_west) / gt.cell_width - 0.5;
      const double py = (gt.y_north - yk * 1000.0) / gt.cell_height - 0.5;
      const int i = static_cast<int>(std::floor(px)), j = static_cast<int>(std::floor(py));
      const double fx = px - i, fy = py - j;
      const double w[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
      const int di[4] = {0, 1, 0, 1}, dj[4] = {0, 0, 1, 1};
      double wsum = 0, vsum = 0;
      int valid = 0;
      for (int k = 0; k < 4; ++k) {
        if (comp.rain_rate.IsNodata(i + di[k], j + dj[k])) continue;
        wsum += w[k];
        vsum += w[k] * comp.rain_rate(i + di[k], j + dj[k]);
        ++valid;
      }
      const float got = s.values[static_cast<std::size_t>(r) * kN + c];
      // The radar cell containing the DEM cell's centre.
      const double ci = std::floor(px + 0.5), cj = std::floor(py + 0.5);
      const double edge_dist = std::min(std::abs(px + 0.5 - std::round(px + 0.5)),
                                        std::abs(py + 0.5 - std::round(py + 0.5)));
      if (edge_dist < 1e-3) {
        ++ambiguous;  // centre on a radar cell edge: PROJ vs the formulas decide
      } else if (comp.rain_rate.IsNodata(static_cast<int>(ci), static_cast<int>(cj))) {
        ++expected_nodata;
        EXPECT_EQ(got, 0.0f) << c << "," << r;
      } else {
        ASSERT_GT(valid, 0);
        partial += valid < 4 ? 1 : 0;
        partial_wet += valid < 4 && vsum > 0 ? 1 : 0;
        EXPECT_NEAR(got, vsum / wsum, 1e-4) << c << "," << r << " (" << valid << " valid)";
      }
    }
  }
  std::printf(
      "edge DEM: %zu cells without radar, %zu from partial neighbourhoods (%zu wet), %zu "
      "ambiguous\n",
      expected_nodata, partial, partial_wet, ambiguous);
  ASSERT_EQ(res.frames.size(), 1u);
  EXPECT_GT(expected_nodata, 100u);
  EXPECT_GT(partial, 10u);  // cells next to the edge, interpolated from fewer than 4
  EXPECT_EQ(partial_wet, partial);
  EXPECT_GE(res.frames[0].nodata_cells, expected_nodata);
  EXPECT_LE(res.frames[0].nodata_cells, expected_nodata + ambiguous);
  EXPECT_LT(res.frames[0].nodata_cells, res.active_cells);
  EXPECT_DOUBLE_EQ(res.frames[0].nodata_share,
                   static_cast<double>(res.frames[0].nodata_cells) / res.active_cells);
}

}  // namespace
