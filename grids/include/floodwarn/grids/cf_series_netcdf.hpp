// Writer of a gridded time series (time, y, x) as one CF-1.8 NetCDF-4 file:
// a radar rain series on a DEM's grid, a forecast field, ... Any field the
// scenario's gridded inputs read (`NETCDF:"file":variable`, band b = time
// index b-1).
//
// File layout (what `ncdump -h` shows):
//   dimensions: time (unlimited), y = rows, x = cols (+ nv = 2 with bounds)
//   x(x), y(y)     double, cell centres in CRS units, y DESCENDING (row 0 =
//                  north, as Raster and GDAL), standard_name
//                  projection_x/y_coordinate, axis X/Y.
//   time(time)     double, "seconds since <start_time>" (calendar standard).
//   time_bnds(time, nv)  (CfSeriesInfo::time_bounds) start and end of the
//                  interval each frame covers (CF cell bounds, for amounts
//                  summed over an interval: cell_methods "time: sum").
//   crs            int scalar grid mapping: crs_wkt (WKT2 2019) and
//                  spatial_ref (WKT1, what GDAL writes), GeoTransform (GDAL
//                  order), and the CF grid_mapping_name + parameters for
//                  transverse Mercator (UTM), polar stereographic and
//                  geographic CRSs. Absent when the CRS is empty; the CRS may
//                  be given as WKT or e.g. "EPSG:25832".
//   <field>(time, y, x)  float, _FillValue NaN, grid_mapping "crs", chunks
//                  (1, min(rows,256), min(cols,256)) = one frame per chunk
//                  row band, deflate + shuffle.
//   <scalar>(time) double, one value per frame (e.g. a quality figure).
//   global: Conventions "CF-1.8", title, source, history, then the extra
//           attributes; more may be set before Close (SetGlobalAttribute).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {

// A variable's name and CF attributes ("" = attribute not written).
struct CfSeriesVariable {
  std::string name;
  std::string standard_name;
  std::string long_name;
  std::string units;
  std::string cell_methods;
  std::vector<std::pair<std::string, std::string>> attributes;  // more text attributes
};

struct CfSeriesInfo {
  std::string title;
  std::string source;
  std::string history;
  // Time origin, UTC "YYYY-MM-DDThh:mm:ss[Z]" or "YYYY-MM-DD hh:mm:ss"
  // (required: a series without a date is of no use to a reader).
  std::string start_time;
  // Each frame covers an interval (amounts): write time_bnds.
  bool time_bounds = false;
  std::vector<std::pair<std::string, std::string>> global_attributes;
  // Per-frame scalar variables (time); AppendFrame gives one value each.
  std::vector<CfSeriesVariable> frame_scalars;
};

// Not thread-safe (neither is netCDF-C).
class CfSeriesWriter {
 public:
  // Creates path + ".tmp" (overwriting a stale one); Close() renames it to
  // path. Throws std::invalid_argument for bad arguments (naming the file and
  // the argument) and std::runtime_error naming the file and the netCDF error.
  CfSeriesWriter(std::string path, const GeoTransform& gt, int cols, int rows, std::string crs_wkt,
                 CfSeriesVariable field, CfSeriesInfo info, int deflate_level = 4);
  // Without Close(): closes and removes the temporary file.
  ~CfSeriesWriter();
  CfSeriesWriter(const CfSeriesWriter&) = delete;
  CfSeriesWriter& operator=(const CfSeriesWriter&) = delete;
  CfSeriesWriter(CfSeriesWriter&&) noexcept;
  CfSeriesWriter& operator=(CfSeriesWriter&&) noexcept;

  // One frame at time_s (s since start_time, strictly increasing). `values`
  // is row-major north-up (cols*rows), NaN allowed (reads back as fill).
  // `scalars`: one per CfSeriesInfo::frame_scalars. With time_bounds,
  // interval_start_s < time_s is the start of the frame's interval.
  void AppendFrame(double time_s, const std::vector<double>& values,
                   const std::vector<double>& scalars = {}, double interval_start_s = 0.0);
  // A global attribute (text or number), e.g. a summary known only at the
  // end; allowed until Close().
  void SetGlobalAttribute(const std::string& name, const std::string& value);
  void SetGlobalAttribute(const std::string& name, double value);
  // Flushes, closes and renames into place. Further calls throw std::logic_error.
  void Close();

  const std::string& path() const;
  int frames_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::grids
