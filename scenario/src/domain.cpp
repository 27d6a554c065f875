// [domain] (terrain, roughness, initial water, buildings) and [infiltration].
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
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenario_internal.hpp"

namespace floodwarn::scenario {
namespace {

// [manning_table]: land-use class code (a TOML key such as "1") -> Manning n.
std::map<long, double> ParseManningTable(const Ctx& ctx, const toml::table& t) {
  std::map<long, double> out;
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    const std::string full = Join("manning_table", key);
    char* end = nullptr;
    const long code = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || end == key.c_str() || *end != '\0')
      ctx.Fail(full, &v,
               fmt::format("expected an integer land-use class code as the key, got '{}'", key));
    const double n = AsNumber(ctx, v, full);
    if (n < 0) ctx.Fail(full, &v, fmt::format("Manning n must be >= 0, got {}", n));
    if (!out.emplace(code, n).second)
      ctx.Fail(full, &v, fmt::format("class {} is given twice", code));
  }
  if (out.empty()) ctx.Fail("manning_table", &t, "is empty (give class = n pairs)");
  return out;
}

// domain.buildings: a mask raster (nonzero = building, nodata = none) on the
// DEM's grid (nearest-neighbour resampling). building_mode "blocked" (default)
// makes building cells inactive, walls exactly like DEM nodata; "raised" keeps
// them active with the bed raised by building_height, so water ponds against
// them and overtops them when deep enough. Runs before any per-cell parameter
// and before the points are located, so all of them see the final mask.
void ApplyBuildings(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
                    ScenarioConfig& cfg) {
  const toml::node* bn = t.get("buildings");
  const toml::node* mode_node = t.get("building_mode");
  const toml::node* height_node = t.get("building_height");
  if (bn == nullptr) {
    if (mode_node != nullptr)
      ctx.Fail("domain.building_mode", mode_node, "only used with domain.buildings");
    if (height_node != nullptr)
      ctx.Fail("domain.building_height", height_node, "only used with domain.buildings");
    return;
  }
  const std::string mode = GetString(ctx, t, "domain", "building_mode").value_or("blocked");
  if (mode != "blocked" && mode != "raised")
    ctx.Fail("domain.building_mode", mode_node,
             fmt::format("expected blocked or raised, got '{}'", mode));
  const bool raised = mode == "raised";
  if (!raised && height_node != nullptr)
    ctx.Fail("domain.building_height", height_node, "only used with domain.building_mode = raised");
  const double height = GetNumber(ctx, t, "domain", "building_height").value_or(10.0);
  if (height < 0)
    ctx.Fail("domain.building_height", height_node, fmt::format("must be >= 0 m, got {}", height));
  if (!bn->is_string())
    ctx.Fail("domain.buildings", bn,
             fmt::format("expected a raster path (nonzero = building), got {}", TypeName(*bn)));
  const std::string path = ctx.Resolve(std::string(bn->as_string()->get()));
  grids::RasterD mask = LoadRaster(ctx, "domain.buildings", bn, path);
  // 0/1 before resampling: the raster's nodata means "no building", not a gap.
  for (int row = 0; row < mask.rows(); ++row)
    for (int col = 0; col < mask.cols(); ++col)
      mask(col, row) = !mask.IsNodata(col, row) && mask(col, row) != 0 ? 1.0 : 0.0;
  mask.set_nodata(std::nullopt);
  mask = OnDemGrid(ctx, "domain.buildings", bn, mask, dem, path, grids::Resample::kNearest);

  Domain& d = cfg.domain;
  cfg.buildings.assign(d.active.size(), 0);
  std::size_t count = 0, left = 0;
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const std::size_t k = d.Index(i, j);
      const int row = d.ny - 1 - j;
      if (d.active[k] && !mask.IsNodata(i, row) && mask(i, row) != 0) {
        cfg.buildings[k] = 1;
        ++count;
        if (raised)
          d.bed[k] += height;
        else
          d.active[k] = 0;
      }
      left += d.active[k];
    }
  }
  if (left == 0)
    ctx.Fail(
        "domain.buildings", bn,
        fmt::format("{}: buildings cover every cell of the DEM, no active cell is left", path));
  spdlog::info("buildings file={} cells={} mode={}{}", path, count, mode,
               raised ? fmt::format(" height_m={}", height) : "");
}

}  // namespace

