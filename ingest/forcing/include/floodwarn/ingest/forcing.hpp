// Forcing for the solver from ingested readings: rain fields from rain gauges
// (inverse-distance weighting onto the model grid), inflow hydrographs from
// discharge or stage stations (through the rating curve), and a nowcast for
// the forecast horizon. docs/ingest/FILES.md ("Forcing") documents the rules.
//
// Only usable readings force the model: pass, suspect and not evaluated;
// fail and missing readings never do.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"
#include "floodwarn/ingest/reading.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

bool UsableForForcing(const Reading& r);

// A gauge value at a position in the target grid's coordinates.
struct GaugePoint {
  double x = 0.0;
  double y = 0.0;
  double value = 0.0;
};

struct IdwOptions {
  double power = 2.0;                  // weight = 1 / distance^power
  std::optional<double> max_distance;  // cells farther than this from every gauge: NaN
};

// IDW of `gauges` onto the cell centres of a cols x rows grid. A cell centre
// within 1e-9 of a gauge takes that gauge's value. No gauges: all NaN.
grids::RasterD IdwField(const std::vector<GaugePoint>& gauges, const grids::GeoTransform& gt,
                        int cols, int rows, const std::string& crs_wkt,
                        const IdwOptions& options = {});

// Rain rate (mm/h) at time `t` from the rainfall stations of `stations`: each
// station's usable reading whose interval (observed - expected_interval,
// observed] contains t, as depth / interval; station locations transformed
// into `crs_wkt` (GDAL/PROJ; "" = the locations are already in the grid's
// coordinates as x/y). Stations without such a reading are left out.
// Throws std::runtime_error when a location cannot be transformed.
grids::RasterD RainGaugeField(const StationRegistry& stations, const std::vector<Reading>& readings,
                              TimePoint t, const grids::GeoTransform& gt, int cols, int rows,
                              const std::string& crs_wkt, const IdwOptions& options = {});

struct HydrographPoint {
  TimePoint t{};
  double discharge = 0.0;  // m3/s
  bool extrapolated = false;
};

struct Hydrograph {
  std::string station_id;
  std::vector<HydrographPoint> points;  // ascending time, one point per time
  std::vector<std::string> warnings;    // skipped readings and why
};

// Inflow from a discharge station (l/s converted to m3/s) or a water-level
// station through its rating curve valid at each reading's time.
Hydrograph InflowHydrograph(const Station& station, const std::vector<Reading>& readings);

// Nowcast by persistence with exponential decay: r(t0 + lead) = r0 exp(-lead / decay).
// decay = 0 holds the value (pure persistence).
double NowcastValue(double r0, std::chrono::seconds lead, std::chrono::seconds decay);
grids::RasterD NowcastRain(const grids::RasterD& last, std::chrono::seconds lead,
                           std::chrono::seconds decay);

}  // namespace floodwarn::ingest
