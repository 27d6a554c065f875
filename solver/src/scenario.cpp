// Scenario config (TOML) loading/validation and the scenario run loop.
// Every key handled here is documented in docs/CONFIG.md; keep them in step.
#include "floodwarn/solver/scenario.hpp"

#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/grids/checkpoint_file.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/solver/hazard.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/common/toml_reader.hpp"

namespace floodwarn::solver {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Error context: every message names the config file, the key and the line.

class Ctx : public common::TomlContext<ConfigError> {
 public:
  explicit Ctx(std::string file)
      : TomlContext(std::move(file)), dir_(fs::path(this->file()).parent_path()) {}

  // A path from the config, relative to the config file's folder.
  std::string Resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_absolute() || dir_.empty()) return path.lexically_normal().string();
    return (dir_ / path).lexically_normal().string();
  }

  // [time] start as seconds since the epoch (set once [time] is parsed).
  void set_start_epoch(double e) const { start_epoch_ = e; }
  std::optional<double> start_epoch() const { return start_epoch_; }

 private:
  fs::path dir_;
  mutable std::optional<double> start_epoch_;
};

using common::AsNumber;
using common::CheckKeys;
using common::GetNumber;
using common::GetString;
using common::GetTable;
using common::GetTableArray;
using common::Join;
using common::RequireNumber;
using common::TypeName;

std::vector<double> AsNumberArray(const Ctx& ctx, const toml::node& n, const std::string& key) {
  const toml::array* a = n.as_array();
  if (a == nullptr)
    ctx.Fail(key, &n, fmt::format("expected an array of numbers, got {}", TypeName(n)));
  if (a->empty()) ctx.Fail(key, &n, "expected a non-empty array of numbers");
  std::vector<double> out;
  out.reserve(a->size());
  for (std::size_t k = 0; k < a->size(); ++k)
    out.push_back(AsNumber(ctx, *a->get(k), fmt::format("{}[{}]", key, k)));
  return out;
}

void CheckStrictlyIncreasing(const Ctx& ctx, const std::vector<double>& t, const std::string& key,
                             const toml::node* node, const std::string& where = "") {
  for (std::size_t k = 1; k < t.size(); ++k) {
    if (!(t[k] > t[k - 1]))
      ctx.Fail(key, node,
               fmt::format("{}times must be strictly increasing (no duplicates): entry {} is {} "
                           "after {}",
                           where, k, t[k], t[k - 1]));
  }
}

// ---------------------------------------------------------------------------
// Time series: a number (constant), a string (CSV file `time_s,<column>`) or
// an array of values with a sibling `times` array.

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(Trim(cell));
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

bool ParseDouble(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && std::isfinite(v);
}

struct RawSeries {
  std::vector<double> t;
  std::vector<double> v;
};

RawSeries ReadSeriesCsv(const Ctx& ctx, const std::string& key, const toml::node* node,
                        const std::string& path, const std::string& value_column) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ctx.Fail(key, node, fmt::format("file not found: {}", path));
  std::ifstream in(path);
  if (!in) ctx.Fail(key, node, fmt::format("cannot open {}", path));
  RawSeries s;
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string l = Trim(line);
    if (l.empty() || l[0] == '#') continue;
    const auto cells = SplitComma(l);
    if (!header_seen) {
      if (cells.size() != 2 || cells[0] != "time_s" || cells[1] != value_column)
        ctx.Fail(key, node,
                 fmt::format("{}:{}: expected the header 'time_s,{}', got '{}'", path, line_no,
                             value_column, l));
      header_seen = true;
      continue;
    }
    double t = 0, v = 0;
    if (cells.size() != 2 || !ParseDouble(cells[0], t) || !ParseDouble(cells[1], v))
      ctx.Fail(key, node,
               fmt::format("{}:{}: expected two finite numbers 'time_s,{}', got '{}'", path,
                           line_no, value_column, l));
    s.t.push_back(t);
    s.v.push_back(v);
  }
  if (!header_seen)
    ctx.Fail(key, node,
             fmt::format("{}: empty file (expected the header 'time_s,{}')", path, value_column));
  if (s.t.empty()) ctx.Fail(key, node, fmt::format("{}: no data rows", path));
  CheckStrictlyIncreasing(ctx, s.t, key, node, path + ": ");
  return s;
}

struct SeriesRules {
  const char* value_column;  // CSV column name
  bool non_negative;
  double scale;                    // multiplies the values (unit conversion)
  std::vector<std::string> units;  // accepted unit spellings of a series file ("" = any)
};

std::map<std::string, SeriesFileReader>& SeriesFileReaders() {
  static std::map<std::string, SeriesFileReader> readers;
  return readers;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "file.ext#selector" -> reader for ext, or nullptr.
const SeriesFileReader* ReaderFor(const std::string& spec, std::string& path,
                                  std::string& selector) {
  const std::size_t hash = spec.find('#');
  path = spec.substr(0, hash);
  selector = hash == std::string::npos ? "" : spec.substr(hash + 1);
  std::string ext = Lower(fs::path(path).extension().string());
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  const auto it = SeriesFileReaders().find(ext);
  return it == SeriesFileReaders().end() ? nullptr : &it->second;
}

// A series from a registered reader, on the scenario's time axis.
RawSeries ReadSeriesFile(const Ctx& ctx, const std::string& key, const toml::node* node,
                         const SeriesFileReader& reader, const std::string& path,
                         const std::string& selector, const SeriesRules& rules) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ctx.Fail(key, node, fmt::format("file not found: {}", path));
  if (!ctx.start_epoch())
    ctx.Fail(key, node,
             fmt::format("{} has absolute times: give time.start (the UTC time of simulation "
                         "time 0, e.g. \"2024-06-01T12:00:00Z\")",
                         path));
  SeriesFile f;
  try {
    f = reader(path, selector);
  } catch (const std::exception& e) {
    ctx.Fail(key, node, e.what());
  }
  if (f.epoch_s.empty() || f.epoch_s.size() != f.values.size())
    ctx.Fail(key, node,
             fmt::format("{}: no values{}", path, selector.empty() ? "" : " for #" + selector));
  if (!rules.units.empty() && !f.unit.empty()) {
    const std::string u = Lower(f.unit);
    if (std::none_of(rules.units.begin(), rules.units.end(),
                     [&](const std::string& ok) { return Lower(ok) == u; }))
      ctx.Fail(key, node,
               fmt::format("{}: the series is in '{}', expected {}", path, f.unit,
                           fmt::join(rules.units, " or ")));
  }
  RawSeries s;
  for (std::size_t k = 0; k < f.values.size(); ++k) {
    if (!std::isfinite(f.values[k]))
      ctx.Fail(key, node,
               fmt::format("{}: value {} is missing or not finite{}: fill or cut the series", path,
                           k + 1, k < f.lines.size() ? fmt::format(" (line {})", f.lines[k]) : ""));
    s.t.push_back(f.epoch_s[k] - *ctx.start_epoch());
    s.v.push_back(f.values[k]);
  }
  return s;
}

