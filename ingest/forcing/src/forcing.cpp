// Forcing builders (see forcing.hpp).
#include "floodwarn/ingest/forcing.hpp"

#include <cpl_error.h>
#include <fmt/format.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "floodwarn/ingest/rating.hpp"

namespace floodwarn::ingest {

bool UsableForForcing(const Reading& r) {
  return (r.flag == QcFlag::kPass || r.flag == QcFlag::kSuspect ||
          r.flag == QcFlag::kNotEvaluated) &&
         std::isfinite(r.value);
}

grids::RasterD IdwField(const std::vector<GaugePoint>& gauges, const grids::GeoTransform& gt,
                        int cols, int rows, const std::string& crs_wkt, const IdwOptions& options) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  grids::RasterD out(cols, rows, gt, nan);
  out.set_crs_wkt(crs_wkt);
  for (int r = 0; r < rows; ++r) {
    const double y = gt.CellCenterY(r);
    for (int c = 0; c < cols; ++c) {
      const double x = gt.CellCenterX(c);
      double wsum = 0.0;
      double vsum = 0.0;
      bool exact = false;
      for (const GaugePoint& g : gauges) {
        const double d = std::hypot(g.x - x, g.y - y);
        if (d <= 1e-9) {
          out(c, r) = g.value;
          exact = true;
          break;
        }
        if (options.max_distance && d > *options.max_distance) continue;
        const double w = 1.0 / std::pow(d, options.power);
        wsum += w;
        vsum += w * g.value;
      }
      if (!exact && wsum > 0) out(c, r) = vsum / wsum;
    }
  }
  return out;
}

namespace {

// Station location -> (x, y) in the CRS `wkt`.
std::pair<double, double> LocationIn(const Station& s, const std::string& wkt) {
  const Location& l = s.location;
  if (wkt.empty()) {
    if (l.x && l.y) return {*l.x, *l.y};
    throw std::runtime_error(fmt::format(
        "station '{}': the grid has no CRS, so the location must be given as x/y", s.id));
  }
  CPLPushErrorHandler(CPLQuietErrorHandler);
  struct Pop {
    ~Pop() { CPLPopErrorHandler(); }
  } pop;
  OGRSpatialReference src;
  OGRSpatialReference dst;
  if (src.importFromEPSG(l.lat ? 4326 : l.epsg) != OGRERR_NONE ||
      dst.SetFromUserInput(wkt.c_str()) != OGRERR_NONE)
    throw std::runtime_error(fmt::format("station '{}': unknown CRS", s.id));
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
  double x = l.lat ? *l.lon : *l.x;
  double y = l.lat ? *l.lat : *l.y;
  if (!ct || !ct->Transform(1, &x, &y))
    throw std::runtime_error(
        fmt::format("station '{}': location cannot be transformed into the grid's CRS", s.id));
  return {x, y};
}

}  // namespace

grids::RasterD RainGaugeField(const StationRegistry& stations, const std::vector<Reading>& readings,
                              TimePoint t, const grids::GeoTransform& gt, int cols, int rows,
                              const std::string& crs_wkt, const IdwOptions& options) {
  std::vector<GaugePoint> gauges;
  for (const Station& s : stations.stations()) {
    if (s.kind != Quantity::kRainfall) continue;
    const Reading* best = nullptr;
    for (const Reading& r : readings) {
      if (r.station_id != s.id || !UsableForForcing(r)) continue;
      if (r.observed >= t && r.observed - s.expected_interval < t &&
          (best == nullptr || r.observed < best->observed))
        best = &r;
    }
    if (best == nullptr) continue;
    const double hours = std::chrono::duration<double>(s.expected_interval).count() / 3600.0;
    const auto [x, y] = LocationIn(s, crs_wkt);
    gauges.push_back({x, y, best->value / hours});
  }
  return IdwField(gauges, gt, cols, rows, crs_wkt, options);
}

Hydrograph InflowHydrograph(const Station& station, const std::vector<Reading>& readings) {
  Hydrograph h;
  h.station_id = station.id;
  std::vector<const Reading*> rs;
  for (const Reading& r : readings)
    if (r.station_id == station.id) rs.push_back(&r);
  std::stable_sort(rs.begin(), rs.end(),
                   [](const Reading* a, const Reading* b) { return a->observed < b->observed; });
  for (const Reading* r : rs) {
    if (!UsableForForcing(*r)) {
      h.warnings.push_back(fmt::format("{} at {} ms: not used ({}{}{})", station.id,
                                       r->observed.time_since_epoch().count(), ToString(r->flag),
                                       r->reason.empty() ? "" : ": ", r->reason));
      continue;
    }
    HydrographPoint p;
    p.t = r->observed;
    if (station.kind == Quantity::kDischarge) {
      p.discharge = r->unit == "l/s" ? r->value / 1000.0 : r->value;
    } else if (station.kind == Quantity::kWaterLevel) {
      if (!r->unit.empty() && r->unit != station.unit) {
        h.warnings.push_back(fmt::format("{}: reading in '{}', the rating expects '{}'", station.id,
                                         r->unit, station.unit));
        continue;
      }
      auto q = EvaluateRating(station, r->observed, r->value);
      if (!q) {
        h.warnings.push_back(fmt::format("{}: no rating curve valid at {} ms", station.id,
                                         r->observed.time_since_epoch().count()));
        continue;
      }
      p.discharge = q->discharge;
      p.extrapolated = q->extrapolated;
    } else {
      h.warnings.push_back(fmt::format("{}: a rainfall station gives no inflow", station.id));
      break;
    }
    if (!h.points.empty() && h.points.back().t == p.t)
      h.points.back() = p;  // one point per time: the later reading wins
    else
      h.points.push_back(p);
  }
  return h;
}

double NowcastValue(double r0, std::chrono::seconds lead, std::chrono::seconds decay) {
  if (decay.count() <= 0 || lead.count() <= 0) return r0;
  return r0 * std::exp(-static_cast<double>(lead.count()) / static_cast<double>(decay.count()));
}

grids::RasterD NowcastRain(const grids::RasterD& last, std::chrono::seconds lead,
                           std::chrono::seconds decay) {
  grids::RasterD out = last;
  const double f = NowcastValue(1.0, lead, decay);
  for (double& v : out.data())
    if (!last.nodata() || v != *last.nodata()) v *= f;
  return out;
}

}  // namespace floodwarn::ingest