grids::RasterD ParseDomain(const Ctx& ctx, const toml::table& t, const toml::table& root,
                           ScenarioConfig& cfg) {
  const std::string p = "domain";
  CheckKeys(ctx, t, p,
            {"dem", "manning", "landuse", "initial_depth", "initial_wse", "buildings",
             "building_mode", "building_height"});
  const auto dem_rel = GetString(ctx, t, p, "dem");
  if (!dem_rel)
    ctx.Fail("domain.dem", &t,
             "missing required key (path of a DEM raster: GeoTIFF, ESRI ASCII, NetCDF, ...)");
  cfg.dem_path = ctx.Resolve(*dem_rel);
  grids::RasterD dem = LoadRaster(ctx, "domain.dem", t.get("dem"), cfg.dem_path);
  cfg.geo = dem.geo();
  cfg.crs_wkt = dem.crs_wkt();
  if (dem.nodata()) cfg.nodata = *dem.nodata();

  Domain& d = cfg.domain;
  d.nx = dem.cols();
  d.ny = dem.rows();
  d.dx = cfg.geo.cell_width;
  d.dy = cfg.geo.cell_height;
  d.x_west = cfg.geo.x_west;
  d.y_south = cfg.geo.y_north - dem.rows() * cfg.geo.cell_height;
  const std::size_t n = static_cast<std::size_t>(d.nx) * d.ny;
  d.bed.assign(n, 0.0);
  d.active.assign(n, 0);
  std::size_t active = 0;
  double max_bed = -std::numeric_limits<double>::infinity();
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const int row = d.ny - 1 - j;
      if (dem.IsNodata(i, row)) continue;
      const double z = dem(i, row);
      if (!std::isfinite(z))
        ctx.Fail("domain.dem", t.get("dem"),
                 fmt::format("{}: non-finite elevation at {}", cfg.dem_path, CellText(d, i, j)));
      d.bed[d.Index(i, j)] = z;
      d.active[d.Index(i, j)] = 1;
      max_bed = std::max(max_bed, z);
      ++active;
    }
  }
  if (active == 0)
    ctx.Fail("domain.dem", t.get("dem"), fmt::format("{}: every cell is nodata", cfg.dem_path));
  ApplyBuildings(ctx, t, dem, cfg);
  max_bed = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < n; ++k)
    if (d.active[k]) max_bed = std::max(max_bed, d.bed[k]);
  for (std::size_t k = 0; k < n; ++k)
    if (!d.active[k]) d.bed[k] = max_bed;  // walls; the value is never used

  // Manning n: a number or raster (`manning`), or land-use classes through
  // [manning_table] (`landuse`).
  const toml::node* mn = t.get("manning");
  const toml::node* lu = t.get("landuse");
  const toml::node* table_node = root.get("manning_table");
  if (mn != nullptr && lu != nullptr)
    ctx.Fail("domain.landuse", lu, "give either domain.manning or domain.landuse, not both");
  if (mn == nullptr && lu == nullptr)
    ctx.Fail("domain.manning", &t,
             "missing required key (Manning n in s/m^(1/3): a number or a raster path; or "
             "domain.landuse with a [manning_table])");
  if (lu == nullptr && table_node != nullptr)
    ctx.Fail("manning_table", table_node, "only used with domain.landuse");
  bool uniform = false;
  if (lu != nullptr) {
    if (!lu->is_string())
      ctx.Fail("domain.landuse", lu,
               fmt::format("expected a raster path (integer class codes), got {}", TypeName(*lu)));
    const toml::table* table = GetTable(ctx, root, "", "manning_table", false);
    if (table == nullptr)
      ctx.Fail("manning_table", &root,
               "missing: domain.landuse needs a [manning_table] mapping class codes to Manning n");
    const std::map<long, double> n_of = ParseManningTable(ctx, *table);
    const std::vector<double> cls =
        NumberOrRaster(ctx, *lu, "domain.landuse", dem, uniform, grids::Resample::kNearest);
    d.manning.assign(n, 0.0);
    for (int j = 0; j < d.ny; ++j) {
      for (int i = 0; i < d.nx; ++i) {
        const std::size_t k = d.Index(i, j);
        if (!d.active[k]) continue;
        const double c = cls[k];
        if (std::isnan(c))
          ctx.Fail("domain.landuse", lu,
                   fmt::format("nodata at {}, a cell inside the DEM", CellText(d, i, j)));
        if (c != std::floor(c) || std::abs(c) > 1e15)
          ctx.Fail("domain.landuse", lu,
                   fmt::format("class codes must be integers, got {} at {}", c, CellText(d, i, j)));
        const auto it = n_of.find(static_cast<long>(c));
        if (it == n_of.end())
          ctx.Fail("manning_table", table,
                   fmt::format("no Manning n for land-use class {} (first at {} of {})",
                               static_cast<long>(c), CellText(d, i, j), "domain.landuse"));
        d.manning[k] = it->second;
      }
    }
  } else {
    std::vector<double> manning =
        NumberOrRaster(ctx, *mn, "domain.manning", dem, uniform, grids::Resample::kNearest);
    if (uniform) {
      if (manning[0] < 0)
        ctx.Fail("domain.manning", mn, fmt::format("must be >= 0, got {}", manning[0]));
      d.manning = {manning[0]};
    } else {
      for (int j = 0; j < d.ny; ++j) {
        for (int i = 0; i < d.nx; ++i) {
          const std::size_t k = d.Index(i, j);
          if (!d.active[k]) {
            manning[k] = 0.0;
            continue;
          }
          if (std::isnan(manning[k]))
            ctx.Fail("domain.manning", mn,
                     fmt::format("nodata at {}, a cell inside the DEM", CellText(d, i, j)));
          if (manning[k] < 0)
            ctx.Fail("domain.manning", mn,
                     fmt::format("must be >= 0, got {} at {}", manning[k], CellText(d, i, j)));
        }
      }
      d.manning = std::move(manning);
    }
  }

  // Initial water: depth or water-surface elevation, not both (default dry).
  const toml::node* hd = t.get("initial_depth");
  const toml::node* hw = t.get("initial_wse");
  if (hd != nullptr && hw != nullptr)
    ctx.Fail("domain.initial_wse", hw,
             "give either domain.initial_depth or domain.initial_wse, not both");
  cfg.initial_depth.assign(n, 0.0);
  if (hd != nullptr) {
    std::vector<double> h =
        NumberOrRaster(ctx, *hd, "domain.initial_depth", dem, uniform, grids::Resample::kBilinear);
    for (int j = 0; j < d.ny; ++j) {
      for (int i = 0; i < d.nx; ++i) {
        const std::size_t k = d.Index(i, j);
        if (!d.active[k] || std::isnan(h[k])) continue;  // nodata = dry
        if (h[k] < 0)
          ctx.Fail("domain.initial_depth", hd,
                   uniform ? fmt::format("must be >= 0, got {}", h[k])
                           : fmt::format("must be >= 0, got {} at {}", h[k], CellText(d, i, j)));
        cfg.initial_depth[k] = h[k];
      }
    }
  } else if (hw != nullptr) {
    std::vector<double> w =
        NumberOrRaster(ctx, *hw, "domain.initial_wse", dem, uniform, grids::Resample::kBilinear);
    for (std::size_t k = 0; k < n; ++k) {
      if (!d.active[k] || std::isnan(w[k])) continue;  // nodata = dry
      cfg.initial_depth[k] = std::max(0.0, w[k] - d.bed[k]);
    }
  }
  return dem;
}