// Reads the series under `key` of table `t` (with optional sibling `times`).
// `used_times` is set when the sibling `times` was consumed.
TimeSeries ParseSeries(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                       const char* key, const SeriesRules& rules, bool& used_times) {
  const std::string full = Join(prefix, key);
  const toml::node* n = t.get(key);
  const toml::node* times_node = t.get("times");
  used_times = false;
  RawSeries s;
  if (n == nullptr) ctx.Fail(full, &t, "missing required key");
  if (n->is_number()) {
    s.t = {0.0};
    s.v = {AsNumber(ctx, *n, full)};
  } else if (n->is_string()) {
    std::string path, selector;
    const std::string spec = ctx.Resolve(std::string(n->as_string()->get()));
    if (const SeriesFileReader* reader = ReaderFor(spec, path, selector))
      s = ReadSeriesFile(ctx, full, n, *reader, path, selector, rules);
    else
      s = ReadSeriesCsv(ctx, full, n, spec, rules.value_column);
  } else if (n->is_array()) {
    if (times_node == nullptr)
      ctx.Fail(full, n,
               fmt::format("an array of values needs a sibling '{}' array", Join(prefix, "times")));
    used_times = true;
    s.v = AsNumberArray(ctx, *n, full);
    s.t = AsNumberArray(ctx, *times_node, Join(prefix, "times"));
    if (s.t.size() != s.v.size())
      ctx.Fail(full, n,
               fmt::format("has {} values but '{}' has {} entries", s.v.size(),
                           Join(prefix, "times"), s.t.size()));
    CheckStrictlyIncreasing(ctx, s.t, Join(prefix, "times"), times_node);
  } else {
    ctx.Fail(full, n,
             fmt::format("expected a number, a CSV file path or an array of values, got {}",
                         TypeName(*n)));
  }
  for (std::size_t k = 0; k < s.v.size(); ++k) {
    if (rules.non_negative && s.v[k] < 0)
      ctx.Fail(full, n,
               fmt::format("values must be >= 0: entry {} (t = {} s) is {}", k, s.t[k], s.v[k]));
    s.v[k] *= rules.scale;
  }
  try {
    return TimeSeries(std::move(s.t), std::move(s.v), full);
  } catch (const std::exception& e) {
    ctx.Fail(full, n, e.what());
  }
}

// ---------------------------------------------------------------------------
// Rasters on the DEM's grid.

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

// The raster on the DEM's grid. Another CRS is an error (a DEM and its
// parameters in different CRSs is almost always a mistake in the model
// setup). Another grid in the same CRS is resampled onto the DEM's grid with
// `method` (bilinear for continuous fields such as depths, nearest for
// per-class values such as Manning n), with a warning; DEM cells that the
// raster does not cover are an error.
// `r` on the DEM's grid: returned as is, or resampled (with a warning unless
// `warn_key` is empty). `fail` reports an error and must throw.
using FailFn = std::function<void(const std::string&)>;
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

// ---------------------------------------------------------------------------
// Sections.

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
  const grids::RasterD dem = LoadRaster(ctx, "domain.dem", t.get("dem"), cfg.dem_path);
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

// k * step for k = 1, 2, ... below `end`, then `end` (or starting at 0).
std::vector<double> Expand(double step, double end, bool with_zero) {
  std::vector<double> out;
  if (with_zero) out.push_back(0.0);
  for (long k = 1;; ++k) {
    const double t = static_cast<double>(k) * step;
    if (t >= end * (1 - 1e-12)) break;
    out.push_back(t);
  }
  out.push_back(end);
  return out;
}

void ParseTime(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg) {
  const std::string p = "time";
  CheckKeys(ctx, t, p, {"end", "output_interval", "output_times", "max_dt", "cfl", "start"});
  if (const auto start = GetString(ctx, t, p, "start")) {
    // "YYYY-MM-DDThh:mm:ss" followed by "Z", "+00:00" or "-00:00", nothing else.
    std::string why;
    const auto epoch = common::ParseIso8601(*start, common::Iso8601Options::UtcSeconds(), &why);
    if (!epoch)
      ctx.Fail(
          "time.start", t.get("start"),
          fmt::format("expected a UTC time \"YYYY-MM-DDThh:mm:ssZ\" (or +00:00), got \"{}\" ({})",
                      *start, why));
    cfg.start_time = start->substr(0, 19) + "Z";  // one spelling of UTC for the outputs
    ctx.set_start_epoch(static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(epoch->time_since_epoch()).count()));
  }
  cfg.end = RequireNumber(ctx, t, p, "end");
  if (!(cfg.end > 0))
    ctx.Fail("time.end", t.get("end"), fmt::format("must be > 0 s, got {}", cfg.end));

  const toml::node* oi = t.get("output_interval");
  const toml::node* ot = t.get("output_times");
  if (oi != nullptr && ot != nullptr)
    ctx.Fail("time.output_times", ot,
             "give either time.output_interval or time.output_times, not both");
  if (oi != nullptr) {
    const double dt = AsNumber(ctx, *oi, "time.output_interval");
    if (!(dt > 0)) ctx.Fail("time.output_interval", oi, fmt::format("must be > 0 s, got {}", dt));
    if (cfg.end / dt > 1e5)
      ctx.Fail("time.output_interval", oi,
               fmt::format("{} s gives more than 100000 snapshots over {} s", dt, cfg.end));
    cfg.output_times = Expand(dt, cfg.end, false);
  } else if (ot != nullptr) {
    cfg.output_times = AsNumberArray(ctx, *ot, "time.output_times");
    CheckStrictlyIncreasing(ctx, cfg.output_times, "time.output_times", ot);
    for (double x : cfg.output_times)
      if (x < 0 || x > cfg.end)
        ctx.Fail("time.output_times", ot,
                 fmt::format("{} s is outside [0, time.end = {}]", x, cfg.end));
    if (cfg.output_times.back() < cfg.end) cfg.output_times.push_back(cfg.end);
  } else {
    cfg.output_times = {cfg.end};
  }

  if (auto v = GetNumber(ctx, t, p, "max_dt")) {
    if (*v < 0)
      ctx.Fail("time.max_dt", t.get("max_dt"),
               fmt::format("must be >= 0 s (0 = no limit), got {}", *v));
    cfg.options.max_dt = *v;
  }
  if (auto v = GetNumber(ctx, t, p, "cfl")) {
    if (!(*v > 0 && *v <= 1))
      ctx.Fail("time.cfl", t.get("cfl"), fmt::format("must be in (0, 1], got {}", *v));
    cfg.options.cfl = *v;
  }
}

