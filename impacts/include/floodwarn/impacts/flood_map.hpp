// A flood map as a PNG for people who are not hydrologists: a grey hillshade
// of the terrain, the maximum water depth in a few blue classes, buildings in
// dark grey, places of interest with their depth, a legend with units, a
// scale bar, a north arrow, a title and a subtitle.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"

namespace floodwarn::impacts {

// Depths in [lower, upper) get `rgb` (0xRRGGBB); upper = +inf for the last class.
struct DepthClass {
  double lower = 0.0;
  double upper = std::numeric_limits<double>::infinity();
  std::uint32_t rgb = 0x3182bd;
  std::string meaning;  // plain words for the legend ("knee-deep"), may be empty
};

// Sequential blues: 0.05-0.1, 0.1-0.3, 0.3-0.5, 0.5-1, > 1 m. Below 0.05 m is
// not coloured (shown as dry).
std::vector<DepthClass> DefaultDepthClasses();

struct MapPoint {
  std::string label;  // "Hospital"
  std::string kind;   // "school", "hospital", "underpass", "gauge" pick the marker; others: a dot
  double x = 0.0;     // m, the rasters' coordinates
  double y = 0.0;
};

struct FloodMapOptions {
  std::string title;     // large, top left; default "Maximum water depth"
  std::string subtitle;  // event, date of the run
  std::string footnote;  // small, bottom; default says what the map shows
  std::vector<MapPoint> points;
  std::vector<DepthClass> classes = DefaultDepthClasses();  // increasing, not overlapping
  bool label_depth = true;    // add "max 0.42 m" to each point's label
  int max_map_pixels = 1600;  // the map's longer side at most this (px); small grids are enlarged
                              // up to 8 px per cell
};

// Renders the map of `max_depth` (m; nodata or NaN = dry) over `dem` (m;
// nodata = building / outside the model, drawn dark grey). Both rasters must
// have the same grid (std::invalid_argument otherwise). The PNG is written to
// a temporary name and renamed; throws std::runtime_error on I/O errors.
void RenderFloodMap(const std::string& path_png, const grids::RasterD& dem,
                    const grids::RasterD& max_depth, const FloodMapOptions& options = {});

}  // namespace floodwarn::impacts
