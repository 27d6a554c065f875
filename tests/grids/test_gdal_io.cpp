// GDAL raster I/O and resampling, checked with real files and the real GDAL
// command-line tools (gdalinfo, gdal_translate).
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/grids/raster.hpp"
#include "test_support.hpp"

using floodwarn::grids::GeoTransform;
using floodwarn::grids::RasterD;
using floodwarn::grids::RasterError;
using floodwarn::grids::ReadAsciiGrid;
using floodwarn::grids::ReadRaster;
using floodwarn::grids::Resample;
using floodwarn::grids::ResampleTo;
using floodwarn::grids::SameCrs;
using floodwarn::grids::WriteGeoTiff;

namespace {

std::string EpsgWkt(int epsg, const char* format = "WKT2_2019") {
  OGRSpatialReference srs;
  EXPECT_EQ(srs.importFromEPSG(epsg), OGRERR_NONE);
  const std::string fmt_opt = std::string("FORMAT=") + format;
  const char* const options[] = {fmt_opt.c_str(), nullptr};
  char* wkt = nullptr;
  EXPECT_EQ(srs.exportToWkt(&wkt, options), OGRERR_NONE);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  return out;
}

bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its stdout and sets `status` to its exit status.
std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = pclose(pipe);
  return out;
}

std::string StripSpace(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out += c;
  return out;
}

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

// A 37 x 23 raster in EPSG:25832 with irrational values, non-square cells, a
// nodata sentinel and a NaN cell: every part of it must survive a round trip.
RasterD SampleRaster() {
  RasterD r(37, 23, GeoTransform{500000.5, 5700000.25, 2.5, 2.0});
  for (int row = 0; row < r.rows(); ++row)
    for (int col = 0; col < r.cols(); ++col)
      r(col, row) = 100.0 + std::sqrt(2.0) * col - std::cbrt(3.0) * row + 1e-11 * col * row;
  r.set_nodata(-9999.0);
  r(3, 4) = -9999.0;
  r(36, 22) = -9999.0;
  r.set_crs_wkt(EpsgWkt(25832));
  return r;
}

// Same bits, NaN equal to NaN.
void ExpectSameValues(const RasterD& a, const RasterD& b) {
  ASSERT_EQ(a.cols(), b.cols());
  ASSERT_EQ(a.rows(), b.rows());
  for (int row = 0; row < a.rows(); ++row)
    for (int col = 0; col < a.cols(); ++col) {
      if (std::isnan(a(col, row))) {
        EXPECT_TRUE(std::isnan(b(col, row))) << "col " << col << " row " << row;
      } else {
        EXPECT_EQ(a(col, row), b(col, row)) << "col " << col << " row " << row;
      }
    }
}

void ExpectSameGeo(const GeoTransform& a, const GeoTransform& b) {
  EXPECT_EQ(a.x_west, b.x_west);
  EXPECT_EQ(a.y_north, b.y_north);
  EXPECT_EQ(a.cell_width, b.cell_width);
  EXPECT_EQ(a.cell_height, b.cell_height);
}

// Message of the RasterError that `f` throws ("" and a test failure if none).
template <class F>
std::string RasterErrorOf(F f) {
  try {
    f();
  } catch (const RasterError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected RasterError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected RasterError, nothing thrown";
  return "";
}

// A GeoTIFF written by GDAL directly, for geotransforms WriteGeoTiff cannot produce.
void WriteRawGeoTiff(const std::string& path, const double gt[6]) {
  GDALAllRegister();
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  ASSERT_NE(drv, nullptr);
  GDALDatasetUniquePtr ds(drv->Create(path.c_str(), 4, 3, 1, GDT_Float64, nullptr));
  ASSERT_TRUE(ds);
  ASSERT_EQ(ds->SetGeoTransform(const_cast<double*>(gt)), CE_None);
  std::vector<double> v(12, 1.0);
  ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, 4, 3, v.data(), 4, 3, GDT_Float64, 0, 0,
                                           nullptr),
            CE_None);
}

}  // namespace

