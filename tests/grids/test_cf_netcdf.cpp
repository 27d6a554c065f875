// CF-1.8 NetCDF results writer: read back with the netCDF C API, and checked
// with the real ncdump and gdalinfo (skipped when those tools are absent).
#include <gtest/gtest.h>
#include <netcdf.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/grids/cf_netcdf.hpp"
#include "test_support.hpp"

using floodwarn::grids::CfNetcdfWriter;
using floodwarn::grids::CfPoint;
using floodwarn::grids::CfRunInfo;
using floodwarn::grids::GeoTransform;

namespace {
namespace fs = std::filesystem;

// EPSG:25832 (ETRS89 / UTM zone 32N) as GDAL writes it in WKT1.
const char* kWkt25832 =
    "PROJCS[\"ETRS89 / UTM zone 32N\",GEOGCS[\"ETRS89\",DATUM[\"European_Terrestrial_Reference_"
    "System_1989\",SPHEROID[\"GRS 1980\",6378137,298.257222101,AUTHORITY[\"EPSG\",\"7019\"]],"
    "AUTHORITY[\"EPSG\",\"6258\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],"
    "UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\","
    "\"4258\"]],PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
    "PARAMETER[\"central_meridian\",9],PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_"
    "easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1,AUTHORITY[\"EPSG\","
    "\"9001\"]],AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"25832\"]]";

constexpr int kCols = 7;
constexpr int kRows = 5;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

GeoTransform Grid() {
  GeoTransform gt;
  gt.x_west = 412000.0;
  gt.y_north = 5652000.0;
  gt.cell_width = 10.0;
  gt.cell_height = 20.0;  // not square, so x/y mix-ups show
  return gt;
}

// A field whose value names its cell: frame*1000 + row*10 + col (+ offset).
std::vector<double> Field(int frame, double offset = 0.0) {
  std::vector<double> f(kCols * kRows);
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < kCols; ++c) f[r * kCols + c] = frame * 1000 + r * 10 + c + offset;
  return f;
}

CfRunInfo Info() {
  CfRunInfo info;
  info.title = "unit test run";
  info.source = "floodwarn 0.1.0";
  info.history = "written by test_cf_netcdf";
  info.config_path = "configs/test.toml";
  info.extra_attributes = {{"institution", "floodwarn tests"}};
  return info;
}

std::vector<CfPoint> Points() {
  return {{"gauge_a", 412015.0, 5651990.0}, {"b", 412065.0, 5651910.0}};
}

// Writes the standard small run and returns its path.
std::string WriteRun(const std::string& dir, CfRunInfo info = Info()) {
  const std::string path = dir + "/run.nc";
  CfNetcdfWriter w(path, Grid(), kCols, kRows, kWkt25832, Points(), info);
  for (int f = 0; f < 3; ++f) {
    auto depth = Field(f);
    depth[kCols * kRows - 1] = kNaN;  // south-east cell dry in every frame
    w.AppendFrame(60.0 * (f + 1), depth, Field(f, 0.25), Field(f, 0.5), Field(f, 0.75));
  }
  w.AppendPointSample(10.0, {0.5, 1.5});
  w.AppendPointSample(20.0, {0.75, kNaN});
  auto arrival = Field(0);
  arrival[0] = kNaN;  // north-west cell never wet
  auto max_wse = Field(9);
  max_wse[0] = kNaN;  // never wet: no peak level
  w.WriteSummaryFields({Field(7), Field(8), arrival, max_wse, Field(10)});
  w.Close();
  return path;
}

