// grids::CfSeriesWriter, the (time, y, x) series writer behind the radar
// conversion: values, times, bounds and per-frame scalars read back with
// netCDF-C and GDAL; bad calls are errors naming the file; a writer that is
// not closed leaves no file behind.
#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/grids/cf_series_netcdf.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "test_support.hpp"

namespace {

namespace grids = floodwarn::grids;
namespace fs = std::filesystem;

grids::CfSeriesVariable Field() {
  grids::CfSeriesVariable v;
  v.name = "amount";
  v.units = "mm";
  v.cell_methods = "time: sum";
  return v;
}

grids::CfSeriesInfo Info() {
  grids::CfSeriesInfo info;
  info.start_time = "2024-06-01T12:00:00Z";
  info.time_bounds = true;
  grids::CfSeriesVariable q;
  q.name = "quality";
  q.units = "1";
  info.frame_scalars = {q};
  return info;
}

const grids::GeoTransform kGt{300000.0, 5600000.0, 100.0, 50.0};  // 3 cols x 2 rows

TEST(CfSeriesWriter, WritesFramesTimesBoundsAndScalars) {
  const std::string path = floodwarn::testing::MakeTempDir("floodwarn_series") + "/s.nc";
  {
    grids::CfSeriesWriter w(path, kGt, 3, 2, "EPSG:25832", Field(), Info());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    w.AppendFrame(300.0, {1, 2, 3, 4, 5, nan}, {0.5}, 0.0);
    w.AppendFrame(600.0, {10, 20, 30, 40, 50, 60}, {0.25}, 300.0);
    w.SetGlobalAttribute("summary", 0.75);
    EXPECT_FALSE(fs::exists(path));  // only the temporary file until Close
    w.Close();
    EXPECT_EQ(w.frames_written(), 2);
    EXPECT_THROW(w.AppendFrame(900.0, std::vector<double>(6, 0.0), {0.0}, 600.0), std::logic_error);
  }
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  int nc = -1, var = -1;
  ASSERT_EQ(nc_open(path.c_str(), NC_NOWRITE, &nc), NC_NOERR);
  std::vector<float> v(12);
  ASSERT_EQ(nc_inq_varid(nc, "amount", &var), NC_NOERR);
  ASSERT_EQ(nc_get_var_float(nc, var, v.data()), NC_NOERR);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_EQ(v[11], 60.0f);
  std::vector<double> b(4), q(2), y(2);
  ASSERT_EQ(nc_inq_varid(nc, "time_bnds", &var), NC_NOERR);
  ASSERT_EQ(nc_get_var_double(nc, var, b.data()), NC_NOERR);
  EXPECT_EQ(b, (std::vector<double>{0, 300, 300, 600}));
  ASSERT_EQ(nc_inq_varid(nc, "quality", &var), NC_NOERR);
  ASSERT_EQ(nc_get_var_double(nc, var, q.data()), NC_NOERR);
  EXPECT_EQ(q, (std::vector<double>{0.5, 0.25}));
  ASSERT_EQ(nc_inq_varid(nc, "y", &var), NC_NOERR);
  ASSERT_EQ(nc_get_var_double(nc, var, y.data()), NC_NOERR);
  EXPECT_EQ(y, (std::vector<double>{5599975.0, 5599925.0}));  // cell centres, north first
  double summary = 0;
  ASSERT_EQ(nc_get_att_double(nc, NC_GLOBAL, "summary", &summary), NC_NOERR);
  EXPECT_EQ(summary, 0.75);
  nc_close(nc);
  // GDAL: band 2 = second frame, on the same grid, CRS given as EPSG code.
  const grids::RasterD r = grids::ReadRaster("NETCDF:\"" + path + "\":amount", 2);
  EXPECT_TRUE(r.geo().SameGrid(kGt));
  EXPECT_TRUE(grids::SameCrs(r.crs_wkt(), "EPSG:25832"));
  EXPECT_EQ(r(2, 1), 60.0);
}

TEST(CfSeriesWriter, BadCallsAreErrorsAndUnclosedWritersLeaveNothing) {
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_series_bad");
  const std::string path = dir + "/s.nc";
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  };
  grids::CfSeriesInfo no_start = Info();
  no_start.start_time = "";
  std::string e = message([&] { grids::CfSeriesWriter(path, kGt, 3, 2, "", Field(), no_start); });
  EXPECT_NE(e.find(path + ": CF-NetCDF series: start_time ''"), std::string::npos) << e;
  e = message([&] { grids::CfSeriesWriter(path, kGt, 3, 2, "not a crs", Field(), Info()); });
  EXPECT_NE(e.find("CRS 'not a crs' is not a CRS"), std::string::npos) << e;
  grids::CfSeriesVariable clash = Field();
  clash.name = "time";
  e = message([&] { grids::CfSeriesWriter(path, kGt, 3, 2, "", clash, Info()); });
  EXPECT_NE(e.find("'time' is empty or reserved"), std::string::npos) << e;
  {
    grids::CfSeriesWriter w(path, kGt, 3, 2, "", Field(), Info());
    w.AppendFrame(300.0, std::vector<double>(6, 1.0), {0.0}, 0.0);
    e = message([&] { w.AppendFrame(300.0, std::vector<double>(6, 1.0), {0.0}, 0.0); });
    EXPECT_NE(e.find("frame time 300 s must be finite and after the previous one"),
              std::string::npos)
        << e;
    e = message([&] { w.AppendFrame(600.0, std::vector<double>(5, 1.0), {0.0}, 300.0); });
    EXPECT_NE(e.find("frame has 5 values, expected cols*rows = 3*2 = 6"), std::string::npos) << e;
    e = message([&] { w.AppendFrame(600.0, std::vector<double>(6, 1.0), {}, 300.0); });
    EXPECT_NE(e.find("frame has 0 scalar values, expected 1"), std::string::npos) << e;
    e = message([&] { w.AppendFrame(600.0, std::vector<double>(6, 1.0), {0.0}, 600.0); });
    EXPECT_NE(e.find("interval start 600 s must be finite and before the frame time"),
              std::string::npos)
        << e;
    EXPECT_TRUE(fs::exists(path + ".tmp"));
  }  // not closed: an aborted conversion
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

}  // namespace