void ParseSolver(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg) {
  const std::string p = "solver";
  CheckKeys(ctx, t, p,
            {"dry_depth", "max_speed_bound", "max_depth_bound", "gravity", "check_conservation"});
  auto positive = [&](const char* key, double& dst, const char* unit) {
    if (auto v = GetNumber(ctx, t, p, key)) {
      if (!(*v > 0))
        ctx.Fail(Join(p, key), t.get(key), fmt::format("must be > 0 {}, got {}", unit, *v));
      dst = *v;
    }
  };
  positive("dry_depth", cfg.options.dry_depth, "m");
  positive("max_speed_bound", cfg.options.max_speed_bound, "m/s");
  positive("max_depth_bound", cfg.options.max_depth_bound, "m");
  positive("gravity", cfg.options.gravity, "m/s^2");
  if (const toml::node* n = t.get("check_conservation")) {
    const std::string key = Join(p, "check_conservation");
    if (n->is_boolean()) {
      cfg.options.check_conservation =
          n->value<bool>().value() ? ConservationCheck::kStop : ConservationCheck::kOff;
    } else if (n->is_string()) {
      const std::string v(n->as_string()->get());
      if (v == "off") {
        cfg.options.check_conservation = ConservationCheck::kOff;
      } else if (v == "warn") {
        cfg.options.check_conservation = ConservationCheck::kWarn;
      } else if (v == "stop") {
        cfg.options.check_conservation = ConservationCheck::kStop;
      } else {
        ctx.Fail(key, n,
                 fmt::format("expected true, false, \"off\", \"warn\" or \"stop\", got \"{}\"", v));
      }
    } else {
      ctx.Fail(
          key, n,
          fmt::format("expected true, false, \"off\", \"warn\" or \"stop\", got {}", TypeName(*n)));
    }
  }
}

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

// (x, y) must lie in an active cell off any building (cfg.buildings);
// returns the cell.
void LocatePoint(const Ctx& ctx, const std::string& key, const toml::node* node,
                 const ScenarioConfig& cfg, double x, double y, int& i, int& j) {
  const Domain& d = cfg.domain;
  if (!d.CellOf(x, y, i, j))
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) is outside the grid (x in [{}, {}], y in [{}, {}])", x, y,
                         d.x_west, d.x_west + d.nx * d.dx, d.y_south, d.y_south + d.ny * d.dy));
  if (!cfg.buildings.empty() && cfg.buildings[d.Index(i, j)])
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) lies on a building of domain.buildings ({})", x, y,
                         CellText(d, i, j)));
  if (!d.active[d.Index(i, j)])
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) lies in a nodata cell of the DEM ({})", x, y,
                         CellText(d, i, j)));
}