struct NcFile {
  explicit NcFile(const std::string& path) {
    const int st = nc_open(path.c_str(), NC_NOWRITE, &id);
    if (st != NC_NOERR) throw std::runtime_error(path + ": " + nc_strerror(st));
  }
  ~NcFile() { nc_close(id); }
  std::size_t DimLen(const char* name) const {
    int dim = -1;
    EXPECT_EQ(nc_inq_dimid(id, name, &dim), NC_NOERR) << name;
    std::size_t len = 0;
    EXPECT_EQ(nc_inq_dimlen(id, dim, &len), NC_NOERR) << name;
    return len;
  }
  int Var(const char* name) const {
    int v = -1;
    EXPECT_EQ(nc_inq_varid(id, name, &v), NC_NOERR) << name;
    return v;
  }
  std::string Text(int var, const char* att) const {
    std::size_t len = 0;
    if (nc_inq_attlen(id, var, att, &len) != NC_NOERR) return "<missing>";
    std::string s(len, '\0');
    EXPECT_EQ(nc_get_att_text(id, var, att, s.data()), NC_NOERR);
    return s;
  }
  std::string Text(const char* var, const char* att) const { return Text(Var(var), att); }
  std::vector<float> Floats(const char* var) const {
    const int v = Var(var);
    int ndims = 0;
    nc_inq_varndims(id, v, &ndims);
    std::vector<int> dims(static_cast<std::size_t>(ndims));
    nc_inq_vardimid(id, v, dims.data());
    std::size_t n = 1;
    for (int d : dims) {
      std::size_t len = 0;
      nc_inq_dimlen(id, d, &len);
      n *= len;
    }
    std::vector<float> out(n);
    EXPECT_EQ(nc_get_var_float(id, v, out.data()), NC_NOERR) << var;
    return out;
  }
  std::vector<double> Doubles(const char* var, std::size_t n) const {
    std::vector<double> out(n);
    EXPECT_EQ(nc_get_var_double(id, Var(var), out.data()), NC_NOERR) << var;
    return out;
  }
  int id = -1;
};

bool OnPath(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Output (stdout + stderr) and exit status of a shell command.
std::pair<std::string, int> RunShell(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {"popen failed", -1};
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  return {out, pclose(p)};
}

}  // namespace

