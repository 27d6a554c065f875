// impacts::Summarize, ValueAt and AreaDeeperThan on small hand-made rasters
// whose areas and deepest cells can be counted by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "floodwarn/impacts/summary.hpp"

namespace floodwarn {
namespace {

// 3 columns x 2 rows of 10 m cells, west edge at x = 100, north edge at y = 520.
grids::RasterD Grid(double fill) {
  grids::GeoTransform g;
  g.x_west = 100.0;
  g.y_north = 520.0;
  g.cell_width = 10.0;
  g.cell_height = 10.0;
  grids::RasterD r(3, 2, g, fill);
  r.set_nodata(-9999.0);
  return r;
}

TEST(ImpactsSummary, AreasHazardAndTheDeepestCell) {
  grids::RasterD depth = Grid(0.0), speed = Grid(0.0);
  // North row: 0.2, 0.6 (a maximum), nodata; south row: 0.04, 0.6 (an equal maximum), 0.3.
  depth(0, 0) = 0.2;
  depth(1, 0) = 0.6;
  depth(2, 0) = -9999.0;  // outside the domain
  depth(0, 1) = 0.04;
  depth(1, 1) = 0.6;
  depth(2, 1) = 0.3;
  speed(1, 1) = 2.5;
  const impacts::FloodSummary s =
      impacts::Summarize(depth, speed, 1e-6, {0.05, 0.5}, impacts::LandUse::kUrban);
  // Equal maxima: the southern one (column 1, south row) is named.
  EXPECT_DOUBLE_EQ(s.max_depth, 0.6);
  EXPECT_DOUBLE_EQ(s.max_depth_x, 115.0);
  EXPECT_DOUBLE_EQ(s.max_depth_y, 505.0);
  // Above 0.05 m: 0.2, 0.6, 0.6, 0.3 (4 cells of 100 m2); above 0.5 m: two.
  ASSERT_EQ(s.flooded_area.size(), 2u);
  EXPECT_DOUBLE_EQ(s.flooded_area[0], 400.0);
  EXPECT_DOUBLE_EQ(s.flooded_area[1], 200.0);
  // The nodata cell stays nodata in the hazard maps; every domain cell has a class.
  EXPECT_TRUE(s.hazard_class.IsNodata(2, 0));
  double classified = 0;
  for (double a : s.hazard_area) classified += a;
  EXPECT_DOUBLE_EQ(classified, 500.0);
  // 0.6 m at 2.5 m/s: HR = 0.6 (2.5 + 0.5) + 1 (urban, v > 2) = 2.8: "danger for all".
  EXPECT_NEAR(s.hazard_rating(1, 1), 2.8, 1e-12);
  EXPECT_EQ(s.hazard_class(1, 1), 4.0);
}

TEST(ImpactsSummary, ADryRunHasNoDeepestCell) {
  const impacts::FloodSummary s =
      impacts::Summarize(Grid(0.0), Grid(0.0), 1e-6, {0.1}, impacts::LandUse::kUrban);
  EXPECT_EQ(s.max_depth, 0.0);
  EXPECT_TRUE(std::isnan(s.max_depth_x));
  EXPECT_EQ(s.flooded_area[0], 0.0);
}

TEST(ImpactsSummary, GridsMustMatch) {
  grids::GeoTransform g;
  EXPECT_THROW(impacts::Summarize(Grid(0.0), grids::RasterD(2, 2, g, 0.0), 1e-6, {},
                                  impacts::LandUse::kUrban),
               std::invalid_argument);
}

TEST(ImpactsSummary, ValueAtAPlaceAndAreaOutsideAMask) {
  grids::RasterD depth = Grid(0.7), river = Grid(0.0);
  depth(2, 1) = -9999.0;
  river(0, 0) = 1.5;  // wet at the start: not "flooded land"
  EXPECT_DOUBLE_EQ(impacts::ValueAt(depth, 101.0, 519.0, -1.0), 0.7);
  EXPECT_DOUBLE_EQ(impacts::ValueAt(depth, 125.0, 505.0, -1.0), -1.0);  // nodata
  EXPECT_DOUBLE_EQ(impacts::ValueAt(depth, 99.0, 505.0, -1.0), -1.0);   // off the grid
  EXPECT_DOUBLE_EQ(impacts::AreaDeeperThan(depth, 0.5), 500.0);
  EXPECT_DOUBLE_EQ(impacts::AreaDeeperThan(depth, 0.5, &river), 400.0);
}

}  // namespace
}  // namespace floodwarn