void CheckName(const Ctx& ctx, const std::string& key, const toml::node* node,
               const std::string& name) {
  if (name.empty() || name.find_first_of(",\"\n\r\t ") != std::string::npos)
    ctx.Fail(key, node,
             fmt::format("'{}': names must be non-empty without spaces, commas or quotes", name));
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

void ParseOutput(const Ctx& ctx, const toml::table* t, ScenarioConfig& cfg) {
  const std::string p = "output";
  std::string dir = "output";
  std::optional<double> interval;
  if (t != nullptr) {
    CheckKeys(ctx, *t, p, {"dir", "point", "point_interval", "digits"});
    if (auto d = GetNumber(ctx, *t, p, "digits")) {
      if (!(*d >= 1 && *d <= 17 && *d == std::floor(*d)))
        ctx.Fail("output.digits", t->get("digits"),
                 fmt::format("must be an integer from 1 to 17, got {}", *d));
      cfg.grid_digits = static_cast<int>(*d);
    }
    dir = GetString(ctx, *t, p, "dir").value_or(dir);
    if (dir.empty()) ctx.Fail("output.dir", t->get("dir"), "must not be empty");
    interval = GetNumber(ctx, *t, p, "point_interval");
    if (interval && !(*interval > 0))
      ctx.Fail("output.point_interval", t->get("point_interval"),
               fmt::format("must be > 0 s, got {}", *interval));
    if (const toml::array* a = GetTableArray(ctx, *t, p, "point")) {
      for (std::size_t k = 0; k < a->size(); ++k) {
        const toml::table& pt = *a->get(k)->as_table();
        const std::string pp = fmt::format("output.point[{}]", k);
        CheckKeys(ctx, pt, pp, {"name", "x", "y"});
        OutputPoint op;
        const auto name = GetString(ctx, pt, pp, "name");
        if (!name) ctx.Fail(Join(pp, "name"), &pt, "missing required key (a string)");
        op.name = *name;
        CheckName(ctx, Join(pp, "name"), pt.get("name"), op.name);
        for (const auto& other : cfg.points)
          if (other.name == op.name)
            ctx.Fail(Join(pp, "name"), pt.get("name"),
                     fmt::format("duplicate point name '{}'", op.name));
        op.x = RequireNumber(ctx, pt, pp, "x");
        op.y = RequireNumber(ctx, pt, pp, "y");
        LocatePoint(ctx, pp, &pt, cfg, op.x, op.y, op.i, op.j);
        cfg.points.push_back(std::move(op));
      }
    }
  }
  cfg.output_dir = ctx.Resolve(dir);
  cfg.point_interval = interval.value_or(cfg.end / 100.0);
  if (cfg.end / cfg.point_interval > 1e7)
    ctx.Fail(
        "output.point_interval", t ? t->get("point_interval") : nullptr,
        fmt::format("{} s gives more than 1e7 samples over {} s", cfg.point_interval, cfg.end));
  cfg.point_times = Expand(cfg.point_interval, cfg.end, true);
}

// ---------------------------------------------------------------------------
// Output helpers.

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

// Whether the ledger closes to the precision's documented tolerance
// (docs/SOLVER.md, "Mass balance"): 1e-10 in double; in float, where every
// step rounds the depths to float and the stored volume random-walks,
// max(1e-4, 1e-6 sqrt(steps)).
bool MassBalanceCloses(const MassBalance& mb, long steps) {
  const double tol = sizeof(Real) == sizeof(double)
                         ? 1e-10
                         : std::max(1e-4, 1e-6 * std::sqrt(static_cast<double>(steps)));
  return mb.RelativeError() <= tol;
}

// The conservation check's findings for summary.json (null when it is off).
std::string ConservationJson(ConservationCheck mode, const ConservationReport& r) {
  if (mode == ConservationCheck::kOff) return "null";
  return fmt::format(
      "{{\"mode\": {}, \"steps_checked\": {}, \"violations\": {}, "
      "\"violation_volume_m3\": {}, \"clamped_volume_m3\": {}, \"max_outflow_ratio\": {}, "
      "\"max_outflow_ratio_at\": {{\"t\": {}, \"i\": {}, \"j\": {}}}, "
      "\"first_violation\": {}}}",
      JsonString(mode == ConservationCheck::kWarn ? "warn" : "stop"), r.steps_checked, r.violations,
      JsonNumber(r.violation_volume), JsonNumber(r.clamped_volume), JsonNumber(r.max_outflow_ratio),
      JsonNumber(r.max_outflow_ratio_time), r.max_outflow_ratio_i, r.max_outflow_ratio_j,
      r.first_violation.empty() ? "null" : JsonString(r.first_violation));
}

// Nothing silent: a ledger that does not close is a warning with the way to
// find the cell; the check's findings in warn mode are logged once at the end.
void LogConservation(ConservationCheck mode, const RunResult& r) {
  const MassBalance& mb = r.mass_balance;
  if (!MassBalanceCloses(mb, r.steps))
    spdlog::warn(
        "mass balance does not close: error_m3={:.6g} relative_error={:.3g}{}", mb.Error(),
        mb.RelativeError(),
        mode == ConservationCheck::kOff
            ? "; rerun with [solver] check_conservation = true to find the cell and the step"
            : "");
  if (mode == ConservationCheck::kOff) return;
  const ConservationReport& c = r.conservation;
  if (c.violations > 0 && mode == ConservationCheck::kWarn)
    spdlog::warn("conservation check: violations={} volume_m3={:.6g}; the first: {}", c.violations,
                 c.violation_volume, c.first_violation);
  spdlog::info(
      "conservation check steps={} violations={} clamped_volume_m3={:.3g} max_outflow_ratio={:.4g} "
      "at t_s={:.6g} i={} j={}",
      c.steps_checked, c.violations, c.clamped_volume, c.max_outflow_ratio,
      c.max_outflow_ratio_time, c.max_outflow_ratio_i, c.max_outflow_ratio_j);
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
                            const std::vector<double>* depth_for_dry = nullptr) {
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

}  // namespace

std::string TimeLabel(double t) {
  if (t == std::floor(t) && std::fabs(t) < 1e15)
    return fmt::format("{}", static_cast<long long>(t));
  return fmt::format("{}", t);
}

ScenarioConfig LoadScenario(const std::string& path) {
  const Ctx ctx(path);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw ConfigError(fmt::format("{}: config file not found", path));
  const toml::table root = common::ReadTomlFile<ConfigError>(path, "scenario config").root;
  ScenarioConfig cfg;
  cfg.config_path = path;
  CheckKeys(ctx, root, "",
            {"title", "domain", "manning_table", "time", "rain", "infiltration", "inflow",
             "boundary", "output", "solver", "checkpoint"});
  cfg.title = GetString(ctx, root, "", "title").value_or("");
  const grids::RasterD dem = ParseDomain(ctx, *GetTable(ctx, root, "", "domain", true), root, cfg);
  if (const auto* t = GetTable(ctx, root, "", "infiltration", false))
    ParseInfiltration(ctx, *t, dem, cfg);
  ParseTime(ctx, *GetTable(ctx, root, "", "time", true), cfg);
  if (const auto* t = GetTable(ctx, root, "", "solver", false)) ParseSolver(ctx, *t, cfg);
  if (const auto* t = GetTable(ctx, root, "", "rain", false)) ParseRain(ctx, *t, dem, cfg);
  if (const auto* a = GetTableArray(ctx, root, "", "inflow")) ParseInflows(ctx, *a, cfg);
  if (const auto* a = GetTableArray(ctx, root, "", "boundary")) ParseBoundaries(ctx, *a, cfg);
  ParseOutput(ctx, GetTable(ctx, root, "", "output", false), cfg);
  if (const auto* t = GetTable(ctx, root, "", "checkpoint", false)) {
    CheckKeys(ctx, *t, "checkpoint", {"times", "interval"});
    const toml::node* times = t->get("times");
    if (times && t->get("interval"))
      ctx.Fail("checkpoint.times", times, "give either checkpoint.times or checkpoint.interval");
    if (times) {
      cfg.checkpoint_times = AsNumberArray(ctx, *times, "checkpoint.times");
      CheckStrictlyIncreasing(ctx, cfg.checkpoint_times, "checkpoint.times", times);
    } else if (auto iv = GetNumber(ctx, *t, "checkpoint", "interval")) {
      if (!(*iv > 0))
        ctx.Fail("checkpoint.interval", t->get("interval"),
                 fmt::format("must be > 0 s, got {}", *iv));
      cfg.checkpoint_times = Expand(*iv, cfg.end, false);
    }
    for (double tc : cfg.checkpoint_times)
      if (!(tc > 0 && tc <= cfg.end))
        ctx.Fail("checkpoint.times", times ? times : t,
                 fmt::format("{} s is outside (0, time.end = {} s]", tc, cfg.end));
  }
  return cfg;
}

void RegisterSeriesFileReader(const std::string& extension, SeriesFileReader reader) {
  SeriesFileReaders()[Lower(extension)] = std::move(reader);
}

std::string DomainFingerprint(const Domain& d, const Infiltration& inf) {
  // FNV-1a over the grid, the bed of active cells, the mask and Manning n,
  // and, with infiltration, the model and its parameters (the soil is part of
  // the model: a checkpoint's infiltrated depths mean nothing with another
  // soil). Rain and inflows are not included: a hot start with new forcing
  // is what live forecasting does.
  std::uint64_t hsh = 1469598103934665603ull;
  auto mix = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) hsh = (hsh ^ b[k]) * 1099511628211ull;
  };
  mix(&d.nx, sizeof d.nx);
  mix(&d.ny, sizeof d.ny);
  for (double v : {d.dx, d.dy, d.x_west, d.y_south}) mix(&v, sizeof v);
  for (std::size_t k = 0; k < d.bed.size(); ++k) {
    const bool a = d.active.empty() || d.active[k];
    mix(&a, sizeof a);
    if (a) mix(&d.bed[k], sizeof(double));
  }
  for (double v : d.manning) mix(&v, sizeof v);
  if (inf.model != InfiltrationModel::kNone) {
    const int model = static_cast<int>(inf.model);
    mix(&model, sizeof model);
    for (const std::vector<double>* p :
         {&inf.ks, &inf.psi, &inf.dtheta, &inf.initial_f, &inf.f0, &inf.fc, &inf.k}) {
      const std::size_t n = p->size();
      mix(&n, sizeof n);
      for (double v : *p) mix(&v, sizeof v);
    }
  }
  return fmt::format("{:016x}", hsh);
}