// [infiltration]: model and its parameters, each a number or a raster path
// (nearest-neighbour resampling: soil classes).
void ParseInfiltration(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
                       ScenarioConfig& cfg) {
  const std::string p = "infiltration";
  const auto model = GetString(ctx, t, p, "model");
  if (!model) ctx.Fail("infiltration.model", &t, "missing required key (green_ampt or horton)");
  Infiltration& inf = cfg.infiltration;
  std::vector<std::pair<const char*, std::vector<double>*>> params;
  if (*model == "green_ampt") {
    CheckKeys(ctx, t, p, {"model", "ks", "psi", "dtheta", "initial_infiltration"});
    inf.model = InfiltrationModel::kGreenAmpt;
    params = {{"ks", &inf.ks}, {"psi", &inf.psi}, {"dtheta", &inf.dtheta}};
    if (t.get("initial_infiltration") != nullptr)
      params.push_back({"initial_infiltration", &inf.initial_f});
  } else if (*model == "horton") {
    CheckKeys(ctx, t, p, {"model", "f0", "fc", "k"});
    inf.model = InfiltrationModel::kHorton;
    params = {{"f0", &inf.f0}, {"fc", &inf.fc}, {"k", &inf.k}};
  } else {
    ctx.Fail("infiltration.model", t.get("model"),
             fmt::format("expected green_ampt or horton, got '{}'", *model));
  }
  const Domain& d = cfg.domain;
  for (const auto& [key, dst] : params) {
    const std::string full = Join(p, key);
    const toml::node* node = t.get(key);
    if (node == nullptr) ctx.Fail(full, &t, "missing required key (a number or a raster path)");
    bool uniform = false;
    std::vector<double> v =
        NumberOrRaster(ctx, *node, full, dem, uniform, grids::Resample::kNearest);
    const bool strictly = std::string(key) == "initial_infiltration";
    auto check = [&](double x, const std::string& where) {
      if (std::isnan(x))
        ctx.Fail(full, node, fmt::format("nodata at {}, a cell inside the DEM", where));
      if (strictly ? !(x > 0) : !(x >= 0))
        ctx.Fail(full, node,
                 fmt::format("must be {} 0, got {}{}", strictly ? ">" : ">=", x,
                             where.empty() ? "" : " at " + where));
    };
    if (uniform) {
      check(v[0], "");
      *dst = {v[0]};
      continue;
    }
    for (int j = 0; j < d.ny; ++j) {
      for (int i = 0; i < d.nx; ++i) {
        const std::size_t k = d.Index(i, j);
        if (!d.active[k]) {
          v[k] = strictly ? 1.0 : 0.0;  // never used
          continue;
        }
        check(v[k], CellText(d, i, j));
      }
    }
    *dst = std::move(v);
  }
  if (inf.model == InfiltrationModel::kHorton) {
    for (std::size_t k = 0; k < d.active.size(); ++k) {
      const double f0 = inf.f0.size() == 1 ? inf.f0[0] : inf.f0[k];
      const double fc = inf.fc.size() == 1 ? inf.fc[0] : inf.fc[k];
      if (d.active[k] && fc > f0)
        ctx.Fail("infiltration.fc", t.get("fc"),
                 fmt::format("must be <= infiltration.f0 ({}), got {}{}", f0, fc,
                             inf.fc.size() == 1 && inf.f0.size() == 1
                                 ? ""
                                 : " at " + CellText(d, static_cast<int>(k % d.nx),
                                                     static_cast<int>(k / d.nx))));
    }
  }
}

}  // namespace floodwarn::scenario
