#include "floodwarn/impacts/summary.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace floodwarn::impacts {

FloodSummary Summarize(const grids::RasterD& max_depth, const grids::RasterD& max_speed,
                       double dry_depth, const std::vector<double>& thresholds, LandUse land) {
  if (max_depth.cols() != max_speed.cols() || max_depth.rows() != max_speed.rows() ||
      !max_depth.geo().SameGrid(max_speed.geo()))
    throw std::invalid_argument("Summarize: max_depth and max_speed are on different grids");
  const grids::GeoTransform& geo = max_depth.geo();
  const double nodata = max_depth.nodata().value_or(-9999.0);
  FloodSummary s;
  s.thresholds = thresholds;
  s.flooded_area.assign(thresholds.size(), 0.0);
  s.hazard_rating = grids::RasterD(max_depth.cols(), max_depth.rows(), geo, nodata);
  s.hazard_rating.set_nodata(nodata);
  s.hazard_rating.set_crs_wkt(max_depth.crs_wkt());
  s.hazard_class = s.hazard_rating;
  const double cell_area = geo.cell_width * geo.cell_height;
  // Cell centres as the solver computes them (from the south-west corner), so
  // that the coordinates agree to the last bit.
  const double y_south = geo.y_north - max_depth.rows() * geo.cell_height;
  s.max_depth = 0.0;
  s.max_depth_x = s.max_depth_y = std::numeric_limits<double>::quiet_NaN();
  // Rows from the south (the solver's order), so that equal maxima name the
  // same cell as the solver's own search.
  for (int row = max_depth.rows() - 1; row >= 0; --row) {
    for (int col = 0; col < max_depth.cols(); ++col) {
      if (max_depth.IsNodata(col, row)) continue;
      const double d = max_depth(col, row);
      if (d > s.max_depth) {
        s.max_depth = d;
        s.max_depth_x = geo.x_west + (col + 0.5) * geo.cell_width;
        s.max_depth_y = y_south + (max_depth.rows() - 1 - row + 0.5) * geo.cell_height;
      }
      for (std::size_t t = 0; t < thresholds.size(); ++t)
        if (d > thresholds[t]) s.flooded_area[t] += cell_area;
      const double wet_depth = d > dry_depth ? d : 0.0;
      const double speed = max_speed.IsNodata(col, row) ? 0.0 : max_speed(col, row);
      const double rating = HazardRating(wet_depth, speed, land);
      const int c = HazardClass(rating, wet_depth);
      s.hazard_rating(col, row) = rating;
      s.hazard_class(col, row) = c;
      s.hazard_area[static_cast<std::size_t>(c)] += cell_area;
    }
  }
  return s;
}

double ValueAt(const grids::RasterD& field, double x, double y, double outside) {
  const grids::GeoTransform& geo = field.geo();
  const int col = geo.ColumnOf(x), row = geo.RowOf(y);
  if (col < 0 || row < 0 || col >= field.cols() || row >= field.rows()) return outside;
  if (field.IsNodata(col, row)) return outside;
  return field(col, row);
}

double AreaDeeperThan(const grids::RasterD& depth, double threshold,
                      const grids::RasterD* exclude) {
  if (exclude && (exclude->cols() != depth.cols() || exclude->rows() != depth.rows()))
    throw std::invalid_argument("AreaDeeperThan: the exclusion mask is on another grid");
  const grids::GeoTransform& geo = depth.geo();
  const double cell_area = geo.cell_width * geo.cell_height;
  double area = 0;
  for (int row = 0; row < depth.rows(); ++row)
    for (int col = 0; col < depth.cols(); ++col) {
      if (depth.IsNodata(col, row)) continue;
      if (exclude && !exclude->IsNodata(col, row) && (*exclude)(col, row) > 0) continue;
      if (depth(col, row) > threshold) area += cell_area;
    }
  return area;
}

}  // namespace floodwarn::impacts
