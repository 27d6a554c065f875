// A series of DWD RADOLAN composites -> one CF-1.8 NetCDF rain series on a
// DEM's grid, ready for a scenario's `[rain] grid` (kind "accumulation_mm").
// docs/ingest/RADAR.md describes the method and the no-data policy.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

// Thrown for an unusable series (unreadable file, mixed products or
// intervals, gaps, a DEM outside the radar grid, too much missing radar
// data); the message names the file(s) and what was expected.
class RadarSeriesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The variable written: precipitation depth (mm liquid water equivalent)
// over the interval ending at each time.
inline constexpr const char* kRadarVariable = "precipitation_amount";

struct RadarSeriesOptions {
  // Scenario time 0 (t0). Default: the start of the first composite's
  // interval. Must be an interval boundary; composites whose interval ends at
  // or before it are skipped.
  std::optional<TimePoint> start;
  // Largest share (0..1) of the DEM's active cells without radar data in one
  // frame. Those cells get 0 mm (and a warning); above the share the
  // conversion fails.
  double max_nodata_share = 0.01;
  int deflate_level = 4;
  std::string history;  // written as the file's history (e.g. the command line)
};

struct RadarFrameReport {
  std::string path;
  TimePoint end{};               // end of the interval (the header time)
  double time_s = 0.0;           // end of the interval, s since t0
  std::size_t nodata_cells = 0;  // active DEM cells without radar data (set to 0 mm)
  double nodata_share = 0.0;     // nodata_cells / active cells
  double max_mm = 0.0;           // over the active cells
  double mean_mm = 0.0;          // over the active cells (the no-data cells count as 0)
};

struct RadarSeriesResult {
  std::string out_path;
  std::string product;  // "RW", ...
  int interval_minutes = 0;
  TimePoint start{};  // t0
  std::size_t active_cells = 0;
  std::vector<RadarFrameReport> frames;  // in time order
  std::vector<std::string> skipped;      // files whose interval ends at or before t0
  std::size_t nodata_cells_total = 0;
  double nodata_share_max = 0.0;
  std::vector<double> Times() const;  // frames[i].time_s
  // The scenario's [rain] table for this file; `grid_path` as the scenario
  // should name it (relative to the scenario file's folder, or absolute).
  std::string RainToml(const std::string& grid_path) const;
};

// Reads the RADOLAN `files` (any order; sorted by their header time; all of
// one product, interval and grid, consecutive without gaps or overlaps),
// reprojects each onto the DEM's grid (GDAL warp, bilinear) and writes one
// NetCDF file (`out_path`, via a temporary name). `dem` gives the target
// grid: geotransform, size, CRS (must be set) and the nodata mask (cells
// outside the model). Throws RadarSeriesError.
RadarSeriesResult ConvertRadolanSeries(const std::vector<std::string>& files,
                                       const grids::RasterD& dem, const std::string& dem_name,
                                       const std::string& out_path,
                                       const RadarSeriesOptions& options = {});

}  // namespace floodwarn::ingest
