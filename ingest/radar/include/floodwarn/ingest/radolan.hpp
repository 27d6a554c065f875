// DWD RADOLAN composites (binary, optionally gzipped): header parsing and the
// 16-bit products (RW, YW, RY, SF, ...) as a rain-rate grid in mm/h on the
// RADOLAN polar-stereographic grid, ready for grids::ResampleTo onto a DEM.
// NOTES-alerting-ingest.md §5.5 and docs/ingest/FILES.md describe the format.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

// Thrown for a file that is not a usable RADOLAN composite; the message names
// the source, the byte offset and what was expected.
class RadolanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RadolanHeader {
  std::string product;       // "RW", "YW", ...
  TimePoint time{};          // end of the interval (UTC)
  std::string radar_id;      // "10000" = composite
  long bytes = 0;            // BY: total file size including the header
  int version = 0;           // VS: < 5 sphere earth model, >= 5 WGS84 ellipsoid
  std::string software;      // SW
  double precision = 0.1;    // PR: E-01 -> 0.1
  int interval_minutes = 0;  // INT
  int rows = 0;              // GP rows x cols (BG on some products)
  int cols = 0;
  std::vector<std::string> radars;  // MS: contributing radars
  std::size_t header_length = 0;    // bytes before the ETX (0x03)
};

// Per-cell flag bits in RadolanComposite::flags.
enum RadolanCellFlag : std::uint8_t {
  kRadolanSecondary = 1,  // 0x1000: interpolated / secondary data (value kept)
  kRadolanNoData = 2,     // 0x2000: no data (NaN)
  kRadolanClutter = 4,    // 0x8000: clutter (NaN: not a rain value)
  kRadolanNegative = 8,   // 0x4000: negative value (RD products)
};

struct RadolanComposite {
  RadolanHeader header;
  // Rain rate in mm/h: the product's depth per INT minutes * 60 / INT. NaN
  // for no-data and clutter cells. Row 0 is the northernmost row (the file's
  // first row is the southernmost). Georeferenced: geotransform in metres on
  // the RADOLAN grid, CRS as WKT.
  grids::RasterD rain_rate;
  std::vector<std::uint8_t> flags;  // RadolanCellFlag bits, same layout as rain_rate
  std::size_t nodata_count = 0;
  std::size_t secondary_count = 0;
  std::size_t clutter_count = 0;
  double max_rate = 0.0;  // largest rain rate (mm/h) over the valid cells
};

RadolanHeader ParseRadolanHeader(std::string_view bytes, const std::string& source);
// Raw or gzip bytes. Throws RadolanError.
RadolanComposite DecodeRadolan(std::string_view bytes, const std::string& source);
RadolanComposite ReadRadolanFile(const std::string& path);

// gzip/zlib inflate with an output limit; throws RadolanError naming `source`.
std::string Gunzip(std::string_view bytes, const std::string& source,
                   std::size_t max_output = std::size_t{256} << 20);

// The RADOLAN projection (polar stereographic, true scale at 60 N, central
// meridian 10 E) as a PROJ string and as WKT, in metres: on the sphere of
// radius 6370.04 km for version < 5, on WGS84 (DE1200 grid origin) for >= 5.
std::string RadolanProj4(int version);
std::string RadolanWkt(int version);
// Geotransform (metres) of a rows x cols RADOLAN grid (sphere model: 900x900,
// 1100x900, 1500x1400 at 1 km, 460x460 at 2 km; WGS84 model: 1200x1100).
// Throws RadolanError for other sizes.
grids::GeoTransform RadolanGeoTransform(int rows, int cols, int version);

// Sphere-model projection (version < 5) in km, the DWD format description's
// formulas: lon/lat (degrees) -> x/y, and back.
std::pair<double, double> RadolanProject(double lon, double lat);
std::pair<double, double> RadolanUnproject(double x_km, double y_km);

}  // namespace floodwarn::ingest
