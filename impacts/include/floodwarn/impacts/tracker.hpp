// What a run means at named places over time: the depth and water level at
// forecast points and, per zone, the maximum depth, the flooded area above
// each configured depth and the first time each depth is exceeded. The
// forecast loop samples the model at each forecast time and turns the result
// into the series the alert engine's forecast rules read.
#pragma once

#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/grids/zones.hpp"

namespace floodwarn::impacts {

// A named place: depth and level in the grid cell containing (x, y).
struct Place {
  std::string id;
  double x = 0.0;
  double y = 0.0;
};

// A zone with the depths (m) whose flooded area and first exceedance are
// reported (increasing, > 0).
struct ZoneSpec {
  grids::Zone zone;
  std::vector<double> depths;
};

class ImpactTracker {
 public:
  // `bed` is the model's bed on its grid (north-up; nodata = outside). Throws
  // std::invalid_argument naming the place or zone when a point lies off the
  // grid or on a nodata cell, a zone has a cell off the grid or only nodata
  // cells, or its depths are not increasing and positive.
  ImpactTracker(const grids::RasterD& bed, const std::vector<Place>& places,
                std::vector<ZoneSpec> zones);

  // The depth field (north-up, same grid as the bed) at time t (s).
  void Sample(double t, const grids::RasterD& depth);

  struct Series {
    std::string id;
    std::vector<double> t, depth;  // s; m (a zone: its maximum depth)
    std::vector<double> level;     // m above datum (places only: bed + depth)
  };
  const std::vector<Series>& places() const { return place_series_; }
  const std::vector<Series>& zones() const { return zone_series_; }

  struct ZoneRow {
    std::string id;
    std::size_t cells = 0;
    double area = 0.0;                     // m2
    double max_depth = 0.0;                // m, over all samples
    double max_depth_time = 0.0;           // s, first sample with it (NaN before any sample)
    std::vector<double> depths;            // the zone's configured depths
    std::vector<double> max_area_above;    // m2: the largest area deeper than depths[k]
    std::vector<double> first_time_above;  // s: first sample deeper than depths[k]; NaN = never
  };
  std::vector<ZoneRow> ZoneTable() const;

 private:
  grids::RasterD bed_;
  std::vector<std::size_t> place_cells_;
  std::vector<ZoneSpec> zone_specs_;
  std::vector<Series> place_series_, zone_series_;
  std::vector<ZoneRow> rows_;
};

}  // namespace floodwarn::impacts
