// RADOLAN: the shared RW sample against figures computed independently in
// NOTES-alerting-ingest.md §5.5, the grid corners against the published grid
// definition (DWD RADOLAN/RADVOR composite format description, as tabulated
// in wradlib's get_radolan_grid), transformed with GDAL/PROJ from our WKT;
// synthetic YW files for the flag bits, the row order and malformed input.
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/ingest/radolan.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;

namespace {

// (lon, lat) of a RADOLAN x/y (metres) through GDAL/PROJ.
std::pair<double, double> ToLonLat(const std::string& wkt, double x, double y) {
  OGRSpatialReference src;
  OGRSpatialReference dst;
  EXPECT_EQ(src.importFromWkt(wkt.c_str()), OGRERR_NONE);
  dst.importFromEPSG(4326);
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
  EXPECT_TRUE(ct);
  EXPECT_TRUE(ct->Transform(1, &x, &y));
  return {x, y};
}

// A synthetic 900x900 YW file: header + ETX + little-endian uint16 cells,
// file row 0 = south. `cells` sets (file_row, col) -> raw value.
std::string MakeYw(const std::vector<std::tuple<int, int, unsigned>>& cells, int rows = 900,
                   int cols = 900, std::size_t drop = 0) {
  std::string hdr = "YW251455100000521BY";
  const std::size_t data = static_cast<std::size_t>(rows) * cols * 2;
  std::string tail = "VS 3SW   2.18.3PR E-02INT   5GP " + std::to_string(rows) + "x " +
                     std::to_string(cols) + "MS 10<boo,ros> ";
  // BY = header length + ETX + data
  const std::string by = std::to_string(hdr.size() + 7 + tail.size() + 1 + data);  // 7 digits
  std::string out = hdr + by + tail + '\x03';
  std::string body(data, '\0');
  for (auto [r, c, v] : cells) {
    const std::size_t k = (static_cast<std::size_t>(r) * cols + c) * 2;
    body[k] = static_cast<char>(v & 0xFF);
    body[k + 1] = static_cast<char>(v >> 8);
  }
  out += body;
  out.resize(out.size() - drop);
  return out;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string ErrorOf(const std::string& bytes) {
  try {
    fi::DecodeRadolan(bytes, "x.bin");
  } catch (const fi::RadolanError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Radolan, SharedRwSample) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/raa01-rw_10000-1408030950-dwd---bin.gz");
  const fi::RadolanComposite c = fi::ReadRadolanFile(path);
  const fi::RadolanHeader& h = c.header;
  // RW030950100000814BY1620130VS 3SW   2.13.1PR E-01INT  60GP 900x 900MS 58<boo,...,mem>
  EXPECT_EQ(h.product, "RW");
  EXPECT_EQ(h.time, fi::TimePoint(std::chrono::seconds(1407059400)));  // 2014-08-03T09:50:00Z
  EXPECT_EQ(h.radar_id, "10000");
  EXPECT_EQ(h.bytes, 1620130);
  EXPECT_EQ(h.version, 3);
  EXPECT_EQ(h.software, "2.13.1");
  EXPECT_DOUBLE_EQ(h.precision, 0.1);
  EXPECT_EQ(h.interval_minutes, 60);
  EXPECT_EQ(h.rows, 900);
  EXPECT_EQ(h.cols, 900);
  EXPECT_EQ(h.header_length, 129u);
  ASSERT_EQ(h.radars.size(), 14u);
  EXPECT_EQ(h.radars.front(), "boo");
  EXPECT_EQ(h.radars.back(), "mem");
  // Figures from NOTES §5.5 (counted there independently of this code).
  EXPECT_EQ(c.nodata_count, 165520u);
  EXPECT_EQ(c.secondary_count, 37350u);
  EXPECT_EQ(c.clutter_count, 0u);
  EXPECT_NEAR(c.max_rate, 42.1, 1e-9);
  ASSERT_EQ(c.rain_rate.cols(), 900);
  ASSERT_EQ(c.rain_rate.rows(), 900);
  EXPECT_EQ(c.rain_rate.CountNodata(), 165520u);
  // Figures from a separate 10-line Python reading of the same bytes
  // (gzip + struct '<810000H', written for this test): the valid cells sum to
  // 73609.2 mm, 50,039 of them are wet, and the maximum 42.1 lies at file row
  // 438 (from the south), column 609 -> raster row 899 - 438 = 461.
  double sum = 0;
  std::size_t wet = 0;
  for (double v : c.rain_rate.data())
    if (!std::isnan(v)) {
      sum += v;
      wet += v > 0 ? 1 : 0;
    }
  EXPECT_NEAR(sum, 73609.2, 1e-6);
  EXPECT_EQ(wet, 50039u);
  EXPECT_NEAR(c.rain_rate(609, 461), 42.1, 1e-12);
  // Grid: 1 km cells, lower-left corner at (-523.4622, -4658.645) km.
  const auto& gt = c.rain_rate.geo();
  EXPECT_DOUBLE_EQ(gt.cell_width, 1000.0);
  EXPECT_DOUBLE_EQ(gt.cell_height, 1000.0);
  EXPECT_NEAR(gt.x_west, -523462.2, 0.1);
  EXPECT_NEAR(gt.y_north - 900 * 1000.0, -4658644.7, 0.5);
  // Corners in WGS84 (published: LL 3.5889E 46.9526N, LR 14.6209E 47.0705N,
  // UR 15.7208E 54.7405N, UL 2.0715E 54.5877N), through PROJ from our WKT.
  const double w = gt.x_west, e = gt.x_west + 900000.0, n = gt.y_north, s = gt.y_north - 900000.0;
  const struct {
    double x, y, lon, lat;
  } corners[] = {{w, s, 3.5889, 46.9526},
                 {e, s, 14.6209, 47.0705},
                 {e, n, 15.7208, 54.7405},
                 {w, n, 2.0715, 54.5877}};
  for (const auto& k : corners) {
    const auto [lon, lat] = ToLonLat(c.rain_rate.crs_wkt(), k.x, k.y);
    EXPECT_NEAR(lon, k.lon, 1e-4);
    EXPECT_NEAR(lat, k.lat, 1e-4);
    const auto [lon2, lat2] = fi::RadolanUnproject(k.x / 1000.0, k.y / 1000.0);
    EXPECT_NEAR(lon2, k.lon, 1e-4);
    EXPECT_NEAR(lat2, k.lat, 1e-4);
  }
}

TEST(Radolan, FlagsUnitsAndRowOrder) {
  // YW: 5-minute depth at precision 0.01 mm -> rate = raw * 0.01 * 12 mm/h.
  const std::string bytes = MakeYw({
      {0, 0, 5},                 // south-west corner: 0.6 mm/h
      {1, 2, 0x1000 | 100},      // secondary: 12 mm/h, kept
      {899, 899, 0x2000},        // no data
      {10, 10, 0x8000 | 50},     // clutter
      {20, 20, 0x4000 | 3},      // negative
      {30, 30, 0x0FFF | 0x1000}  // the largest value
  });
  for (const std::string& input : {bytes, Gzip(bytes)}) {
    const fi::RadolanComposite c = fi::DecodeRadolan(input, "yw.bin");
    EXPECT_EQ(c.header.product, "YW");
    EXPECT_EQ(c.header.interval_minutes, 5);
    EXPECT_DOUBLE_EQ(c.header.precision, 0.01);
    const auto& r = c.rain_rate;
    EXPECT_NEAR(r(0, 899), 0.6, 1e-12);  // file row 0 is the southernmost (raster row 899)
    EXPECT_NEAR(r(2, 898), 12.0, 1e-12);
    EXPECT_EQ(c.flags[898 * 900 + 2], fi::kRadolanSecondary);
    EXPECT_TRUE(std::isnan(r(899, 0)));  // file row 899 = north
    EXPECT_EQ(c.flags[899], fi::kRadolanNoData);
    EXPECT_TRUE(std::isnan(r(10, 889)));
    EXPECT_NEAR(r(20, 879), -0.36, 1e-12);
    EXPECT_NEAR(r(30, 869), 4095 * 0.12, 1e-9);
    EXPECT_NEAR(c.max_rate, 4095 * 0.12, 1e-9);
    EXPECT_EQ(c.nodata_count, 1u);
    EXPECT_EQ(c.secondary_count, 2u);
    EXPECT_EQ(c.clutter_count, 1u);
    EXPECT_EQ(r(5, 5), 0.0);
  }
}

TEST(Radolan, GridsOtherThan900x900) {
  // 1100 x 900 (rows x cols): lower-left corner published at (-443.4622, -4758.645) km.
  const auto gt = fi::RadolanGeoTransform(1100, 900, 3);
  EXPECT_NEAR(gt.x_west, -443462.2, 0.1);
  EXPECT_NEAR(gt.y_north - 1100 * 1000.0, -4758644.7, 0.5);
  // 1500 x 1400: (-673.4622, -5008.645) km.
  const auto ext = fi::RadolanGeoTransform(1500, 1400, 3);
  EXPECT_NEAR(ext.x_west, -673462.2, 0.1);
  EXPECT_NEAR(ext.y_north - 1500 * 1000.0, -5008644.7, 0.5);
  EXPECT_THROW(fi::RadolanGeoTransform(901, 900, 3), fi::RadolanError);
  const fi::RadolanComposite c = fi::DecodeRadolan(MakeYw({{0, 0, 1}}, 1100, 900), "wx.bin");
  EXPECT_EQ(c.rain_rate.rows(), 1100);
  EXPECT_EQ(c.rain_rate.cols(), 900);
}

TEST(Radolan, MalformedInputIsAClearError) {
  const std::string good = MakeYw({});
  EXPECT_NE(ErrorOf(MakeYw({}, 900, 900, 1)).find("truncated"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(200, 'A')).find("ETX"), std::string::npos);
  EXPECT_NE(ErrorOf(MakeYw({}, 901, 900)).find("901x900"), std::string::npos);
  std::string bad_gp = good;
  bad_gp.replace(bad_gp.find("GP 900x 900"), 11, "GP 900y 900");
  EXPECT_NE(ErrorOf(bad_gp).find("GP"), std::string::npos);
  std::string bad_pr = good;
  bad_pr.replace(bad_pr.find("PR E-02"), 7, "PR X-02");
  EXPECT_NE(ErrorOf(bad_pr).find("PR"), std::string::npos);
  std::string gz = Gzip(good);
  gz.resize(gz.size() / 2);
  EXPECT_NE(ErrorOf(gz).find("gzip"), std::string::npos);
  // An 8-bit reflectivity product is refused with the reason.
  const std::string rx_tail = "VS 3SW   2.18.3PR E+00INT   5GP 900x 900MS 10<boo,ros> ";
  const std::size_t rx_total = 17 + 2 + 7 + rx_tail.size() + 1 + 810000;
  char by[16];
  std::snprintf(by, sizeof(by), "BY%07zu", rx_total);
  std::string rx = "RX251455100000521" + std::string(by) + rx_tail;
  rx += '\x03';
  rx += std::string(810000, '\0');
  EXPECT_NE(ErrorOf(rx).find("1 byte per cell"), std::string::npos) << ErrorOf(rx);
}

TEST(Radolan, ResamplesOntoAUtmGrid) {
  // The solver's rain path resamples the composite onto the DEM's grid with
  // grids::ResampleTo: nearest-neighbour onto a 1 km EPSG:25832 grid must give
  // the value of the RADOLAN cell that contains each target cell's centre
  // (located here with the format description's projection formulas).
  FLOODWARN_REQUIRE_SHARED(path, "reference/raa01-rw_10000-1408030950-dwd---bin.gz");
  const fi::RadolanComposite c = fi::ReadRadolanFile(path);
  floodwarn::grids::GeoTransform target;
  target.x_west = 300000;
  target.y_north = 5600000;
  target.cell_width = target.cell_height = 1000;
  const int n = 40;
  const auto out = floodwarn::grids::ResampleTo(c.rain_rate, target, n, n, "EPSG:25832",
                                                floodwarn::grids::Resample::kNearest);
  OGRSpatialReference utm;
  OGRSpatialReference wgs;
  utm.importFromEPSG(25832);
  wgs.importFromEPSG(4326);
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs));
  int compared = 0;
  int wet = 0;
  const auto& gt = c.rain_rate.geo();
  for (int r = 0; r < n; r += 3) {
    for (int col = 0; col < n; col += 3) {
      double x = target.CellCenterX(col), y = target.CellCenterY(r);
      ASSERT_TRUE(ct->Transform(1, &x, &y));
      const auto [rx, ry] = fi::RadolanProject(x, y);
      const double fx = (rx * 1000 - gt.x_west) / 1000, fy = (gt.y_north - ry * 1000) / 1000;
      // skip centres within 20 m of a RADOLAN cell edge (projection round-off)
      if (std::abs(fx - std::round(fx)) < 0.02 || std::abs(fy - std::round(fy)) < 0.02) continue;
      const double expect = c.rain_rate(static_cast<int>(fx), static_cast<int>(fy));
      const double got = out(col, r);
      if (std::isnan(expect)) {
        EXPECT_TRUE(out.IsNodata(col, r));
      } else {
        EXPECT_DOUBLE_EQ(got, expect) << col << "," << r;
        wet += expect > 0 ? 1 : 0;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
  std::printf("compared %d cells, %d with rain\n", compared, wet);
}
