// Rasters on the DEM's grid (any GDAL format, resampled when another grid in
// the same CRS) and the one adapter between solver fields (row j = 0 south,
// [j * nx + i]) and north-up rasters.
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

namespace fs = std::filesystem;

}  // namespace

grids::RasterD LoadRaster(const Ctx& ctx, const std::string& key, const toml::node* node,
                          const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ctx.Fail(key, node, fmt::format("file not found: {}", path));
  try {
    return grids::ReadRaster(path);  // any GDAL format: GeoTIFF, ESRI ASCII, NetCDF, ...
  } catch (const std::exception& e) {
    ctx.Fail(key, node, e.what());
  }
}

grids::RasterD OnDemGridOr(const FailFn& fail_fn, const std::string& warn_key,
                           const grids::RasterD& r, const grids::RasterD& dem,
                           const std::string& path, grids::Resample method) {
  auto fail = [&](const std::string& what) {
    fail_fn(what);
    throw std::logic_error("OnDemGridOr: the fail callback returned");
  };
  const auto& a = r.geo();
  const auto& b = dem.geo();
  bool same_crs = true;
  try {
    same_crs =
        r.crs_wkt().empty() || dem.crs_wkt().empty() || grids::SameCrs(r.crs_wkt(), dem.crs_wkt());
  } catch (const std::exception& e) {
    fail(fmt::format("{}: {}", path, e.what()));
  }
  if (!same_crs)
    fail(
        fmt::format("raster {} is in another coordinate reference system than the DEM; "
                    "reproject it onto the DEM's CRS first",
                    path));
  if (r.cols() == dem.cols() && r.rows() == dem.rows() && a.SameGrid(b)) return r;
  const std::string grid_text = fmt::format(
      "raster {} ({}x{} cells, west {}, north {}, cell {}x{}) does not match the "
      "DEM's grid ({}x{} cells, west {}, north {}, cell {}x{})",
      path, r.cols(), r.rows(), a.x_west, a.y_north, a.cell_width, a.cell_height, dem.cols(),
      dem.rows(), b.x_west, b.y_north, b.cell_width, b.cell_height);
  grids::RasterD out;
  try {
    out = grids::ResampleTo(r, b, dem.cols(), dem.rows(), dem.crs_wkt(), method);
  } catch (const std::exception& e) {
    fail(fmt::format("{}; resampling it failed: {}", grid_text, e.what()));
  }
  for (int row = 0; row < dem.rows(); ++row)
    for (int col = 0; col < dem.cols(); ++col)
      if (!dem.IsNodata(col, row) && out.IsNodata(col, row))
        fail(
            fmt::format("{}, and resampled onto it leaves DEM cells without data (first at "
                        "column {}, row {})",
                        grid_text, col, row));
  if (!warn_key.empty())
    spdlog::warn("{}: {}; resampled onto the DEM's grid ({})", warn_key, grid_text,
                 method == grids::Resample::kNearest ? "nearest neighbour" : "bilinear");
  return out;
}

grids::RasterD OnDemGrid(const Ctx& ctx, const std::string& key, const toml::node* node,
                         const grids::RasterD& r, const grids::RasterD& dem,
                         const std::string& path, grids::Resample method) {
  return OnDemGridOr([&](const std::string& what) { ctx.Fail(key, node, what); }, key, r, dem, path,
                     method);
}

// A number, or a raster path on the DEM's grid; returns per solver cell values
// (nodata cells of the raster as NaN).
std::vector<double> NumberOrRaster(const Ctx& ctx, const toml::node& n, const std::string& key,
                                   const grids::RasterD& dem, bool& uniform,
                                   grids::Resample method) {
  const int nx = dem.cols(), ny = dem.rows();
  std::vector<double> out(static_cast<std::size_t>(nx) * ny);
  if (n.is_number()) {
    uniform = true;
    std::fill(out.begin(), out.end(), AsNumber(ctx, n, key));
    return out;
  }
  if (!n.is_string())
    ctx.Fail(key, &n, fmt::format("expected a number or a raster path, got {}", TypeName(n)));
  uniform = false;
  const std::string path = ctx.Resolve(std::string(n.as_string()->get()));
  const grids::RasterD r =
      OnDemGrid(ctx, key, &n, LoadRaster(ctx, key, &n, path), dem, path, method);
  for (int j = 0; j < ny; ++j) {
    const int row = ny - 1 - j;
    for (int i = 0; i < nx; ++i)
      out[static_cast<std::size_t>(j) * nx + i] =
          r.IsNodata(i, row) ? std::numeric_limits<double>::quiet_NaN() : r(i, row);
  }
  return out;
}

std::string CellText(const Domain& d, int i, int j) {
  return fmt::format("column {}, row {} (x = {}, y = {})", i, d.ny - 1 - j, d.CellX(i), d.CellY(j));
}

// A solver field (j = 0 south) as a north-up raster; inactive cells nodata.
grids::RasterD ToRaster(const ScenarioConfig& cfg, const std::vector<double>& field) {
  const Domain& d = cfg.domain;
  grids::RasterD r(d.nx, d.ny, cfg.geo, cfg.nodata);
  r.set_nodata(cfg.nodata);
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i)
      if (d.active[d.Index(i, j)]) r(i, d.ny - 1 - j) = field[d.Index(i, j)];
  return r;
}

// A solver field as north-up values for NetCDF: NaN outside the domain and,
// when `dry_nan`, where the depth is at most the dry depth.
std::vector<double> NorthUp(const ScenarioConfig& cfg, const std::vector<double>& field,
                            const std::vector<double>* depth_for_dry) {
  const Domain& d = cfg.domain;
  std::vector<double> out(field.size(), std::numeric_limits<double>::quiet_NaN());
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const std::size_t k = d.Index(i, j);
      if (!d.active[k]) continue;
      if (depth_for_dry && (*depth_for_dry)[k] <= cfg.options.dry_depth) continue;
      out[static_cast<std::size_t>(d.ny - 1 - j) * d.nx + i] = field[k];
    }
  }
  return out;
}

std::vector<double> PeakWaterLevel(const ScenarioConfig& cfg,
                                   const std::vector<double>& max_depth) {
  const Domain& d = cfg.domain;
  std::vector<double> out(max_depth.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t k = 0; k < out.size(); ++k)
    if (d.active[k] && max_depth[k] > cfg.options.dry_depth) out[k] = d.bed[k] + max_depth[k];
  return out;
}

grids::CfSummaryFields SummaryFields(const ScenarioConfig& cfg,
                                     const std::vector<double>& max_depth,
                                     const std::vector<double>& max_speed,
                                     const std::vector<double>& arrival_time) {
  grids::CfSummaryFields f;
  f.max_depth = NorthUp(cfg, max_depth);
  f.max_speed = NorthUp(cfg, max_speed);
  f.arrival_time = NorthUp(cfg, arrival_time);
  f.max_wse = NorthUp(cfg, PeakWaterLevel(cfg, max_depth));
  f.bed = NorthUp(cfg, cfg.domain.bed);
  return f;
}

}  // namespace floodwarn::scenario
