// What a flood model's maximum depth and speed mean, on the model's grid
// (north-up rasters with nodata outside the domain, as the results on disk):
// the deepest cell, the area flooded above each depth, the FD2320 hazard
// rating and class of every cell and the area per class, and the depth at a
// place. The scenario runner, the demo and the forecast loop share these.
#pragma once

#include <array>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/impacts/hazard.hpp"

namespace floodwarn::impacts {

struct FloodSummary {
  // The deepest cell (its centre; the southernmost, then westernmost, of
  // equal maxima); 0 m at NaN coordinates when no cell is wet.
  double max_depth = 0.0;
  double max_depth_x = 0.0;
  double max_depth_y = 0.0;
  // Area (m2) whose maximum depth exceeds thresholds[k].
  std::vector<double> thresholds;
  std::vector<double> flooded_area;
  // FD2320 rating and class (0 dry .. 4) per cell, from the maximum depth and
  // the maximum speed of each cell (these need not occur at the same time,
  // so the rating is an upper bound); nodata outside the domain.
  grids::RasterD hazard_rating, hazard_class;
  std::array<double, 5> hazard_area{};  // m2 per class 0..4
};

// `max_depth` and `max_speed` on the same grid; nodata cells are outside the
// domain. Depths at most `dry_depth` count as dry for the hazard.
// Throws std::invalid_argument when the grids differ.
FloodSummary Summarize(const grids::RasterD& max_depth, const grids::RasterD& max_speed,
                       double dry_depth, const std::vector<double>& thresholds, LandUse land);

// The value of `field` in the cell containing (x, y); `outside` where the
// point lies off the grid or on a nodata cell.
double ValueAt(const grids::RasterD& field, double x, double y, double outside);

// Area (m2) of the cells of `depth` deeper than `threshold`, leaving out the
// cells where `exclude` (same grid) is deeper than 0, such as a river bed wet
// at the start. Nodata cells count as dry.
double AreaDeeperThan(const grids::RasterD& depth, double threshold,
                      const grids::RasterD* exclude = nullptr);

}  // namespace floodwarn::impacts