TEST(GdalIo, GeoTiffRoundTripIsExact) {
  const RasterD r = SampleRaster();
  RasterD with_nan = r;
  with_nan(10, 10) = std::nan("");
  const std::string path = floodwarn::testing::MakeTempDir() + "/dem.tif";
  WriteGeoTiff(path, with_nan);
  EXPECT_FALSE(FileExists(path + ".tmp")) << "temporary file left behind";

  const RasterD back = ReadRaster(path);
  ExpectSameValues(with_nan, back);
  ExpectSameGeo(r.geo(), back.geo());
  ASSERT_TRUE(back.nodata().has_value());
  EXPECT_EQ(*back.nodata(), -9999.0);
  EXPECT_TRUE(back.IsNodata(3, 4));
  EXPECT_TRUE(back.IsNodata(10, 10));
  EXPECT_EQ(back.CountNodata(), 3u);
  ASSERT_FALSE(back.crs_wkt().empty());
  EXPECT_TRUE(SameCrs(back.crs_wkt(), EpsgWkt(25832)));
  EXPECT_FALSE(SameCrs(back.crs_wkt(), EpsgWkt(4326)));
}

TEST(GdalIo, GeoTiffOverwritesAtomicallyAndReportsBadDirectory) {
  const std::string dir = floodwarn::testing::MakeTempDir();
  RasterD r = SampleRaster();
  WriteGeoTiff(dir + "/a.tif", r);
  r(0, 0) = 7.25;
  WriteGeoTiff(dir + "/a.tif", r);  // replaces the first file
  EXPECT_EQ(ReadRaster(dir + "/a.tif")(0, 0), 7.25);
  const std::string bad = dir + "/no/such/dir/a.tif";
  const std::string msg = RasterErrorOf([&] { WriteGeoTiff(bad, r); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_FALSE(FileExists(bad + ".tmp"));
}

TEST(GdalIo, GdalinfoReportsWhatWasWritten) {
  if (!OnPath("gdalinfo")) GTEST_SKIP() << "gdalinfo not on PATH (install gdal-bin)";
  const RasterD r = SampleRaster();
  const std::string path = floodwarn::testing::MakeTempDir() + "/info.tif";
  WriteGeoTiff(path, r);
  int status = 0;
  const std::string json = StripSpace(RunCommand("gdalinfo -json '" + path + "'", &status));
  ASSERT_EQ(status, 0) << json;
  EXPECT_NE(json.find("\"size\":[37,23]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"geoTransform\":[500000.5,2.5,0.0,5700000.25,0.0,-2.0]"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"noDataValue\":-9999.0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"COMPRESSION\":\"DEFLATE\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"type\":\"Float64\""), std::string::npos) << json;
  // The CRS's WKT carries its EPSG code as ID["EPSG",25832] (quotes escaped in JSON).
  EXPECT_NE(json.find("ID[\\\"EPSG\\\",25832]]"), std::string::npos) << json;
  // Tiled: blocks of 256 x 256, not strips.
  EXPECT_NE(json.find("\"block\":[256,256]"), std::string::npos) << json;
}

TEST(GdalIo, EsriAsciiMatchesOwnReader) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/g.asc";
  std::ofstream(path) << "ncols 4\nnrows 3\nxllcorner 350000.5\nyllcorner 5600000\n"
                         "cellsize 12.5\nNODATA_value -9999\n"
                         "0.1 12.345678901234 -3.75 1e-3\n"
                         "-9999 2 3.3333333333333335 4\n"
                         "5 6.02214076 7 123456.789\n";
  const RasterD own = ReadAsciiGrid(path);
  const RasterD via_gdal = ReadRaster(path);
  ExpectSameValues(own, via_gdal);
  ExpectSameGeo(own.geo(), via_gdal.geo());
  ASSERT_TRUE(via_gdal.nodata().has_value());
  EXPECT_EQ(*via_gdal.nodata(), -9999.0);
  EXPECT_TRUE(via_gdal.IsNodata(0, 1));
  EXPECT_EQ(via_gdal.CountNodata(), 1u);
  EXPECT_EQ(via_gdal(1, 0), 12.345678901234);  // not rounded through float
  EXPECT_TRUE(via_gdal.crs_wkt().empty());     // no .prj beside the grid
}

TEST(GdalIo, NetcdfFromGdalTranslateReadsBack) {
  if (!OnPath("gdal_translate")) GTEST_SKIP() << "gdal_translate not on PATH (install gdal-bin)";
  const std::string dir = floodwarn::testing::MakeTempDir();
  const RasterD r = SampleRaster();
  WriteGeoTiff(dir + "/src.tif", r);
  const std::string nc = dir + "/dem.nc";
  int status = 0;
  const std::string out =
      RunCommand("gdal_translate -q -of netCDF '" + dir + "/src.tif' '" + nc + "' 2>&1", &status);
  ASSERT_EQ(status, 0) << out;

  for (const std::string& name : {nc, "NETCDF:\"" + nc + "\":Band1"}) {
    SCOPED_TRACE(name);
    const RasterD back = ReadRaster(name);
    ExpectSameValues(r, back);
    EXPECT_NEAR(back.geo().x_west, r.geo().x_west, 1e-6);
    EXPECT_NEAR(back.geo().y_north, r.geo().y_north, 1e-6);
    EXPECT_NEAR(back.geo().cell_width, r.geo().cell_width, 1e-9);
    EXPECT_NEAR(back.geo().cell_height, r.geo().cell_height, 1e-9);
    ASSERT_TRUE(back.nodata().has_value());
    EXPECT_EQ(*back.nodata(), -9999.0);
    EXPECT_TRUE(back.IsNodata(3, 4));
    EXPECT_TRUE(SameCrs(back.crs_wkt(), EpsgWkt(25832)));
  }
  const std::string missing_var = "NETCDF:\"" + nc + "\":no_such_var";
  const std::string msg = RasterErrorOf([&] { ReadRaster(missing_var); });
  EXPECT_NE(msg.find(missing_var), std::string::npos) << msg;
}

TEST(GdalIo, NearestOnTwofoldRefinementCopiesParents) {
  RasterD coarse(4, 3, GeoTransform{1000.0, 2000.0, 10.0, 10.0});
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 4; ++col) coarse(col, row) = 10.0 * row + col + 0.5;
  coarse.set_nodata(-1.0);
  coarse(2, 1) = -1.0;
  // Two more fine columns east of the source: nothing reaches them.
  const RasterD fine =
      ResampleTo(coarse, GeoTransform{1000.0, 2000.0, 5.0, 5.0}, 10, 6, "", Resample::kNearest);
  ASSERT_EQ(fine.cols(), 10);
  ASSERT_EQ(fine.rows(), 6);
  ASSERT_TRUE(fine.nodata().has_value());
  for (int row = 0; row < 6; ++row)
    for (int col = 0; col < 10; ++col) {
      SCOPED_TRACE("fine col " + std::to_string(col) + " row " + std::to_string(row));
      if (col >= 8 || (col / 2 == 2 && row / 2 == 1)) {
        EXPECT_TRUE(fine.IsNodata(col, row)) << fine(col, row);
      } else {
        EXPECT_EQ(fine(col, row), coarse(col / 2, row / 2));
      }
    }
}

