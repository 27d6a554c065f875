#include "floodwarn/impacts/tracker.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace floodwarn::impacts {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

ImpactTracker::ImpactTracker(const grids::RasterD& bed, const std::vector<Place>& places,
                             std::vector<ZoneSpec> zones)
    : bed_(bed), zone_specs_(std::move(zones)) {
  const grids::GeoTransform& geo = bed_.geo();
  const std::size_t n = static_cast<std::size_t>(bed_.cols()) * bed_.rows();
  for (const Place& p : places) {
    const int col = geo.ColumnOf(p.x), row = geo.RowOf(p.y);
    if (col < 0 || row < 0 || col >= bed_.cols() || row >= bed_.rows())
      throw std::invalid_argument(
          fmt::format("forecast point '{}' at ({}, {}) lies off the model grid", p.id, p.x, p.y));
    if (bed_.IsNodata(col, row))
      throw std::invalid_argument(fmt::format(
          "forecast point '{}' at ({}, {}) lies on a cell outside the model (nodata, e.g. a "
          "building)",
          p.id, p.x, p.y));
    place_cells_.push_back(static_cast<std::size_t>(row) * bed_.cols() + col);
    place_series_.push_back(Series{p.id, {}, {}, {}});
  }
  for (ZoneSpec& z : zone_specs_) {
    std::size_t wet_capable = 0;
    for (const std::size_t c : z.zone.cells) {
      if (c >= n)
        throw std::invalid_argument(
            fmt::format("zone '{}': cell {} lies off the model grid", z.zone.id, c));
      wet_capable +=
          bed_.IsNodata(static_cast<int>(c % bed_.cols()), static_cast<int>(c / bed_.cols())) ? 0
                                                                                              : 1;
    }
    if (wet_capable == 0)
      throw std::invalid_argument(
          fmt::format("zone '{}' has no cell inside the model (every cell is nodata)", z.zone.id));
    for (std::size_t k = 0; k < z.depths.size(); ++k)
      if (!(z.depths[k] > 0) || (k > 0 && !(z.depths[k] > z.depths[k - 1])))
        throw std::invalid_argument(
            fmt::format("zone '{}': the depths must be positive and increasing, got {} after {}",
                        z.zone.id, z.depths[k], k > 0 ? z.depths[k - 1] : 0.0));
    zone_series_.push_back(Series{z.zone.id, {}, {}, {}});
    ZoneRow row;
    row.id = z.zone.id;
    row.cells = wet_capable;
    row.area = static_cast<double>(wet_capable) * geo.cell_width * geo.cell_height;
    row.max_depth_time = kNaN;
    row.depths = z.depths;
    row.max_area_above.assign(z.depths.size(), 0.0);
    row.first_time_above.assign(z.depths.size(), kNaN);
    rows_.push_back(std::move(row));
  }
}

void ImpactTracker::Sample(double t, const grids::RasterD& depth) {
  if (depth.cols() != bed_.cols() || depth.rows() != bed_.rows())
    throw std::invalid_argument("ImpactTracker::Sample: the depth is on another grid");
  const std::vector<double>& d = depth.data();
  for (std::size_t p = 0; p < place_cells_.size(); ++p) {
    const std::size_t c = place_cells_[p];
    const double h =
        depth.IsNodata(static_cast<int>(c % bed_.cols()), static_cast<int>(c / bed_.cols())) ? 0.0
                                                                                             : d[c];
    place_series_[p].t.push_back(t);
    place_series_[p].depth.push_back(h);
    place_series_[p].level.push_back(bed_.data()[c] + h);
  }
  const double cell_area = bed_.geo().cell_width * bed_.geo().cell_height;
  for (std::size_t z = 0; z < zone_specs_.size(); ++z) {
    const ZoneSpec& spec = zone_specs_[z];
    ZoneRow& row = rows_[z];
    double zmax = 0.0;
    std::vector<double> area(spec.depths.size(), 0.0);
    for (const std::size_t c : spec.zone.cells) {
      if (bed_.IsNodata(static_cast<int>(c % bed_.cols()), static_cast<int>(c / bed_.cols())))
        continue;
      const double h = d[c];
      if (!(h >= 0)) continue;  // NaN or nodata-like values count as dry
      if (h > zmax) zmax = h;
      for (std::size_t k = 0; k < spec.depths.size(); ++k)
        if (h > spec.depths[k]) area[k] += cell_area;
    }
    zone_series_[z].t.push_back(t);
    zone_series_[z].depth.push_back(zmax);
    if (std::isnan(row.max_depth_time) || zmax > row.max_depth) {
      row.max_depth = zmax;
      row.max_depth_time = t;
    }
    for (std::size_t k = 0; k < spec.depths.size(); ++k) {
      if (area[k] > row.max_area_above[k]) row.max_area_above[k] = area[k];
      if (area[k] > 0 && std::isnan(row.first_time_above[k])) row.first_time_above[k] = t;
    }
  }
}

std::vector<ImpactTracker::ZoneRow> ImpactTracker::ZoneTable() const { return rows_; }

}  // namespace floodwarn::impacts