TEST(CfNetcdf, DimensionsCoordinatesAndNorthUpValues) {
  const std::string path = WriteRun(floodwarn::testing::MakeTempDir());
  NcFile nc(path);
  EXPECT_EQ(nc.DimLen("time"), 3u);
  EXPECT_EQ(nc.DimLen("y"), static_cast<std::size_t>(kRows));
  EXPECT_EQ(nc.DimLen("x"), static_cast<std::size_t>(kCols));
  EXPECT_EQ(nc.DimLen("point"), 2u);
  EXPECT_EQ(nc.DimLen("point_time"), 2u);
  EXPECT_EQ(nc.DimLen("name_strlen"), 7u);  // "gauge_a"
  int nunlim = 0;
  std::array<int, NC_MAX_DIMS> unlim{};
  ASSERT_EQ(nc_inq_unlimdims(nc.id, &nunlim, unlim.data()), NC_NOERR);
  EXPECT_EQ(nunlim, 2);  // time and point_time

  int fmt = 0;
  ASSERT_EQ(nc_inq_format(nc.id, &fmt), NC_NOERR);
  EXPECT_EQ(fmt, NC_FORMAT_NETCDF4);

  // Cell centres; y descending: index 0 is the northernmost row.
  const auto x = nc.Doubles("x", kCols);
  const auto y = nc.Doubles("y", kRows);
  EXPECT_DOUBLE_EQ(x[0], 412005.0);
  EXPECT_DOUBLE_EQ(x[6], 412065.0);
  EXPECT_DOUBLE_EQ(y[0], 5651990.0);
  EXPECT_DOUBLE_EQ(y[4], 5651910.0);
  const auto t = nc.Doubles("time", 3);
  EXPECT_EQ(t, (std::vector<double>{60.0, 120.0, 180.0}));

  // depth[t][y][x]: element (frame 1, row 0, col 0) is the north-west cell.
  const auto depth = nc.Floats("depth");
  ASSERT_EQ(depth.size(), 3u * kRows * kCols);
  EXPECT_EQ(depth[1 * kRows * kCols + 0], 1000.0f);
  EXPECT_EQ(depth[1 * kRows * kCols + 2 * kCols + 3], 1023.0f);
  EXPECT_TRUE(std::isnan(depth[1 * kRows * kCols + kRows * kCols - 1]));  // NaN = fill
  const auto u = nc.Floats("u");
  const auto v = nc.Floats("v");
  const auto wse = nc.Floats("wse");
  EXPECT_EQ(u[2 * kRows * kCols + 4 * kCols + 6], 2046.25f);
  EXPECT_EQ(v[0], 0.5f);
  EXPECT_EQ(wse[kCols], 10.75f);

  const auto max_depth = nc.Floats("max_depth");
  const auto max_speed = nc.Floats("max_speed");
  const auto arrival = nc.Floats("arrival_time");
  ASSERT_EQ(max_depth.size(), static_cast<std::size_t>(kRows * kCols));
  EXPECT_EQ(max_depth[0], 7000.0f);
  EXPECT_EQ(max_speed[kCols + 1], 8011.0f);
  const auto max_wse = nc.Floats("max_wse");
  const auto bed = nc.Floats("bed");
  ASSERT_EQ(max_wse.size(), static_cast<std::size_t>(kRows * kCols));
  EXPECT_TRUE(std::isnan(max_wse[0]));
  EXPECT_EQ(max_wse[kCols + 1], 9011.0f);
  EXPECT_EQ(bed[kCols + 1], 10011.0f);
  EXPECT_TRUE(std::isnan(arrival[0]));
  EXPECT_EQ(arrival[1], 1.0f);

  // Point series.
  std::vector<char> names(2 * 7);
  ASSERT_EQ(nc_get_var_text(nc.id, nc.Var("point_name"), names.data()), NC_NOERR);
  EXPECT_EQ(std::string(names.data(), 7), "gauge_a");
  EXPECT_EQ(std::string(names.data() + 7), "b");  // NUL-padded
  EXPECT_EQ(nc.Doubles("point_x", 2), (std::vector<double>{412015.0, 412065.0}));
  EXPECT_EQ(nc.Doubles("point_y", 2), (std::vector<double>{5651990.0, 5651910.0}));
  EXPECT_EQ(nc.Doubles("point_time", 2), (std::vector<double>{10.0, 20.0}));
  const auto pd = nc.Floats("point_depth");  // [point_time][point]
  ASSERT_EQ(pd.size(), 4u);
  EXPECT_EQ(pd[0], 0.5f);
  EXPECT_EQ(pd[1], 1.5f);
  EXPECT_EQ(pd[2], 0.75f);
  EXPECT_TRUE(std::isnan(pd[3]));
}