TEST(GdalIo, BilinearReproducesLinearRamp) {
  const auto ramp = [](double x, double y) {
    return 3.0 + 0.5 * (x - 1000.0) - 0.25 * (y - 2000.0);
  };
  RasterD src(12, 9, GeoTransform{1000.0, 2000.0, 10.0, 10.0});
  for (int row = 0; row < src.rows(); ++row)
    for (int col = 0; col < src.cols(); ++col)
      src(col, row) = ramp(src.geo().CellCenterX(col), src.geo().CellCenterY(row));
  // A 4x finer grid shifted by a fraction of a cell, so samples fall between centres.
  const GeoTransform fine_gt{1001.3, 1998.9, 2.5, 2.5};
  const RasterD fine = ResampleTo(src, fine_gt, 44, 32, "", Resample::kBilinear);
  const double x_lo = src.geo().CellCenterX(0), x_hi = src.geo().CellCenterX(src.cols() - 1);
  const double y_hi = src.geo().CellCenterY(0), y_lo = src.geo().CellCenterY(src.rows() - 1);
  int checked = 0;
  for (int row = 0; row < fine.rows(); ++row)
    for (int col = 0; col < fine.cols(); ++col) {
      const double x = fine_gt.CellCenterX(col), y = fine_gt.CellCenterY(row);
      if (x < x_lo || x > x_hi || y < y_lo || y > y_hi) continue;  // not interior
      ASSERT_FALSE(fine.IsNodata(col, row)) << col << "," << row;
      EXPECT_NEAR(fine(col, row), ramp(x, y), 1e-9) << col << "," << row;
      ++checked;
    }
  EXPECT_GT(checked, 30 * 25);
}

