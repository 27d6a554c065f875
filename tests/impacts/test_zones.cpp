// Zones from GeoJSON polygons and from a zone-id raster (grids/zones.hpp), and
// the impact tracker over them (impacts/tracker.hpp). The cells a polygon
// covers are counted by hand: a cell belongs to a zone when its centre is
// inside.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "floodwarn/grids/zones.hpp"
#include "floodwarn/impacts/tracker.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

// 10 x 8 cells of 10 m; west edge x = 1000, north edge y = 2080 (south 2000).
grids::GeoTransform Geo() {
  grids::GeoTransform g;
  g.x_west = 1000.0;
  g.y_north = 2080.0;
  g.cell_width = 10.0;
  g.cell_height = 10.0;
  return g;
}

std::string WriteGeoJson(const std::string& body) {
  const std::string path = testing::MakeTempDir("floodwarn_zones") + "/zones.geojson";
  std::ofstream(path) << R"({"type": "FeatureCollection", "features": [)" << body << "]}";
  return path;
}

std::string Square(const std::string& id, double x0, double y0, double x1, double y1) {
  return "{\"type\": \"Feature\", \"properties\": {\"zone\": \"" + id +
         "\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[" + std::to_string(x0) +
         "," + std::to_string(y0) + "],[" + std::to_string(x1) + "," + std::to_string(y0) + "],[" +
         std::to_string(x1) + "," + std::to_string(y1) + "],[" + std::to_string(x0) + "," +
         std::to_string(y1) + "],[" + std::to_string(x0) + "," + std::to_string(y0) + "]]]}}";
}

TEST(Zones, PolygonsCoverTheCellsWhoseCentresAreInside) {
  // "school": x 1000..1030, y 2050..2080 -> columns 0-2, rows 0-2: 9 cells.
  // "underpass": x 1044..1066 (centres 1045, 1055, 1065), y 2001..2019
  // (centres 2005, 2015): 6 cells in rows 6-7; two features with one id.
  // "district" overlaps "school": x 1000..1050, y 2040..2080 -> 5 x 4 = 20 cells.
  const std::string path = WriteGeoJson(Square("school", 1000, 2050, 1030, 2080) + "," +
                                        Square("underpass", 1044, 2001, 1066, 2010) + "," +
                                        Square("underpass", 1044, 2010, 1066, 2019) + "," +
                                        Square("district", 1000, 2040, 1050, 2080));
  const auto zones = grids::ReadZones(path, "zone", Geo(), 10, 8, "");
  ASSERT_EQ(zones.size(), 3u);
  EXPECT_EQ(zones[0].id, "school");
  EXPECT_EQ(zones[0].cells, (std::vector<std::size_t>{0, 1, 2, 10, 11, 12, 20, 21, 22}));
  EXPECT_EQ(zones[1].id, "underpass");
  EXPECT_EQ(zones[1].cells, (std::vector<std::size_t>{64, 65, 66, 74, 75, 76}));
  EXPECT_EQ(zones[2].id, "district");
  EXPECT_EQ(zones[2].cells.size(), 20u);
}

TEST(Zones, BadFilesAreErrorsNamingTheFile) {
  const std::string outside = WriteGeoJson(Square("far", 5000, 5000, 5100, 5100));
  try {
    grids::ReadZones(outside, "zone", Geo(), 10, 8, "");
    FAIL() << "a zone off the grid was accepted";
  } catch (const grids::RasterError& e) {
    EXPECT_NE(std::string(e.what()).find(outside), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'far'"), std::string::npos) << e.what();
  }
  const std::string ok = WriteGeoJson(Square("a", 1000, 2000, 1020, 2020));
  EXPECT_THROW(grids::ReadZones(ok, "name", Geo(), 10, 8, ""), grids::RasterError);
  EXPECT_THROW(grids::ReadZones("/nonexistent/zones.geojson", "zone", Geo(), 10, 8, ""),
               grids::RasterError);
  const std::string point = WriteGeoJson(
      R"({"type": "Feature", "properties": {"zone": "p"}, "geometry": {"type": "Point", "coordinates": [1005, 2005]}})");
  EXPECT_THROW(grids::ReadZones(point, "zone", Geo(), 10, 8, ""), grids::RasterError);
}

TEST(Zones, FromARasterOfIds) {
  grids::RasterD ids(10, 8, Geo(), 0.0);
  ids.set_nodata(-9999.0);
  ids(3, 1) = 7;
  ids(4, 1) = 7;
  ids(0, 7) = 2;
  ids(9, 7) = -9999.0;
  const auto zones = grids::ZonesFromRaster(ids, Geo(), 10, 8, "zones.asc");
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].id, "7");
  EXPECT_EQ(zones[0].cells, (std::vector<std::size_t>{13, 14}));
  EXPECT_EQ(zones[1].id, "2");
  ids(5, 5) = 1.5;
  EXPECT_THROW(grids::ZonesFromRaster(ids, Geo(), 10, 8, "zones.asc"), grids::RasterError);
  EXPECT_THROW(grids::ZonesFromRaster(ids, Geo(), 9, 8, "zones.asc"), grids::RasterError);
}

