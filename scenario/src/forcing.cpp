// The forcing of a scenario: [rain] (uniform, per zone or gridded),
// [[inflow]] points and [[boundary]] segments.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenario_internal.hpp"

namespace floodwarn::scenario {
namespace {

namespace fs = std::filesystem;

// A rain series in mm/h (m/s once parsed) from `series` (CSV) or
// `rates_mm_per_h` (+ `times`) of table `t` at `p` ("rain", "rain.zone[0]").
TimeSeries ParseRainSeries(const Ctx& ctx, const toml::table& t, const std::string& p) {
  const toml::node* series = t.get("series");
  const toml::node* rates = t.get("rates_mm_per_h");
  const SeriesRules rules{"rate_mm_per_h", true, 1.0 / 3.6e6, {"mm/h"}};
  bool used_times = false;
  TimeSeries out;
  if (series != nullptr && rates != nullptr)
    ctx.Fail(Join(p, "rates_mm_per_h"), rates,
             fmt::format("give either {} (a CSV file) or {}, not both", Join(p, "series"),
                         Join(p, "rates_mm_per_h")));
  if (series != nullptr) {
    if (!series->is_string())
      ctx.Fail(Join(p, "series"), series,
               fmt::format("expected a CSV file path (columns time_s,rate_mm_per_h), got {}",
                           TypeName(*series)));
    out = ParseSeries(ctx, t, p, "series", rules, used_times);
  } else if (rates != nullptr) {
    if (rates->is_string())
      ctx.Fail(
          Join(p, "rates_mm_per_h"), rates,
          fmt::format("expected a number or an array (use {} for a CSV file)", Join(p, "series")));
    out = ParseSeries(ctx, t, p, "rates_mm_per_h", rules, used_times);
  } else {
    ctx.Fail(Join(p, "rates_mm_per_h"), &t,
             fmt::format("missing: give {} or {}", Join(p, "series"), Join(p, "rates_mm_per_h")));
  }
  if (t.get("times") != nullptr && !used_times)
    ctx.Fail(Join(p, "times"), t.get("times"),
             fmt::format("only used with an array {}", Join(p, "rates_mm_per_h")));
  return out;
}

// [rain] zones = raster of integer zone ids + [[rain.zone]] series: frames at
// the merged time points of all zones' series.
void ParseRainZones(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
                    ScenarioConfig& cfg) {
  const toml::node* zn = t.get("zones");
  if (!zn->is_string())
    ctx.Fail("rain.zones", zn,
             fmt::format("expected a raster path (integer zone ids), got {}", TypeName(*zn)));
  for (const char* k : {"series", "rates_mm_per_h", "times"})
    if (t.get(k) != nullptr)
      ctx.Fail(Join("rain", k), t.get(k),
               "a uniform rain series cannot be combined with rain.zones: give each zone's "
               "series in its [[rain.zone]] table");
  const std::string path = ctx.Resolve(std::string(zn->as_string()->get()));
  const grids::RasterD r = OnDemGrid(ctx, "rain.zones", zn, LoadRaster(ctx, "rain.zones", zn, path),
                                     dem, path, grids::Resample::kNearest);

  std::map<long, TimeSeries> series;
  std::map<long, std::pair<const toml::node*, std::string>> id_nodes;  // id -> node, key
  if (const toml::node* zt = t.get("zone")) {
    const toml::array* a = zt->as_array();
    if (a == nullptr || !a->is_array_of_tables())
      ctx.Fail("rain.zone", zt,
               "expected [[rain.zone]] tables (id, times + rates_mm_per_h or series)");
    for (std::size_t k = 0; k < a->size(); ++k) {
      const toml::table& z = *a->get(k)->as_table();
      const std::string p = fmt::format("rain.zone[{}]", k);
      CheckKeys(ctx, z, p, {"id", "times", "rates_mm_per_h", "series"});
      const toml::node* idn = z.get("id");
      if (idn == nullptr) ctx.Fail(Join(p, "id"), &z, "missing required key (integer zone id)");
      if (!idn->is_integer())
        ctx.Fail(Join(p, "id"), idn,
                 fmt::format("expected an integer zone id, got {}", TypeName(*idn)));
      const long id = static_cast<long>(idn->as_integer()->get());
      if (series.count(id) != 0)
        ctx.Fail(Join(p, "id"), idn, fmt::format("zone id {} is given twice", id));
      series[id] = ParseRainSeries(ctx, z, p);
      id_nodes[id] = {idn, Join(p, "id")};
    }
  } else {
    ctx.Fail("rain.zone", &t,
             "rain.zones needs [[rain.zone]] tables (id, times + rates_mm_per_h or series)");
  }

  const Domain& d = cfg.domain;
  const std::size_t n = static_cast<std::size_t>(d.nx) * d.ny;
  // Zone of each cell as an index into `zone_series` (-1: no rain).
  auto zone_series = std::make_shared<std::vector<TimeSeries>>();
  std::map<long, int> zone_index;
  for (const auto& [id, ser] : series) {
    zone_index[id] = static_cast<int>(zone_series->size());
    zone_series->push_back(ser);
  }
  auto cell_zone = std::make_shared<std::vector<int>>(n, -1);
  std::set<long> used;
  for (int row = 0; row < d.ny; ++row) {  // raster order: "first" is the north-west-most
    const int j = d.ny - 1 - row;
    for (int i = 0; i < d.nx; ++i) {
      if (dem.IsNodata(i, row) || r.IsNodata(i, row)) continue;  // no zone: no rain
      const double v = r(i, row);
      if (!std::isfinite(v) || v != std::round(v) || std::fabs(v) > 1e15)
        ctx.Fail(
            "rain.zones", zn,
            fmt::format("{}: zone ids must be integers, got {} at {}", path, v, CellText(d, i, j)));
      const long id = static_cast<long>(v);
      const auto it = series.find(id);
      if (it == series.end())
        ctx.Fail("rain.zones", zn,
                 fmt::format("{}: zone id {} (first at {}) has no [[rain.zone]] table with id = {}",
                             path, id, CellText(d, i, j), id));
      (*cell_zone)[static_cast<std::size_t>(j) * d.nx + i] = zone_index.at(id);
      used.insert(id);
    }
  }
  // A series whose zone occurs nowhere is most likely a typo in its id.
  for (const auto& [id, where] : id_nodes)
    if (used.count(id) == 0)
      ctx.Fail(where.second, where.first,
               fmt::format("zone id {} does not occur in {} inside the DEM", id, path));
  std::vector<double> times;
  for (const auto& [id, s] : series) times.insert(times.end(), s.times().begin(), s.times().end());
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  cfg.rain_frame_times = times;
  // Frames are made on demand from the zone map and the zones' series.
  cfg.rain_frames = RainFrames(times.size(), [times, zone_series, cell_zone](std::size_t k) {
    std::vector<double> rate_of_zone(zone_series->size());
    for (std::size_t z = 0; z < zone_series->size(); ++z)
      rate_of_zone[z] = (*zone_series)[z].At(times.at(k));
    std::vector<double> frame(cell_zone->size(), 0.0);
    for (std::size_t c = 0; c < frame.size(); ++c)
      if ((*cell_zone)[c] >= 0) frame[c] = rate_of_zone[static_cast<std::size_t>((*cell_zone)[c])];
    return frame;
  });
}

// [rain] grid = multi-band raster (band b = frame at times[b-1]) + times + kind.
void ParseRainGrid(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
                   ScenarioConfig& cfg) {
  const toml::node* gn = t.get("grid");
  if (!gn->is_string())
    ctx.Fail("rain.grid", gn,
             fmt::format("expected a raster path (one band per time), got {}", TypeName(*gn)));
  for (const char* k : {"series", "rates_mm_per_h", "zones", "zone"})
    if (t.get(k) != nullptr)
      ctx.Fail(Join("rain", k), t.get(k), "cannot be combined with rain.grid");
  const toml::node* tn = t.get("times");
  if (tn == nullptr) ctx.Fail("rain.times", &t, "missing: rain.grid needs times (s), one per band");
  const std::vector<double> times = AsNumberArray(ctx, *tn, "rain.times");
  CheckStrictlyIncreasing(ctx, times, "rain.times", tn);
  const std::string kind = GetString(ctx, t, "rain", "kind").value_or("rate_mm_per_h");
  const bool accumulation = kind == "accumulation_mm";
  if (!accumulation && kind != "rate_mm_per_h")
    ctx.Fail("rain.kind", t.get("kind"),
             fmt::format("expected \"rate_mm_per_h\" or \"accumulation_mm\", got \"{}\"", kind));
  if (accumulation && !(times.front() > 0))
    ctx.Fail("rain.times", tn,
             "with kind = \"accumulation_mm\" each band is the accumulation over the interval "
             "ending at its time (the first from 0 s): times must be > 0");
  const std::string path = ctx.Resolve(std::string(gn->as_string()->get()));
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    ctx.Fail("rain.grid", gn, fmt::format("file not found: {}", path));
  std::string source = path;
  std::string source_key = "rain.grid";
  const toml::node* source_node = gn;
  if (const auto var = GetString(ctx, t, "rain", "variable")) {
    source = fmt::format("NETCDF:\"{}\":{}", path, *var);
    source_key = "rain.variable";
    source_node = t.get("variable");
  }
  const std::size_t nb = times.size();
  // Reads band b + 1 onto the solver grid (m/s); `fail` reports a problem
  // (and throws). Used once per band here, to check every band before the
  // run starts, and again band by band while the run goes on.
  struct GridSource {
    std::string source, path, kind;
    std::vector<double> times;
    bool accumulation;
    grids::RasterD dem;
    int nx, ny;
    std::vector<double> Frame(std::size_t b, const FailFn& fail, bool warn) const {
      grids::RasterD band;
      try {
        band = grids::ReadRaster(source, static_cast<int>(b + 1));
      } catch (const std::exception& e) {
        fail(
            fmt::format("{}: band {} (for rain.times[{}]) cannot be read (rain.times has {} "
                        "entries, one per band): {}",
                        source, b + 1, b, times.size(), e.what()));
      }
      const grids::RasterD r =
          OnDemGridOr(fail, warn ? "rain.grid" : "", band, dem, path, grids::Resample::kBilinear);
      const double scale =
          accumulation ? 1.0 / (1000.0 * (times[b] - (b == 0 ? 0.0 : times[b - 1]))) : 1.0 / 3.6e6;
      std::vector<double> frame(static_cast<std::size_t>(nx) * ny, 0.0);
      for (int row = 0; row < ny; ++row) {
        const int j = ny - 1 - row;
        for (int i = 0; i < nx; ++i) {
          if (dem.IsNodata(i, row)) continue;
          const double v =
              r.IsNodata(i, row) ? std::numeric_limits<double>::quiet_NaN() : r(i, row);
          if (!(v >= 0) || !std::isfinite(v))
            fail(
                fmt::format("{}: band {} (t = {} s): values inside the DEM must be finite and "
                            ">= 0 {}, got {} at column {}, row {} (x = {}, y = {})",
                            path, b + 1, times[b], kind, v, i, row, dem.geo().CellCenterX(i),
                            dem.geo().CellCenterY(row)));
          frame[static_cast<std::size_t>(j) * nx + i] = v * scale;
        }
      }
      return frame;
    }
  };
  auto grid = std::make_shared<const GridSource>(
      GridSource{source, path, kind, times, accumulation, dem, cfg.domain.nx, cfg.domain.ny});
  const FailFn at_load = [&](const std::string& what) { ctx.Fail(source_key, source_node, what); };
  for (std::size_t b = 0; b < nb; ++b) grid->Frame(b, at_load, /*warn=*/b == 0);
  bool extra = false;
  try {
    grids::ReadRaster(source, static_cast<int>(nb + 1));
    extra = true;
  } catch (const std::exception&) {
  }
  if (extra)
    ctx.Fail(
        "rain.times", tn,
        fmt::format("{} has more bands than rain.times has entries ({}): give one time per band",
                    source, nb));
  cfg.rain_frame_times = times;
  cfg.rain_frames = RainFrames(nb, [grid](std::size_t b) {
    return grid->Frame(
        b, [](const std::string& what) { throw std::runtime_error("rain.grid: " + what); }, false);
  });
  cfg.rain_frames_stepwise = accumulation;
}

}  // namespace

void ParseRain(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
               ScenarioConfig& cfg) {
  const std::string p = "rain";
  CheckKeys(ctx, t, p,
            {"series", "times", "rates_mm_per_h", "zones", "zone", "grid", "kind", "variable"});
  if (t.get("grid") != nullptr) {
    ParseRainGrid(ctx, t, dem, cfg);
    return;
  }
  for (const char* k : {"kind", "variable"})
    if (t.get(k) != nullptr) ctx.Fail(Join(p, k), t.get(k), "only used with rain.grid");
  if (t.get("zones") != nullptr) {
    ParseRainZones(ctx, t, dem, cfg);
    return;
  }
  if (t.get("zone") != nullptr)
    ctx.Fail("rain.zone", t.get("zone"), "[[rain.zone]] tables need rain.zones (a zone raster)");
  cfg.rain_m_per_s = ParseRainSeries(ctx, t, p);
}

void ParseInflows(const Ctx& ctx, const toml::array& a, ScenarioConfig& cfg) {
  for (std::size_t k = 0; k < a.size(); ++k) {
    const toml::table& t = *a.get(k)->as_table();
    const std::string p = fmt::format("inflow[{}]", k);
    CheckKeys(ctx, t, p, {"name", "x", "y", "discharge", "times"});
    PointInflow in;
    in.name = GetString(ctx, t, p, "name").value_or(fmt::format("inflow{}", k));
    CheckName(ctx, Join(p, "name"), t.get("name"), in.name);
    in.x = RequireNumber(ctx, t, p, "x");
    in.y = RequireNumber(ctx, t, p, "y");
    int i = 0, j = 0;
    LocatePoint(ctx, p, &t, cfg, in.x, in.y, i, j);
    bool used_times = false;
    in.discharge =
        ParseSeries(ctx, t, p, "discharge",
                    {"discharge_m3s", true, 1.0, {"m3/s", "m³/s", "m^3/s", "cumec"}}, used_times);
    if (t.get("times") != nullptr && !used_times)
      ctx.Fail(Join(p, "times"), t.get("times"), "only used with an array 'discharge'");
    cfg.inflows.push_back(std::move(in));
  }
}

void ParseBoundaries(const Ctx& ctx, const toml::array& a, ScenarioConfig& cfg) {
  const Domain& d = cfg.domain;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const toml::table& t = *a.get(k)->as_table();
    const std::string p = fmt::format("boundary[{}]", k);
    CheckKeys(ctx, t, p, {"name", "edge", "kind", "from", "to", "level", "discharge", "times"});
    BoundarySegment b;
    b.name = GetString(ctx, t, p, "name").value_or(fmt::format("boundary{}", k));

    const auto edge = GetString(ctx, t, p, "edge");
    if (!edge) ctx.Fail(Join(p, "edge"), &t, "missing required key (west, east, south or north)");
    if (*edge == "west")
      b.edge = Edge::kWest;
    else if (*edge == "east")
      b.edge = Edge::kEast;
    else if (*edge == "south")
      b.edge = Edge::kSouth;
    else if (*edge == "north")
      b.edge = Edge::kNorth;
    else
      ctx.Fail(Join(p, "edge"), t.get("edge"),
               fmt::format("expected west, east, south or north, got '{}'", *edge));

    const auto kind = GetString(ctx, t, p, "kind");
    if (!kind)
      ctx.Fail(Join(p, "kind"), &t, "missing required key (wall, outflow, level or inflow)");
    if (*kind == "wall")
      b.kind = BoundaryKind::kWall;
    else if (*kind == "outflow")
      b.kind = BoundaryKind::kOutflow;
    else if (*kind == "level")
      b.kind = BoundaryKind::kLevel;
    else if (*kind == "inflow")
      b.kind = BoundaryKind::kInflow;
    else
      ctx.Fail(Join(p, "kind"), t.get("kind"),
               fmt::format("expected wall, outflow, level or inflow, got '{}'", *kind));

    const auto from = GetNumber(ctx, t, p, "from");
    const auto to = GetNumber(ctx, t, p, "to");
    if (from.has_value() != to.has_value())
      ctx.Fail(Join(p, from ? "to" : "from"), &t,
               "'from' and 'to' go together (or neither, for the whole edge)");
    const bool along_y = b.edge == Edge::kWest || b.edge == Edge::kEast;
    if (from) {
      if (!(*from < *to))
        ctx.Fail(Join(p, "to"), t.get("to"),
                 fmt::format("must be > from ({}), got {}", *from, *to));
      b.from = *from;
      b.to = *to;
      int cells = 0;
      const int n = along_y ? d.ny : d.nx;
      for (int c = 0; c < n; ++c) {
        const double centre = along_y ? d.CellY(c) : d.CellX(c);
        if (centre >= *from && centre <= *to) ++cells;
      }
      if (cells == 0)
        ctx.Fail(Join(p, "from"), t.get("from"),
                 fmt::format("[{}, {}] contains no cell centre of the {} edge ({} from {} to {})",
                             *from, *to, *edge, along_y ? "y" : "x", along_y ? d.y_south : d.x_west,
                             along_y ? d.y_south + d.ny * d.dy : d.x_west + d.nx * d.dx));
    }

    bool used_times = false;
    const toml::node* level = t.get("level");
    const toml::node* q = t.get("discharge");
    if (b.kind == BoundaryKind::kLevel) {
      if (q != nullptr)
        ctx.Fail(Join(p, "discharge"), q, "not used by kind = \"level\" (give 'level')");
      b.series = ParseSeries(
          ctx, t, p, "level",
          {"level_m", false, 1.0, {"m", "m NHN", "m ü. NHN", "mNN", "m NN", "m+NHN"}}, used_times);
    } else if (b.kind == BoundaryKind::kInflow) {
      if (level != nullptr)
        ctx.Fail(Join(p, "level"), level, "not used by kind = \"inflow\" (give 'discharge')");
      b.series =
          ParseSeries(ctx, t, p, "discharge",
                      {"discharge_m3s", true, 1.0, {"m3/s", "m³/s", "m^3/s", "cumec"}}, used_times);
    } else {
      if (level != nullptr)
        ctx.Fail(Join(p, "level"), level, fmt::format("not used by kind = \"{}\"", *kind));
      if (q != nullptr)
        ctx.Fail(Join(p, "discharge"), q, fmt::format("not used by kind = \"{}\"", *kind));
    }
    if (t.get("times") != nullptr && !used_times)
      ctx.Fail(Join(p, "times"), t.get("times"), "only used with an array 'level' or 'discharge'");
    cfg.boundaries.push_back(std::move(b));
  }
}

}  // namespace floodwarn::scenario