TEST(GdalIo, AverageCoarseningIgnoresNodata) {
  RasterD fine(4, 4, GeoTransform{0.0, 40.0, 10.0, 10.0});
  for (int row = 0; row < 4; ++row)
    for (int col = 0; col < 4; ++col) fine(col, row) = col + 4.0 * row;
  fine.set_nodata(-9999.0);
  fine(0, 0) = -9999.0;  // one of four children of coarse (0, 0)
  for (int row = 2; row < 4; ++row)
    for (int col = 2; col < 4; ++col) fine(col, row) = -9999.0;  // all children of (1, 1)
  const RasterD coarse =
      ResampleTo(fine, GeoTransform{0.0, 40.0, 20.0, 20.0}, 2, 2, "", Resample::kAverage);
  EXPECT_DOUBLE_EQ(coarse(0, 0), (1.0 + 4.0 + 5.0) / 3.0);
  EXPECT_DOUBLE_EQ(coarse(1, 0), (2.0 + 3.0 + 6.0 + 7.0) / 4.0);
  EXPECT_DOUBLE_EQ(coarse(0, 1), (8.0 + 9.0 + 12.0 + 13.0) / 4.0);
  EXPECT_TRUE(coarse.IsNodata(1, 1)) << coarse(1, 1);
}

TEST(GdalIo, NanCellsWithoutSentinelAreNodata) {
  // No nodata sentinel: NaN marks missing cells, and -9999 is a real value
  // here, so the result needs another sentinel.
  RasterD fine(4, 2, GeoTransform{0.0, 20.0, 10.0, 10.0});
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 4; ++col) fine(col, row) = col + 4.0 * row;
  fine(0, 0) = std::nan("");
  fine(3, 1) = -9999.0;
  const RasterD coarse =
      ResampleTo(fine, GeoTransform{0.0, 20.0, 20.0, 20.0}, 2, 1, "", Resample::kAverage);
  ASSERT_TRUE(coarse.nodata().has_value());
  EXPECT_NE(*coarse.nodata(), -9999.0);
  EXPECT_DOUBLE_EQ(coarse(0, 0), (1.0 + 4.0 + 5.0) / 3.0);  // the NaN child is left out
  EXPECT_DOUBLE_EQ(coarse(1, 0), (2.0 + 3.0 + 6.0 - 9999.0) / 4.0);
}

TEST(GdalIo, ReprojectionPutsValuesInTheRightPlace) {
  // 20 x 20 cells of 100 m in UTM 32N near 9 E, 51.4 N; each cell holds its own index.
  RasterD utm(20, 20, GeoTransform{500000.0, 5700000.0, 100.0, 100.0});
  for (int row = 0; row < 20; ++row)
    for (int col = 0; col < 20; ++col) utm(col, row) = col + 100.0 * row;
  utm.set_crs_wkt(EpsgWkt(25832));

  OGRSpatialReference s_utm, s_geo;
  ASSERT_EQ(s_utm.importFromEPSG(25832), OGRERR_NONE);
  ASSERT_EQ(s_geo.importFromEPSG(4326), OGRERR_NONE);
  s_utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  s_geo.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_geo(
      OGRCreateCoordinateTransformation(&s_utm, &s_geo));
  std::unique_ptr<OGRCoordinateTransformation> to_utm(
      OGRCreateCoordinateTransformation(&s_geo, &s_utm));
  ASSERT_TRUE(to_geo && to_utm);

  // Target: 0.0005 degree cells covering the source with a margin.
  double lon_min = 1e9, lon_max = -1e9, lat_min = 1e9, lat_max = -1e9;
  for (double x : {500000.0, 502000.0})
    for (double y : {5698000.0, 5700000.0}) {
      double lon = x, lat = y;
      ASSERT_TRUE(to_geo->Transform(1, &lon, &lat));
      lon_min = std::min(lon_min, lon), lon_max = std::max(lon_max, lon);
      lat_min = std::min(lat_min, lat), lat_max = std::max(lat_max, lat);
    }
  const double res = 0.0005;
  const GeoTransform geo_gt{lon_min - 5 * res, lat_max + 5 * res, res, res};
  const int cols = static_cast<int>(std::ceil((lon_max - lon_min) / res)) + 10;
  const int rows = static_cast<int>(std::ceil((lat_max - lat_min) / res)) + 10;
  const RasterD geo =
      ResampleTo(utm, geo_gt, cols, rows, EpsgWkt(4326, "WKT1"), Resample::kNearest);
  EXPECT_TRUE(SameCrs(geo.crs_wkt(), EpsgWkt(4326)));
  EXPECT_TRUE(geo.IsNodata(0, 0));  // the margin lies outside the source
  EXPECT_TRUE(geo.IsNodata(cols - 1, rows - 1));

  // Forward: the centre of source cell (7, 11), taken to lon/lat, lies in a
  // target cell that holds that source cell's value.
  double lon = utm.geo().CellCenterX(7), lat = utm.geo().CellCenterY(11);
  ASSERT_TRUE(to_geo->Transform(1, &lon, &lat));
  const int tc = geo_gt.ColumnOf(lon), tr = geo_gt.RowOf(lat);
  ASSERT_TRUE(tc >= 0 && tc < cols && tr >= 0 && tr < rows);
  EXPECT_EQ(geo(tc, tr), 7 + 100.0 * 11);

  // Backward, every target cell: its centre taken back to UTM falls in the
  // source cell whose value it got (skipping centres within 1 mm of an edge).
  int checked = 0;
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < cols; ++col) {
      double x = geo_gt.CellCenterX(col), y = geo_gt.CellCenterY(row);
      ASSERT_TRUE(to_utm->Transform(1, &x, &y));
      const double u = (x - 500000.0) / 100.0, v = (5700000.0 - y) / 100.0;
      if (std::abs(u - std::round(u)) < 1e-5 || std::abs(v - std::round(v)) < 1e-5) continue;
      const int sc = static_cast<int>(std::floor(u)), sr = static_cast<int>(std::floor(v));
      if (sc < 0 || sc >= 20 || sr < 0 || sr >= 20) {
        EXPECT_TRUE(geo.IsNodata(col, row)) << col << "," << row << " = " << geo(col, row);
      } else {
        EXPECT_EQ(geo(col, row), sc + 100.0 * sr) << col << "," << row;
        ++checked;
      }
    }
  EXPECT_GT(checked, 1000);
}