namespace {

grids::CheckpointData ToCheckpoint(const ScenarioConfig& cfg, const SolverState& st) {
  grids::CheckpointData c;
  c.nx = cfg.domain.nx;
  c.ny = cfg.domain.ny;
  c.scalars = {{"time_s", st.time},
               {"steps", static_cast<double>(st.steps)},
               {"last_dt_s", st.last_dt},
               {"cfl_metric", st.cfl_metric},
               {"cfl_metric_valid", st.cfl_metric_valid ? 1.0 : 0.0},
               {"initial_volume_m3", st.mass_balance.initial_volume},
               {"rain_in_m3", st.mass_balance.rain_in},
               {"inflow_in_m3", st.mass_balance.inflow_in},
               {"boundary_net_out_m3", st.mass_balance.boundary_net_out},
               {"infiltration_out_m3", st.mass_balance.infiltration_out}};
  c.strings = {{"domain_fingerprint", DomainFingerprint(cfg.domain, cfg.infiltration)},
               {"precision", sizeof(Real) == 8 ? "double" : "float"},
               {"config", cfg.config_path}};
  // Solver order (j = 0 south), as exported.
  c.fields = {{"h", st.h},
              {"hu", st.hu},
              {"hv", st.hv},
              {"max_depth", st.max_depth},
              {"max_speed", st.max_speed},
              {"arrival_time", st.arrival_time}};
  // Optional: only with infiltration (checkpoints without them stay valid).
  if (!st.infiltrated_depth.empty()) c.fields["infiltrated_depth"] = st.infiltrated_depth;
  if (!st.infiltration_time.empty()) c.fields["infiltration_time"] = st.infiltration_time;
  return c;
}

SolverState FromCheckpoint(const ScenarioConfig& cfg, const std::string& path) {
  grids::CheckpointData c;
  try {
    c = grids::ReadCheckpoint(path);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("--restart {}: {}", path, e.what()));
  }
  auto str = [&](const char* key) {
    auto it = c.strings.find(key);
    if (it == c.strings.end())
      throw ConfigError(fmt::format("--restart {}: checkpoint has no '{}'", path, key));
    return it->second;
  };
  if (c.nx != cfg.domain.nx || c.ny != cfg.domain.ny ||
      str("domain_fingerprint") != DomainFingerprint(cfg.domain, cfg.infiltration))
    throw ConfigError(fmt::format(
        "--restart {}: the checkpoint is from another domain ({}x{} cells, fingerprint {}) than "
        "{} ({}x{} cells, fingerprint {}): grid, terrain, Manning n or infiltration differ",
        path, c.nx, c.ny, str("domain_fingerprint"), cfg.config_path, cfg.domain.nx, cfg.domain.ny,
        DomainFingerprint(cfg.domain, cfg.infiltration)));
  const std::string precision = sizeof(Real) == 8 ? "double" : "float";
  if (str("precision") != precision)
    throw ConfigError(
        fmt::format("--restart {}: checkpoint written by a {} build, this is a {} build", path,
                    str("precision"), precision));
  auto num = [&](const char* key) {
    auto it = c.scalars.find(key);
    if (it == c.scalars.end())
      throw ConfigError(fmt::format("--restart {}: checkpoint has no '{}'", path, key));
    return it->second;
  };
  auto field = [&](const char* key) {
    auto it = c.fields.find(key);
    if (it == c.fields.end())
      throw ConfigError(fmt::format("--restart {}: checkpoint has no field '{}'", path, key));
    return it->second;
  };
  SolverState st;
  st.time = num("time_s");
  st.steps = static_cast<long>(num("steps"));
  st.last_dt = num("last_dt_s");
  st.cfl_metric = num("cfl_metric");
  st.cfl_metric_valid = num("cfl_metric_valid") != 0.0;
  st.mass_balance.initial_volume = num("initial_volume_m3");
  st.mass_balance.rain_in = num("rain_in_m3");
  st.mass_balance.inflow_in = num("inflow_in_m3");
  st.mass_balance.boundary_net_out = num("boundary_net_out_m3");
  st.h = field("h");
  st.hu = field("hu");
  st.hv = field("hv");
  st.max_depth = field("max_depth");
  st.max_speed = field("max_speed");
  st.arrival_time = field("arrival_time");
  // Optional fields (absent in checkpoints of runs without infiltration).
  if (auto it = c.scalars.find("infiltration_out_m3"); it != c.scalars.end())
    st.mass_balance.infiltration_out = it->second;
  const bool has_f = c.fields.count("infiltrated_depth") != 0;
  const bool has_t = c.fields.count("infiltration_time") != 0;
  const InfiltrationModel m = cfg.infiltration.model;
  const bool want_f = m != InfiltrationModel::kNone, want_t = m == InfiltrationModel::kHorton;
  if (has_f != want_f || has_t != want_t)
    throw ConfigError(fmt::format(
        "--restart {}: the checkpoint is from a run {} infiltration state ({}), but {} has {}",
        path, has_f ? "with" : "without",
        has_t   ? "Horton"
        : has_f ? "Green-Ampt"
                : "none",
        cfg.config_path,
        m == InfiltrationModel::kNone        ? "no [infiltration]"
        : m == InfiltrationModel::kGreenAmpt ? "model = \"green_ampt\""
                                             : "model = \"horton\""));
  if (has_f) st.infiltrated_depth = field("infiltrated_depth");
  if (has_t) st.infiltration_time = field("infiltration_time");
  if (!(st.time >= 0 && st.time < cfg.end))
    throw ConfigError(
        fmt::format("--restart {}: checkpoint time {} s is not before time.end = {} s", path,
                    st.time, cfg.end));
  return st;
}

}  // namespace