TEST(CfNetcdf, AttributesAndFillValues) {
  const std::string path = WriteRun(floodwarn::testing::MakeTempDir());
  NcFile nc(path);
  EXPECT_EQ(nc.Text(NC_GLOBAL, "Conventions"), "CF-1.8");
  EXPECT_EQ(nc.Text(NC_GLOBAL, "title"), "unit test run");
  EXPECT_EQ(nc.Text(NC_GLOBAL, "source"), "floodwarn 0.1.0");
  EXPECT_EQ(nc.Text(NC_GLOBAL, "history"), "written by test_cf_netcdf");
  EXPECT_EQ(nc.Text(NC_GLOBAL, "floodwarn_config"), "configs/test.toml");
  EXPECT_EQ(nc.Text(NC_GLOBAL, "institution"), "floodwarn tests");

  EXPECT_EQ(nc.Text("x", "standard_name"), "projection_x_coordinate");
  EXPECT_EQ(nc.Text("y", "standard_name"), "projection_y_coordinate");
  EXPECT_EQ(nc.Text("x", "units"), "m");
  EXPECT_EQ(nc.Text("y", "axis"), "Y");
  // No start_time: plain seconds, no invented reference date.
  EXPECT_EQ(nc.Text("time", "units"), "s");
  EXPECT_EQ(nc.Text("time", "long_name"), "time since simulation start");

  for (const char* var :
       {"depth", "u", "v", "wse", "max_depth", "max_speed", "arrival_time", "max_wse", "bed"}) {
    SCOPED_TRACE(var);
    EXPECT_EQ(nc.Text(var, "grid_mapping"), "crs");
    EXPECT_NE(nc.Text(var, "units"), "<missing>");
    EXPECT_NE(nc.Text(var, "long_name"), "<missing>");
    nc_type type = NC_NAT;
    ASSERT_EQ(nc_inq_vartype(nc.id, nc.Var(var), &type), NC_NOERR);
    EXPECT_EQ(type, NC_FLOAT);
    float fill = 0.0f;
    ASSERT_EQ(nc_get_att_float(nc.id, nc.Var(var), "_FillValue", &fill), NC_NOERR);
    EXPECT_TRUE(std::isnan(fill));
  }
  EXPECT_EQ(nc.Text("depth", "units"), "m");
  EXPECT_EQ(nc.Text("u", "units"), "m s-1");
  EXPECT_EQ(nc.Text("arrival_time", "units"), "s");
  EXPECT_EQ(nc.Text("wse", "standard_name"), "water_surface_height_above_reference_datum");

  EXPECT_EQ(nc.Text("crs", "crs_wkt"), kWkt25832);
  EXPECT_EQ(nc.Text("crs", "spatial_ref"), kWkt25832);
  EXPECT_EQ(nc.Text("crs", "grid_mapping_name"), "transverse_mercator");
  EXPECT_EQ(nc.Text("crs", "GeoTransform"), "412000 10 0 5652000 0 -20");
  double cm = 0.0;
  ASSERT_EQ(nc_get_att_double(nc.id, nc.Var("crs"), "longitude_of_central_meridian", &cm),
            NC_NOERR);
  EXPECT_EQ(cm, 9.0);

  // Chunking and compression seen through the API.
  int storage = 0;
  std::array<std::size_t, 3> chunks{};
  ASSERT_EQ(nc_inq_var_chunking(nc.id, nc.Var("depth"), &storage, chunks.data()), NC_NOERR);
  EXPECT_EQ(storage, NC_CHUNKED);
  EXPECT_EQ(chunks, (std::array<std::size_t, 3>{1, kRows, kCols}));
  int shuffle = 0, deflate = 0, level = 0;
  ASSERT_EQ(nc_inq_var_deflate(nc.id, nc.Var("depth"), &shuffle, &deflate, &level), NC_NOERR);
  EXPECT_EQ(shuffle, 1);
  EXPECT_EQ(deflate, 1);
  EXPECT_EQ(level, 4);
}

TEST(CfNetcdf, StartTimeGivesCfTimeUnits) {
  CfRunInfo info = Info();
  info.start_time = "2021-07-14T06:00:00Z";
  const std::string path = WriteRun(floodwarn::testing::MakeTempDir(), info);
  NcFile nc(path);
  EXPECT_EQ(nc.Text("time", "units"), "seconds since 2021-07-14 06:00:00");
  EXPECT_EQ(nc.Text("time", "calendar"), "standard");
  EXPECT_EQ(nc.Text("time", "standard_name"), "time");
  EXPECT_EQ(nc.Text("point_time", "units"), "seconds since 2021-07-14 06:00:00");

  info.start_time = "14.07.2021 06:00";
  EXPECT_THROW(CfNetcdfWriter(floodwarn::testing::MakeTempDir() + "/bad.nc", Grid(), kCols, kRows,
                              kWkt25832, Points(), info),
               std::invalid_argument);
}