TEST(GdalIo, SameCrsTreatsEmptyAsUnknown) {
  EXPECT_TRUE(SameCrs("", ""));
  EXPECT_FALSE(SameCrs("", EpsgWkt(25832)));
  EXPECT_FALSE(SameCrs(EpsgWkt(25832), ""));
  EXPECT_TRUE(SameCrs(EpsgWkt(25832, "WKT1"), EpsgWkt(25832, "WKT2_2019")));
  EXPECT_FALSE(SameCrs(EpsgWkt(25832), EpsgWkt(25833)));
  EXPECT_THROW(SameCrs("PROJCS[broken", EpsgWkt(25832)), RasterError);
}

TEST(GdalIo, ErrorsNameTheFile) {
  const std::string dir = floodwarn::testing::MakeTempDir();

  const std::string missing = dir + "/missing.tif";
  std::string msg = RasterErrorOf([&] { ReadRaster(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

  const std::string text = dir + "/notes.tif";
  std::ofstream(text) << "this is a note, not a raster\n";
  msg = RasterErrorOf([&] { ReadRaster(text); });
  EXPECT_NE(msg.find(text), std::string::npos) << msg;
  EXPECT_NE(msg.find("GDAL:"), std::string::npos) << "GDAL's own message is carried: " << msg;

  const std::string one_band = dir + "/one.tif";
  WriteGeoTiff(one_band, SampleRaster());
  msg = RasterErrorOf([&] { ReadRaster(one_band, 2); });
  EXPECT_NE(msg.find(one_band), std::string::npos) << msg;
  EXPECT_NE(msg.find("band 2"), std::string::npos) << msg;
  msg = RasterErrorOf([&] { ReadRaster(one_band, 0); });
  EXPECT_NE(msg.find(one_band), std::string::npos) << msg;

  const std::string rotated = dir + "/rotated.tif";
  const double rotated_gt[6] = {1000.0, 10.0, 0.5, 2000.0, 0.3, -10.0};
  WriteRawGeoTiff(rotated, rotated_gt);
  msg = RasterErrorOf([&] { ReadRaster(rotated); });
  EXPECT_NE(msg.find(rotated), std::string::npos) << msg;
  EXPECT_NE(msg.find("rotated"), std::string::npos) << msg;

  const std::string south_up = dir + "/south_up.tif";
  const double south_up_gt[6] = {1000.0, 10.0, 0.0, 2000.0, 0.0, 10.0};
  WriteRawGeoTiff(south_up, south_up_gt);
  msg = RasterErrorOf([&] { ReadRaster(south_up); });
  EXPECT_NE(msg.find(south_up), std::string::npos) << msg;
  EXPECT_NE(msg.find("south-up"), std::string::npos) << msg;
}