TEST(ImpactTracker, SeriesAreasAndFirstExceedance) {
  grids::RasterD bed(10, 8, Geo(), 5.0);
  bed.set_nodata(-9999.0);
  bed(9, 0) = -9999.0;  // a building
  const grids::Zone square{"square", {0, 1, 10, 11}};
  impacts::ImpactTracker tracker(bed, {{"gauge", 1015.0, 2075.0}}, {{square, {0.1, 0.3}}});
  grids::RasterD depth(10, 8, Geo(), 0.0);
  tracker.Sample(0.0, depth);
  depth(1, 0) = 0.2;  // the gauge's cell
  tracker.Sample(300.0, depth);
  depth(0, 1) = 0.5;
  depth(1, 0) = 0.4;
  tracker.Sample(600.0, depth);
  depth(0, 1) = 0.05;
  depth(1, 0) = 0.0;
  tracker.Sample(900.0, depth);

  ASSERT_EQ(tracker.places().size(), 1u);
  const auto& g = tracker.places()[0];
  EXPECT_EQ(g.t, (std::vector<double>{0, 300, 600, 900}));
  EXPECT_EQ(g.depth, (std::vector<double>{0, 0.2, 0.4, 0}));
  EXPECT_DOUBLE_EQ(g.level[2], 5.4);
  const auto& zs = tracker.zones()[0];
  EXPECT_EQ(zs.depth, (std::vector<double>{0, 0.2, 0.5, 0.05}));
  const auto table = tracker.ZoneTable();
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].cells, 4u);
  EXPECT_DOUBLE_EQ(table[0].area, 400.0);
  EXPECT_DOUBLE_EQ(table[0].max_depth, 0.5);
  EXPECT_DOUBLE_EQ(table[0].max_depth_time, 600.0);
  EXPECT_DOUBLE_EQ(table[0].max_area_above[0], 200.0);  // two cells above 0.1 m at 600 s
  EXPECT_DOUBLE_EQ(table[0].max_area_above[1], 200.0);  // both above 0.3 m too
  EXPECT_DOUBLE_EQ(table[0].first_time_above[0], 300.0);
  EXPECT_DOUBLE_EQ(table[0].first_time_above[1], 600.0);
}

TEST(ImpactTracker, PlacesAndZonesOutsideTheModelAreRefused) {
  grids::RasterD bed(10, 8, Geo(), 5.0);
  bed.set_nodata(-9999.0);
  bed(9, 0) = -9999.0;
  EXPECT_THROW(impacts::ImpactTracker(bed, {{"off", 900.0, 2000.0}}, {}), std::invalid_argument);
  EXPECT_THROW(impacts::ImpactTracker(bed, {{"roof", 1095.0, 2075.0}}, {}), std::invalid_argument);
  EXPECT_THROW(impacts::ImpactTracker(bed, {}, {{grids::Zone{"house", {9}}, {0.1}}}),
               std::invalid_argument);
  EXPECT_THROW(impacts::ImpactTracker(bed, {}, {{grids::Zone{"z", {0}}, {0.3, 0.1}}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace floodwarn