TEST(CfNetcdf, NcdumpShowsConventionsUnitsDeflateAndChunks) {
  if (!OnPath("ncdump")) GTEST_SKIP() << "ncdump not on PATH (Debian package netcdf-bin)";
  const std::string path = WriteRun(floodwarn::testing::MakeTempDir());
  const auto [header, rc] = RunShell("ncdump -h '" + path + "'");
  ASSERT_EQ(rc, 0) << header;
  EXPECT_NE(header.find(":Conventions = \"CF-1.8\""), std::string::npos) << header;
  EXPECT_NE(header.find("time = UNLIMITED"), std::string::npos) << header;
  EXPECT_NE(header.find("float depth(time, y, x)"), std::string::npos) << header;
  EXPECT_NE(header.find("depth:units = \"m\""), std::string::npos) << header;
  EXPECT_NE(header.find("u:units = \"m s-1\""), std::string::npos) << header;
  EXPECT_NE(header.find("depth:grid_mapping = \"crs\""), std::string::npos) << header;
  EXPECT_NE(header.find("max_depth:grid_mapping = \"crs\""), std::string::npos) << header;
  EXPECT_NE(header.find("arrival_time:_FillValue = NaNf"), std::string::npos) << header;
  EXPECT_NE(header.find("float point_depth(point_time, point)"), std::string::npos) << header;
  EXPECT_NE(header.find("char point_name(point, name_strlen)"), std::string::npos) << header;

  const auto [special, rc2] = RunShell("ncdump -hs '" + path + "'");
  ASSERT_EQ(rc2, 0) << special;
  EXPECT_NE(special.find("depth:_DeflateLevel = 4"), std::string::npos) << special;
  EXPECT_NE(special.find("depth:_Shuffle = \"true\""), std::string::npos) << special;
  EXPECT_NE(special.find("depth:_ChunkSizes = 1, 5, 7"), std::string::npos) << special;
  EXPECT_NE(special.find("max_depth:_ChunkSizes = 5, 7"), std::string::npos) << special;
  EXPECT_NE(special.find(":_Format = \"netCDF-4\""), std::string::npos) << special;
}

TEST(CfNetcdf, GdalinfoSeesNorthUpGeoreferencing) {
  if (!OnPath("gdalinfo")) GTEST_SKIP() << "gdalinfo not on PATH (Debian package gdal-bin)";
  const std::string path = WriteRun(floodwarn::testing::MakeTempDir());
  const auto [info, rc] = RunShell("gdalinfo 'NETCDF:\"" + path + "\":max_depth'");
  ASSERT_EQ(rc, 0) << info;
  EXPECT_NE(info.find("Size is 7, 5"), std::string::npos) << info;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(Origin = \(([-0-9.e+]+),([-0-9.e+]+)\))")))
      << info;
  EXPECT_DOUBLE_EQ(std::stod(m[1]), 412000.0);
  EXPECT_DOUBLE_EQ(std::stod(m[2]), 5652000.0);
  ASSERT_TRUE(
      std::regex_search(info, m, std::regex(R"(Pixel Size = \(([-0-9.e+]+),([-0-9.e+]+)\))")))
      << info;
  EXPECT_DOUBLE_EQ(std::stod(m[1]), 10.0);
  EXPECT_DOUBLE_EQ(std::stod(m[2]), -20.0);
  EXPECT_NE(info.find("ID[\"EPSG\",25832]"), std::string::npos) << info;

  // GDAL's pixel (0, 0) is the north-west cell (value row*10 + col = 0 + 7000).
  if (OnPath("gdallocationinfo")) {
    const auto [loc, rc2] =
        RunShell("gdallocationinfo -valonly 'NETCDF:\"" + path + "\":max_depth' 0 0");
    ASSERT_EQ(rc2, 0) << loc;
    EXPECT_EQ(std::stod(loc), 7000.0);
    const auto [loc2, rc3] =
        RunShell("gdallocationinfo -valonly 'NETCDF:\"" + path + "\":max_depth' 6 4");
    ASSERT_EQ(rc3, 0) << loc2;
    EXPECT_EQ(std::stod(loc2), 7046.0);
  }
  // Without a CRS (no GeoTransform attribute) GDAL derives the same north-up
  // geotransform from the descending y coordinate alone.
  const std::string plain = floodwarn::testing::MakeTempDir() + "/plain.nc";
  {
    CfNetcdfWriter w(plain, Grid(), kCols, kRows, "", {}, Info());
    w.AppendFrame(1.0, Field(0), Field(0), Field(0), Field(0));
    w.Close();
  }
  const auto [pinfo, rc5] = RunShell("gdalinfo 'NETCDF:\"" + plain + "\":depth'");
  ASSERT_EQ(rc5, 0) << pinfo;
  EXPECT_NE(pinfo.find("Origin = (412000.000000000000000,5652000.000000000000000)"),
            std::string::npos)
      << pinfo;
  EXPECT_NE(pinfo.find("Pixel Size = (10.000000000000000,-20.000000000000000)"), std::string::npos)
      << pinfo;

  // The time series are bands, one per frame.
  const auto [dinfo, rc4] = RunShell("gdalinfo 'NETCDF:\"" + path + "\":depth'");
  ASSERT_EQ(rc4, 0) << dinfo;
  EXPECT_NE(dinfo.find("Band 3 "), std::string::npos) << dinfo;
  EXPECT_EQ(dinfo.find("Band 4 "), std::string::npos) << dinfo;
}

