#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {

bool GeoTransform::SameGrid(const GeoTransform& o, double tol) const {
  const double scale = std::max(cell_width, cell_height);
  return std::abs(x_west - o.x_west) <= tol * scale &&
         std::abs(y_north - o.y_north) <= tol * scale &&
         std::abs(cell_width - o.cell_width) <= tol * scale &&
         std::abs(cell_height - o.cell_height) <= tol * scale;
}

}  // namespace floodwarn::grids
