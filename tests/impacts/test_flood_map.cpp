// The flood map PNG: rendered from a small synthetic case and read back with
// cairo to check its size and colours.
#include <cairo.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/impacts/flood_map.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

namespace fs = std::filesystem;

struct Png {
  std::shared_ptr<cairo_surface_t> surface;
  int width = 0;
  int height = 0;
  // r, g, b of a pixel.
  void At(int x, int y, int& r, int& g, int& b) const {
    const unsigned char* data = cairo_image_surface_get_data(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    const std::uint32_t v = *(reinterpret_cast<const std::uint32_t*>(data + y * stride) + x);
    r = static_cast<int>((v >> 16) & 0xff);
    g = static_cast<int>((v >> 8) & 0xff);
    b = static_cast<int>(v & 0xff);
  }
};

Png ReadPng(const std::string& path) {
  Png p;
  p.surface.reset(cairo_image_surface_create_from_png(path.c_str()), cairo_surface_destroy);
  if (cairo_surface_status(p.surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot read " + path);
  cairo_surface_flush(p.surface.get());
  p.width = cairo_image_surface_get_width(p.surface.get());
  p.height = cairo_image_surface_get_height(p.surface.get());
  return p;
}

// 100 x 80 cells of 2 m: a slope with a 20-cell wide deep channel in the
// west, a shallow puddle, a building (nodata) and the rest dry.
struct Case {
  grids::RasterD dem, depth;
};
Case MakeCase() {
  grids::GeoTransform g;
  g.x_west = 1000.0;
  g.y_north = 2160.0;
  g.cell_width = 2.0;
  g.cell_height = 2.0;
  Case c{grids::RasterD(100, 80, g, 0.0), grids::RasterD(100, 80, g, 0.0)};
  c.dem.set_nodata(-9999.0);
  c.depth.set_nodata(-9999.0);
  for (int r = 0; r < 80; ++r)
    for (int col = 0; col < 100; ++col) {
      c.dem(col, r) = 10.0 + 0.05 * col + 0.01 * r;
      if (col < 20) c.depth(col, r) = 2.0;                                    // deep channel
      if (col >= 40 && col < 50 && r >= 30 && r < 40) c.depth(col, r) = 0.2;  // puddle
      if (col >= 70 && col < 80 && r >= 10 && r < 20) {                       // building
        c.dem(col, r) = -9999.0;
        c.depth(col, r) = -9999.0;
      }
    }
  return c;
}

TEST(FloodMap, RendersPngWithClassesHillshadeBuildingsAndLegend) {
  const Case c = MakeCase();
  const std::string path = testing::MakeTempDir("floodwarn_map") + "/map.png";
  impacts::FloodMapOptions opt;
  opt.title = "Test map";
  opt.subtitle = "synthetic case";
  opt.points = {{"School", "school", 1001.0 + 60 * 2.0, 2160.0 - 60 * 2.0},
                {"Gauge", "gauge", 1001.0 + 10 * 2.0, 2160.0 - 40 * 2.0}};
  impacts::RenderFloodMap(path, c.dem, c.depth, opt);
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  const Png png = ReadPng(path);
  // The map: 8 px per cell (small grids are enlarged), plus header, legend and footer.
  const int map_w = 800, map_h = 640, map_x = 18, map_y = 92;
  EXPECT_GT(png.width, map_w + 300);
  EXPECT_GE(png.height, map_h + 92);
  auto cell_px = [&](int col, int row, int& r, int& g, int& b) {
    png.At(map_x + col * 8 + 4, map_y + row * 8 + 4, r, g, b);
  };
  int r, g, b;
  cell_px(5, 60, r, g, b);  // deep water: dark blue
  EXPECT_GT(b, r + 80) << r << "," << g << "," << b;
  EXPECT_GT(b, g + 30);
  cell_px(44, 35, r, g, b);  // 0.2 m: light blue, still bluer than grey
  EXPECT_GT(b, r + 20) << r << "," << g << "," << b;
  cell_px(90, 70, r, g, b);  // dry: grey hillshade
  EXPECT_LE(std::abs(r - g), 2);
  EXPECT_LE(std::abs(g - b), 2);
  EXPECT_GT(r, 100);
  cell_px(75, 15, r, g, b);  // building: dark grey
  EXPECT_LE(std::abs(r - b), 2);
  EXPECT_LT(r, 100);

  // The legend panel (right of the map) has drawn content: count non-white pixels.
  int ink = 0;
  for (int y = map_y; y < png.height - 40; ++y)
    for (int x = map_x + map_w + 20; x < png.width; ++x) {
      png.At(x, y, r, g, b);
      if (r < 200 || g < 200 || b < 200) ++ink;
    }
  EXPECT_GT(ink, 3000);
  // The legend's deepest class swatch is in the panel.
  bool dark_blue_in_legend = false;
  for (int y = map_y; y < png.height - 40 && !dark_blue_in_legend; ++y)
    for (int x = map_x + map_w + 20; x < png.width; ++x) {
      png.At(x, y, r, g, b);
      if (r == 0x08 && g == 0x51 && b == 0x9c) {
        dark_blue_in_legend = true;
        break;
      }
    }
  EXPECT_TRUE(dark_blue_in_legend);
}

TEST(FloodMap, LargeRastersAreDownsampledToTheTargetSize) {
  grids::GeoTransform g;
  g.cell_width = 1.0;
  g.cell_height = 1.0;
  g.y_north = 3000.0;
  grids::RasterD dem(3000, 1500, g, 5.0), depth(3000, 1500, g, 0.0);
  const std::string path = testing::MakeTempDir("floodwarn_map") + "/big.png";
  impacts::RenderFloodMap(path, dem, depth);
  const Png png = ReadPng(path);
  EXPECT_LE(png.width, 1600 + 18 * 3 + 370);
  EXPECT_GE(png.width, 1600);
}

TEST(FloodMap, GridMismatchIsAnError) {
  grids::GeoTransform g;
  grids::RasterD dem(10, 10, g, 1.0), depth(10, 11, g, 0.0);
  EXPECT_THROW(impacts::RenderFloodMap("/nonexistent/x.png", dem, depth), std::invalid_argument);
}

TEST(FloodMap, UnwritablePathThrows) {
  grids::GeoTransform g;
  grids::RasterD dem(10, 10, g, 1.0), depth(10, 10, g, 0.0);
  EXPECT_THROW(impacts::RenderFloodMap("/nonexistent-dir/x.png", dem, depth), std::runtime_error);
}

}  // namespace
}  // namespace floodwarn