TEST(CfNetcdf, DestructorWithoutCloseLeavesNothing) {
  const std::string dir = floodwarn::testing::MakeTempDir();
  const std::string path = dir + "/run.nc";
  {
    CfNetcdfWriter w(path, Grid(), kCols, kRows, kWkt25832, Points(), Info());
    w.AppendFrame(1.0, Field(0), Field(0), Field(0), Field(0));
    EXPECT_TRUE(fs::exists(path + ".tmp"));
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(CfNetcdf, CloseLeavesOnlyTheFinalFile) {
  const std::string dir = floodwarn::testing::MakeTempDir();
  const std::string path = dir + "/run.nc";
  {
    CfNetcdfWriter w(path, Grid(), kCols, kRows, "", {}, Info(), 0);
    w.AppendFrame(1.0, Field(0), Field(0), Field(0), Field(0));
    w.AppendPointSample(1.0, {});  // no points: nothing to write
    w.Close();
    EXPECT_THROW(w.AppendFrame(2.0, Field(0), Field(0), Field(0), Field(0)), std::logic_error);
    EXPECT_THROW(w.Close(), std::logic_error);
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // Without a CRS and points: no crs variable, no grid_mapping, no point axis.
  NcFile nc(path);
  int var = -1, dim = -1;
  EXPECT_EQ(nc_inq_varid(nc.id, "crs", &var), NC_ENOTVAR);
  EXPECT_EQ(nc.Text("depth", "grid_mapping"), "<missing>");
  EXPECT_EQ(nc_inq_dimid(nc.id, "point", &dim), NC_EBADDIM);
}

TEST(CfNetcdf, UnwritablePathThrowsNamingIt) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/no/such/folder/run.nc";
  try {
    CfNetcdfWriter w(path, Grid(), kCols, kRows, kWkt25832, Points(), Info());
    FAIL() << "no exception for " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(CfNetcdf, RejectsBadShapesAndTimes) {
  const std::string dir = floodwarn::testing::MakeTempDir();
  CfNetcdfWriter w(dir + "/run.nc", Grid(), kCols, kRows, kWkt25832, Points(), Info());
  EXPECT_THROW(w.AppendFrame(1.0, std::vector<double>(3), Field(0), Field(0), Field(0)),
               std::invalid_argument);
  w.AppendFrame(1.0, Field(0), Field(0), Field(0), Field(0));
  EXPECT_THROW(w.AppendFrame(1.0, Field(0), Field(0), Field(0), Field(0)), std::invalid_argument);
  EXPECT_THROW(w.AppendPointSample(1.0, {1.0}), std::invalid_argument);
  EXPECT_THROW(w.AppendFrame(kNaN, Field(0), Field(0), Field(0), Field(0)), std::invalid_argument);
  EXPECT_EQ(w.frames_written(), 1);
  CfRunInfo info = Info();
  info.extra_attributes = {{"Conventions", "CF-1.6"}};
  EXPECT_THROW(CfNetcdfWriter(dir + "/b.nc", Grid(), kCols, kRows, kWkt25832, Points(), info),
               std::invalid_argument);
  EXPECT_THROW(CfNetcdfWriter(dir + "/c.nc", Grid(), 0, kRows, kWkt25832, Points(), Info()),
               std::invalid_argument);
}
