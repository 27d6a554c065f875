// Writer of the solver's results as one CF-1.8 NetCDF-4 file per run (see
// ARCHITECTURE.md, "Contracts": solver output).
//
// File layout (what `ncdump -h` shows):
//   dimensions: time (unlimited), y = rows, x = cols,
//               point = n points, point_time (unlimited), name_strlen
//               (the three point dimensions only when there are points: a
//               netCDF dimension of length 0 would be unlimited)
//   x(x), y(y)         double, cell centres in CRS units (m), standard_name
//                      projection_x/y_coordinate, axis X/Y.
//                      y is DESCENDING: y index 0 is the northernmost row, the
//                      same order as Raster and GDAL, so fields are written
//                      without flipping and GDAL/QGIS report the DEM's origin
//                      (x_west, y_north) and a negative pixel height. xarray
//                      and CF tools read either order.
//   time(time)         double, seconds since the simulation start. With
//                      CfRunInfo::start_time the units are the CF time units
//                      "seconds since <start_time>" (calendar "standard"), so
//                      tools decode absolute dates; without it the units are
//                      "s" with long_name "time since simulation start" (CF has
//                      no reference-free time unit; a made-up 1970 epoch would
//                      look like a real date).
//   crs                int scalar grid mapping: crs_wkt and spatial_ref (the
//                      DEM's WKT, read by GDAL), GeoTransform (GDAL order), and
//                      for WKT1 Transverse Mercator / geographic CRSs the CF
//                      grid_mapping_name and its parameters. Absent when the
//                      WKT is empty (then no grid_mapping attributes either).
//   depth, u, v, wse (time, y, x)   float, _FillValue NaN, grid_mapping "crs",
//                      chunks (1, min(rows,256), min(cols,256)), deflate+shuffle
//   max_depth, max_speed, arrival_time (y, x)   float, _FillValue NaN
//   point_name(point, name_strlen) char, point_x(point), point_y(point) double
//   point_time(point_time) double, same units as time
//   point_depth(point_time, point) float, _FillValue NaN
//   global: Conventions "CF-1.8", title, source, history, floodwarn_config,
//           then CfRunInfo::extra_attributes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {

// An output point (gauge, underpass) in the grid's CRS.
struct CfPoint {
  std::string name;
  double x = 0.0;
  double y = 0.0;
};

struct CfRunInfo {
  std::string title;
  std::string source;  // "floodwarn <version>"
  std::string history;
  std::string config_path;  // written as the global attribute floodwarn_config
  // Simulation start as UTC "YYYY-MM-DDThh:mm:ss[Z]" or "YYYY-MM-DD hh:mm:ss";
  // "" = unknown (time units are then plain "s", see above).
  std::string start_time;
  // More global attributes (e.g. institution); must not repeat the ones above.
  std::vector<std::pair<std::string, std::string>> extra_attributes;
};

// The summary maps of a run (CfNetcdfWriter::WriteSummaryFields).
struct CfSummaryFields {
  std::vector<double> max_depth;     // m
  std::vector<double> max_speed;     // m/s
  std::vector<double> arrival_time;  // s since the start, NaN where never wet
  std::vector<double> max_wse;       // m: peak water level (bed + max depth), NaN where never wet
  std::vector<double> bed;  // m: the ground the solver used (buildings raised), NaN outside
};

// Not thread-safe (neither is netCDF-C): use it from one thread, and do not
// use netCDF from other threads meanwhile.
class CfNetcdfWriter {
 public:
  // Creates path + ".tmp" (overwriting a stale one); Close() renames it to
  // path. Throws std::invalid_argument for bad arguments and std::runtime_error
  // naming the file and the netCDF error when the file cannot be written.
  CfNetcdfWriter(std::string path, const GeoTransform& gt, int cols, int rows, std::string crs_wkt,
                 std::vector<CfPoint> points, CfRunInfo info, int deflate_level = 4);
  // Without Close() (an exception unwound the run): closes and removes the
  // temporary file, so a failed run leaves nothing that looks like a result.
  ~CfNetcdfWriter();
  CfNetcdfWriter(const CfNetcdfWriter&) = delete;
  CfNetcdfWriter& operator=(const CfNetcdfWriter&) = delete;
  CfNetcdfWriter(CfNetcdfWriter&&) noexcept;
  CfNetcdfWriter& operator=(CfNetcdfWriter&&) noexcept;

  // One snapshot at time_s (strictly increasing). Fields are row-major
  // north-up (row 0 = north) like Raster, each of size cols*rows; NaN is
  // allowed and reads back as the fill value.
  void AppendFrame(double time_s, const std::vector<double>& depth, const std::vector<double>& u,
                   const std::vector<double>& v, const std::vector<double>& wse);
  // Depth at the output points (one per point, in the constructor's order) on
  // the point_time axis, independent of the frame times (strictly
  // increasing). Without points the file has no point axis and this only
  // checks that depth_at_points is empty.
  void AppendPointSample(double time_s, const std::vector<double>& depth_at_points);
  // The run's summary maps, same layout as AppendFrame. Call at most once; if
  // never called, the variables exist and read as fill (NaN).
  void WriteSummaryFields(const CfSummaryFields& fields);
  // Flushes, closes and renames the file into place. Further calls throw
  // std::logic_error.
  void Close();

  const std::string& path() const;
  int frames_written() const;
  int point_samples_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::grids