RunResult RunScenario(const ScenarioConfig& cfg, const RunObserver& observer) {
  using Clock = std::chrono::steady_clock;
  const Domain& d = cfg.domain;
  std::error_code ec;
  fs::create_directories(cfg.output_dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("{}: cannot create the output folder: {}", cfg.output_dir, ec.message()));
  const fs::path out_dir(cfg.output_dir);
  RunResult result;

  Solver solver(cfg.domain, cfg.options);
  HostState init;
  init.h = cfg.initial_depth;
  solver.SetState(init);
  solver.SetBoundaries(cfg.boundaries);
  for (const auto& in : cfg.inflows) solver.AddPointInflow(in);
  if (!cfg.rain_m_per_s.empty()) solver.SetRainUniform(cfg.rain_m_per_s);
  if (cfg.infiltration.model != InfiltrationModel::kNone) solver.SetInfiltration(cfg.infiltration);
  double restart_time = 0.0;
  if (!cfg.restart_from.empty()) {
    solver.Import(FromCheckpoint(cfg, cfg.restart_from));
    restart_time = solver.time();
    spdlog::info("restart from={} t_s={} steps={}", cfg.restart_from, restart_time, solver.steps());
  }

  // Rain frames ([rain] zones / grid): frames k, k+1 while the run is in
  // [t_k, t_{k+1}); the first before t_0 and the last after the last time held.
  const std::vector<double>& ft = cfg.rain_frame_times;
  long rain_frame = -2;  // the frame index set last (-2: none yet)
  // Frames k and k+1 of the current interval, made (read) once each.
  std::map<long, std::vector<double>> frame_cache;
  auto frame = [&](long k) -> const std::vector<double>& {
    auto it = frame_cache.find(k);
    if (it == frame_cache.end())
      it = frame_cache.emplace(k, cfg.rain_frames[static_cast<std::size_t>(k)]).first;
    return it->second;
  };
  auto keep_frames = [&](long k) {  // drop every cached frame but k and k + 1
    for (auto it = frame_cache.begin(); it != frame_cache.end();)
      it = (it->first == k || it->first == k + 1) ? std::next(it) : frame_cache.erase(it);
  };
  auto set_rain_frames = [&](double t) {
    if (ft.empty()) return;
    if (cfg.rain_frames_stepwise) {  // frame k over [t_{k-1}, t_k), none from the last time on
      const long k = static_cast<long>(std::upper_bound(ft.begin(), ft.end(), t) - ft.begin());
      if (k == rain_frame) return;
      rain_frame = k;
      keep_frames(k);
      if (k < static_cast<long>(ft.size()))
        solver.SetRainField(frame(k));
      else
        solver.SetRainField(
            std::vector<double>(static_cast<std::size_t>(cfg.domain.nx) * cfg.domain.ny, 0.0));
      return;
    }
    long k = static_cast<long>(std::upper_bound(ft.begin(), ft.end(), t) - ft.begin()) - 1;
    if (k >= static_cast<long>(ft.size()) - 1) k = static_cast<long>(ft.size()) - 1;
    if (k < 0) k = 0;  // before t_0 SetRainFrames holds frame 0
    if (k == rain_frame) return;
    rain_frame = k;
    keep_frames(k);
    if (k + 1 < static_cast<long>(ft.size()))
      solver.SetRainFrames(frame(k), ft[k], frame(k + 1), ft[k + 1]);
    else
      solver.SetRainField(frame(k));
  };
  set_rain_frames(solver.time());

  const std::size_t active =
      static_cast<std::size_t>(std::count(d.active.begin(), d.active.end(), std::uint8_t{1}));
  spdlog::info("run start config={} cells={}x{} active={} end_s={} outputs={} points={} dir={}",
               cfg.config_path, d.nx, d.ny, active, cfg.end, cfg.output_times.size(),
               cfg.points.size(), cfg.output_dir);

  // Event times: snapshots and point samples, merged.
  std::vector<double> events = cfg.output_times;
  events.insert(events.end(), cfg.point_times.begin(), cfg.point_times.end());
  events.insert(events.end(), cfg.checkpoint_times.begin(), cfg.checkpoint_times.end());
  // Rain frame times inside (0, end) are landing targets (nothing is written there).
  for (const double tf : cfg.rain_frame_times)
    if (tf > 0 && tf < cfg.end) events.push_back(tf);
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  // After a restart: only what lies after the checkpoint's time (a point
  // sample exactly at it is taken again).
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](double e) {
                                return e < restart_time ||
                                       (e == restart_time && restart_time > 0 &&
                                        !std::binary_search(cfg.point_times.begin(),
                                                            cfg.point_times.end(), e));
                              }),
               events.end());

  std::vector<std::vector<double>> rows;  // time, depth per point
  std::vector<std::pair<int, int>> point_cells;
  for (const auto& p : cfg.points) point_cells.emplace_back(p.i, p.j);

  std::vector<grids::CfPoint> nc_points;
  for (const auto& p : cfg.points) nc_points.push_back({p.name, p.x, p.y});
  grids::CfRunInfo info;
  info.title = cfg.title.empty() ? "floodwarn scenario run" : cfg.title;
  info.source = "floodwarn";
  info.history = fmt::format("floodwarn simulate {}", cfg.config_path);
  info.config_path = cfg.config_path;
  info.start_time = cfg.start_time;
  grids::CfNetcdfWriter nc((out_dir / "results.nc").string(), cfg.geo, d.nx, d.ny, cfg.crs_wkt,
                           nc_points, info);

  const auto start = Clock::now();
  auto last_report = start;
  auto wall = [&](Clock::time_point a) {
    return std::chrono::duration<double>(Clock::now() - a).count();
  };
  auto report = [&](bool done) {
    if (!observer.on_progress) return;
    RunProgress pr;
    pr.sim_time = solver.time();
    pr.end_time = cfg.end;
    pr.wall_s = wall(start);
    pr.steps = solver.steps();
    pr.done = done;
    observer.on_progress(pr);
  };

  // Steps to `target` exactly, as Solver::AdvanceTo does (same steps, same
  // landing rule), but one step at a time so progress can be reported between
  // steps. Steps depend only on the state and the target, never on wall
  // time, so reruns are bit-identical.
  auto advance_to = [&](double target) {
    while (solver.time() < target) {
      const double remaining = target - solver.time();
      if (solver.Step(remaining) >= remaining) solver.set_time(target);
      if (wall(last_report) >= observer.progress_interval_s) {
        last_report = Clock::now();
        report(false);
      }
    }
  };

  std::size_t next_output = static_cast<std::size_t>(
      std::upper_bound(cfg.output_times.begin(), cfg.output_times.end(), restart_time) -
      cfg.output_times.begin());
  if (restart_time == 0.0) next_output = 0;
  try {
    for (const double te : events) {
      advance_to(te);
      set_rain_frames(te);
      const bool is_rain_only =
          !std::binary_search(cfg.output_times.begin(), cfg.output_times.end(), te) &&
          !std::binary_search(cfg.point_times.begin(), cfg.point_times.end(), te) &&
          !std::binary_search(cfg.checkpoint_times.begin(), cfg.checkpoint_times.end(), te);
      if (is_rain_only) continue;
      if (std::binary_search(cfg.checkpoint_times.begin(), cfg.checkpoint_times.end(), te) &&
          te > restart_time) {
        const std::string path =
            (out_dir / fmt::format("checkpoint_{}s.h5", TimeLabel(te))).string();
        grids::WriteCheckpoint(path, ToCheckpoint(cfg, solver.Export()));
        result.files.push_back(path);
        spdlog::info("checkpoint t_s={} file={}", te, path);
      }
      const bool is_output =
          next_output < cfg.output_times.size() && cfg.output_times[next_output] == te;
      const bool is_sample = std::binary_search(cfg.point_times.begin(), cfg.point_times.end(), te);
      if (is_sample) {
        // Only the sampled cells are copied (samples can be frequent).
        std::vector<double> row{te};
        const std::vector<double> hp = solver.DepthAt(point_cells);
        row.insert(row.end(), hp.begin(), hp.end());
        nc.AppendPointSample(te, std::vector<double>(row.begin() + 1, row.end()));
        rows.push_back(std::move(row));
      }
      if (is_output) {
        ++next_output;
        const HostState s = solver.Download();
        const double dry = cfg.options.dry_depth;
        std::vector<double> u(s.h.size(), 0.0), v(s.h.size(), 0.0);
        for (std::size_t k = 0; k < s.h.size(); ++k) {
          if (s.h[k] > dry) {
            u[k] = s.hu[k] / s.h[k];
            v[k] = s.hv[k] / s.h[k];
          }
        }
        const std::string label = TimeLabel(te);
        for (const auto& [name, field] :
             {std::pair<const char*, const std::vector<double>*>{"depth", &s.h},
              {"u", &u},
              {"v", &v}}) {
          const std::string path = (out_dir / fmt::format("{}_{}s.asc", name, label)).string();
          grids::WriteAsciiGrid(path, ToRaster(cfg, *field), cfg.grid_digits);
          result.files.push_back(path);
        }
        std::vector<double> wse(s.h.size());
        for (std::size_t k = 0; k < s.h.size(); ++k) wse[k] = s.h[k] + d.bed[k];
        nc.AppendFrame(te, NorthUp(cfg, s.h), NorthUp(cfg, u), NorthUp(cfg, v),
                       NorthUp(cfg, wse, &s.h));
        spdlog::debug("snapshot t_s={} steps={}", te, solver.steps());
      }
    }
    result.ok = true;
  } catch (const BlowUpError& e) {
    result.ok = false;
    result.status = "blow_up";
    result.error = e.what();
    spdlog::error("run failed: solver blow-up: {}", e.what());
  } catch (const ConservationError& e) {
    result.ok = false;
    result.status = "conservation_violation";
    result.error = e.what();
    spdlog::error("run failed: {}", e.what());
  }
  result.conservation = solver.conservation_report();
  result.wall_s = wall(start);
  result.sim_time = solver.time();
  result.steps = solver.steps();
  result.mass_balance = solver.mass_balance();
  LogConservation(cfg.options.check_conservation, result);
  result.cell_updates_per_s =
      result.wall_s > 0 ? static_cast<double>(result.steps) * active / result.wall_s : 0.0;
  result.speedup = result.wall_s > 0 ? result.sim_time / result.wall_s : 0.0;
  report(true);

  double max_depth_value = std::numeric_limits<double>::quiet_NaN();
  double max_depth_x = max_depth_value, max_depth_y = max_depth_value;
  // Areas (m2) whose max depth exceeds each threshold, and per hazard class.
  const std::vector<double> thresholds = {0.05, 0.1, 0.3, 0.5, 1.0};
  std::vector<double> flooded_area(thresholds.size(), 0.0);
  std::vector<double> hazard_area(5, 0.0);
  if (result.ok) {
    const std::vector<double> mx = solver.MaxDepth();
    const std::vector<double> vmax = solver.MaxSpeed();
    const std::vector<double> arrival = solver.ArrivalTime();
    // Hazard from the max depth and the max speed of each cell: these need
    // not occur at the same time, so the rating is an upper bound (FD2320
    // rates the combination); urban debris factor (a town).
    std::vector<double> hazard(mx.size(), 0.0), hazard_class(mx.size(), 0.0);
    const double cell_area = d.dx * d.dy;
    max_depth_value = 0.0;
    for (std::size_t k = 0; k < mx.size(); ++k) {
      if (!d.active[k]) continue;
      if (mx[k] > max_depth_value) {
        max_depth_value = mx[k];
        max_depth_x = d.CellX(static_cast<int>(k % d.nx));
        max_depth_y = d.CellY(static_cast<int>(k / d.nx));
      }
      for (std::size_t t = 0; t < thresholds.size(); ++t)
        if (mx[k] > thresholds[t]) flooded_area[t] += cell_area;
      const double wet_depth = mx[k] > cfg.options.dry_depth ? mx[k] : 0.0;
      hazard[k] = HazardRating(wet_depth, vmax[k], LandUse::kUrban);
      const int c = HazardClass(hazard[k], wet_depth);
      hazard_class[k] = c;
      hazard_area[static_cast<std::size_t>(c)] += cell_area;
    }
    const std::pair<const char*, const std::vector<double>*> maps[] = {
        {"max_depth.asc", &mx},
        {"max_speed.asc", &vmax},
        {"arrival_time.asc", &arrival},
        {"hazard_rating.asc", &hazard},
        {"hazard_class.asc", &hazard_class}};
    for (const auto& [name, field] : maps) {
      const std::string path = (out_dir / name).string();
      grids::WriteAsciiGrid(path, ToRaster(cfg, *field), cfg.grid_digits);
      result.files.push_back(path);
    }
    // GeoTIFFs for GIS users: the max depth and the hazard class, with the DEM's CRS.
    for (const auto& [name, field] :
         {std::pair<const char*, const std::vector<double>*>{"max_depth.tif", &mx},
          {"hazard_class.tif", &hazard_class}}) {
      grids::RasterD r = ToRaster(cfg, *field);
      r.set_crs_wkt(cfg.crs_wkt);
      const std::string path = (out_dir / name).string();
      grids::WriteGeoTiff(path, r);
      result.files.push_back(path);
    }
    nc.WriteSummaryFields(NorthUp(cfg, mx), NorthUp(cfg, vmax), NorthUp(cfg, arrival));
    nc.Close();  // a failed run leaves no results.nc (the writer removes its temporary file)
    result.files.push_back(nc.path());
  }

  {  // points.csv (the rows sampled so far, also after a blow-up)
    std::string csv = "time_s";
    for (const auto& p : cfg.points) csv += fmt::format(",{}_depth_m", p.name);
    csv += '\n';
    for (const auto& row : rows) {
      for (std::size_t c = 0; c < row.size(); ++c) csv += fmt::format(c ? ",{}" : "{}", row[c]);
      csv += '\n';
    }
    const std::string path = (out_dir / "points.csv").string();
    common::WriteFileAtomic(path, csv);
    result.files.push_back(path);
  }

  {  // summary.json
    const MassBalance& mb = result.mass_balance;
    const std::string path = (out_dir / "summary.json").string();
    std::string files;
    for (const auto& f : result.files)
      files += (files.empty() ? "" : ", ") + JsonString(fs::path(f).filename().string());
    files = "[" + files + (files.empty() ? "" : ", ") + JsonString("summary.json") + "]";
    std::string j = "{\n";
    j += fmt::format("  \"config\": {},\n", JsonString(cfg.config_path));
    j += fmt::format("  \"title\": {},\n", JsonString(cfg.title));
    j += fmt::format("  \"status\": {},\n", JsonString(result.status));
    j += fmt::format("  \"error\": {},\n", result.ok ? "null" : JsonString(result.error));
    j += fmt::format("  \"end_time_s\": {},\n", JsonNumber(cfg.end));
    j += fmt::format("  \"simulated_time_s\": {},\n", JsonNumber(result.sim_time));
    j += fmt::format("  \"steps\": {},\n", result.steps);
    j += fmt::format("  \"wall_time_s\": {},\n", JsonNumber(result.wall_s));
    j += fmt::format("  \"cells\": {},\n", static_cast<long long>(d.nx) * d.ny);
    j += fmt::format("  \"active_cells\": {},\n", active);
    j += fmt::format("  \"cell_updates_per_s\": {},\n", JsonNumber(result.cell_updates_per_s));
    j += fmt::format("  \"speedup_over_real_time\": {},\n", JsonNumber(result.speedup));
    j += fmt::format("  \"max_depth_m\": {},\n", JsonNumber(max_depth_value));
    j += fmt::format("  \"max_depth_at\": {{\"x\": {}, \"y\": {}}},\n", JsonNumber(max_depth_x),
                     JsonNumber(max_depth_y));
    j += "  \"flooded_area_m2\": {";
    for (std::size_t t = 0; t < thresholds.size(); ++t)
      j += fmt::format("{}\"max_depth_above_{}m\": {}", t ? ", " : "", thresholds[t],
                       JsonNumber(result.ok ? flooded_area[t] : std::nan("")));
    j += "},\n";
    j += "  \"hazard_area_m2\": {";
    for (int c = 1; c <= 4; ++c)
      j += fmt::format(
          "{}{}: {}", c > 1 ? ", " : "", JsonString(HazardClassName(c)),
          JsonNumber(result.ok ? hazard_area[static_cast<std::size_t>(c)] : std::nan("")));
    j += "},\n";
    j += "  \"mass_balance\": {\n";
    j += fmt::format("    \"initial_volume_m3\": {},\n", JsonNumber(mb.initial_volume));
    j += fmt::format("    \"final_volume_m3\": {},\n", JsonNumber(mb.volume));
    j += fmt::format("    \"rain_in_m3\": {},\n", JsonNumber(mb.rain_in));
    j += fmt::format("    \"inflow_in_m3\": {},\n", JsonNumber(mb.inflow_in));
    j += fmt::format("    \"boundary_net_out_m3\": {},\n", JsonNumber(mb.boundary_net_out));
    j += fmt::format("    \"infiltration_out_m3\": {},\n", JsonNumber(mb.infiltration_out));
    j += fmt::format("    \"error_m3\": {},\n", JsonNumber(mb.Error()));
    j += fmt::format("    \"relative_error\": {},\n", JsonNumber(mb.RelativeError()));
    j +=
        fmt::format("    \"closes\": {}\n", MassBalanceCloses(mb, result.steps) ? "true" : "false");
    j += "  },\n";
    j += fmt::format("  \"conservation_check\": {},\n",
                     ConservationJson(cfg.options.check_conservation, result.conservation));
    j += fmt::format("  \"files\": {}\n", files);
    j += "}\n";
    common::WriteFileAtomic(path, j);
    result.files.push_back(path);
  }
  spdlog::info(
      "run done status={} sim_time_s={} steps={} wall_s={:.3f} cell_updates_per_s={:.4g} "
      "speedup={:.4g} mass_rel_error={:.3g}",
      result.status, result.sim_time, result.steps, result.wall_s, result.cell_updates_per_s,
      result.speedup, result.mass_balance.RelativeError());
  return result;
}

}  // namespace floodwarn::solver
