// CF-1.8 NetCDF-4 results writer (netCDF-C API). Layout: see cf_netcdf.hpp.
#include "floodwarn/grids/cf_netcdf.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include "nc_file.hpp"

namespace floodwarn::grids {
namespace {

constexpr int kMaxChunk = 256;
constexpr std::size_t kTimeChunk = 512;       // 1D unlimited time axes
constexpr std::size_t kPointTimeChunk = 256;  // point_depth rows per chunk

// Value of a WKT1 node's first numeric argument: `KEY["name",value`.
std::optional<double> WktNumber(const std::string& wkt, const std::string& key,
                                const std::string& name) {
  const std::string needle = key + "[\"" + name + "\",";
  std::size_t pos = wkt.find(needle);
  if (pos == std::string::npos) {
    // Case-insensitive fallback (writers differ in the parameter names' case).
    std::string lw = wkt, ln = needle;
    std::transform(lw.begin(), lw.end(), lw.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::transform(ln.begin(), ln.end(), ln.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    pos = lw.find(ln);
    if (pos == std::string::npos) return std::nullopt;
  }
  const char* start = wkt.c_str() + pos + needle.size();
  char* end = nullptr;
  const double v = std::strtod(start, &end);
  if (end == start) return std::nullopt;
  return v;
}

// SPHEROID["name",a,inverse_flattening] -> (a, 1/f).
std::optional<std::pair<double, double>> WktSpheroid(const std::string& wkt) {
  const std::size_t pos = wkt.find("SPHEROID[\"");
  if (pos == std::string::npos) return std::nullopt;
  const std::size_t comma = wkt.find("\",", pos + 10);
  if (comma == std::string::npos) return std::nullopt;
  const char* p = wkt.c_str() + comma + 2;
  char* end = nullptr;
  const double a = std::strtod(p, &end);
  if (end == p || *end != ',') return std::nullopt;
  p = end + 1;
  const double invf = std::strtod(p, &end);
  if (end == p) return std::nullopt;
  return std::make_pair(a, invf);
}

}  // namespace

struct CfNetcdfWriter::Impl : detail::NcFile {
  explicit Impl(std::string p) : NcFile(std::move(p), "CF-NetCDF output") {}
  int cols = 0;
  int rows = 0;
  std::size_t n_points = 0;
  int var_time = -1, var_depth = -1, var_u = -1, var_v = -1, var_wse = -1;
  int var_max_depth = -1, var_max_speed = -1, var_arrival = -1, var_max_wse = -1, var_bed = -1;
  int var_point_time = -1, var_point_depth = -1;
  std::size_t frames = 0;
  std::size_t point_samples = 0;
  double last_time = -std::numeric_limits<double>::infinity();
  double last_point_time = -std::numeric_limits<double>::infinity();
  bool summary_written = false;
  std::vector<float> buf;

  void FloatFill(int varid, const char* name) {
    const float fill = std::numeric_limits<float>::quiet_NaN();
    Check(nc_def_var_fill(ncid, varid, NC_FILL, &fill),
          fmt::format("setting _FillValue of {}", name));
  }

  const std::vector<float>& ToFloat(const std::vector<double>& v) {
    buf.resize(v.size());
    std::transform(v.begin(), v.end(), buf.begin(), [](double d) { return static_cast<float>(d); });
    return buf;
  }
  void CheckField(const std::vector<double>& f, const char* name) const {
    const std::size_t n = static_cast<std::size_t>(cols) * static_cast<std::size_t>(rows);
    Require(f.size() == n, fmt::format("field {} has {} values, expected cols*rows = {}*{} = {}",
                                       name, f.size(), cols, rows, n));
  }
  void PutFrameVar(int varid, const char* name, const std::vector<double>& f) {
    const std::size_t start[3] = {frames, 0, 0};
    const std::size_t count[3] = {1, static_cast<std::size_t>(rows),
                                  static_cast<std::size_t>(cols)};
    Check(nc_put_vara_float(ncid, varid, start, count, ToFloat(f).data()),
          fmt::format("writing {} at frame {}", name, frames));
  }
  void PutMap(int varid, const char* name, const std::vector<double>& f) {
    Check(nc_put_var_float(ncid, varid, ToFloat(f).data()), fmt::format("writing {}", name));
  }
};

CfNetcdfWriter::CfNetcdfWriter(std::string path, const GeoTransform& gt, int cols, int rows,
                               std::string crs_wkt, std::vector<CfPoint> points, CfRunInfo info,
                               int deflate_level)
    : impl_(std::make_unique<Impl>(std::move(path))) {
  Impl& m = *impl_;
  m.cols = cols;
  m.rows = rows;
  m.n_points = points.size();
  m.Require(cols > 0 && rows > 0, fmt::format("grid size {} x {} must be positive", cols, rows));
  m.Require(gt.cell_width > 0 && gt.cell_height > 0,
            fmt::format("cell size {} x {} must be positive", gt.cell_width, gt.cell_height));
  m.Require(deflate_level >= 0 && deflate_level <= 9,
            fmt::format("deflate level {} must be in 0..9", deflate_level));
  std::optional<std::string> start;
  if (!info.start_time.empty()) {
    start = detail::CfReferenceTime(info.start_time);
    m.Require(
        start.has_value(),
        fmt::format("start_time '{}': expected UTC 'YYYY-MM-DDThh:mm:ss[Z]'", info.start_time));
  }
  static const char* kReserved[] = {"Conventions", "title", "source", "history",
                                    "floodwarn_config"};
  for (const auto& attribute : info.extra_attributes) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const std::string& name = attribute.first;
    m.Require(!name.empty(), "extra global attribute with an empty name");
    m.Require(std::none_of(std::begin(kReserved), std::end(kReserved),
                           [&](const char* r) { return name == r; }),
              fmt::format("extra global attribute '{}' is written by the writer itself", name));
  }

  m.Create();
  try {
    const std::size_t ucols = static_cast<std::size_t>(cols);
    const std::size_t urows = static_cast<std::size_t>(rows);
    detail::NcFile::Grid grid = m.DefineGridDims(cols, rows);
    const int dim_time = grid.dim_time, dim_y = grid.dim_y, dim_x = grid.dim_x;

    // Global attributes.
    m.Text(NC_GLOBAL, "Conventions", "CF-1.8");
    if (!info.title.empty()) m.Text(NC_GLOBAL, "title", info.title);
    if (!info.source.empty()) m.Text(NC_GLOBAL, "source", info.source);
    if (!info.history.empty()) m.Text(NC_GLOBAL, "history", info.history);
    if (!info.config_path.empty()) m.Text(NC_GLOBAL, "floodwarn_config", info.config_path);
    for (const auto& [name, value] : info.extra_attributes) m.Text(NC_GLOBAL, name.c_str(), value);

    m.DefineGridCoords(grid);

    const std::string time_units = start ? "seconds since " + *start : std::string("s");
    auto def_time = [&](const char* name, int dim) {
      const int id = m.DefVar(name, NC_DOUBLE, {dim});
      if (start) {
        m.Text(id, "standard_name", "time");
        m.Text(id, "calendar", "standard");
      }
      m.Text(id, "long_name", "time since simulation start");
      m.Text(id, "units", time_units);
      m.Text(id, "axis", "T");
      m.Chunk(id, name, 0, {kTimeChunk});
      return id;
    };
    m.var_time = def_time("time", dim_time);

    // Grid mapping.
    const bool has_crs = !crs_wkt.empty();
    if (has_crs) {
      const int var_crs = m.DefVar("crs", NC_INT, {});
      if (crs_wkt.rfind("PROJCS[", 0) == 0 &&
          crs_wkt.find("PROJECTION[\"Transverse_Mercator\"]") != std::string::npos) {
        const auto lat0 = WktNumber(crs_wkt, "PARAMETER", "latitude_of_origin");
        const auto lon0 = WktNumber(crs_wkt, "PARAMETER", "central_meridian");
        const auto k0 = WktNumber(crs_wkt, "PARAMETER", "scale_factor");
        const auto fe = WktNumber(crs_wkt, "PARAMETER", "false_easting");
        const auto fn = WktNumber(crs_wkt, "PARAMETER", "false_northing");
        if (lat0 && lon0 && k0 && fe && fn) {
          m.Text(var_crs, "grid_mapping_name", "transverse_mercator");
          m.Number(var_crs, "latitude_of_projection_origin", *lat0);
          m.Number(var_crs, "longitude_of_central_meridian", *lon0);
          m.Number(var_crs, "scale_factor_at_central_meridian", *k0);
          m.Number(var_crs, "false_easting", *fe);
          m.Number(var_crs, "false_northing", *fn);
        }
      } else if (crs_wkt.rfind("GEOGCS[", 0) == 0) {
        m.Text(var_crs, "grid_mapping_name", "latitude_longitude");
      }
      // Other projections: CF 1.7+ lets crs_wkt alone describe the CRS (GDAL,
      // pyproj and QGIS read it); no CF parameter set is invented.
      if (const auto sph = WktSpheroid(crs_wkt)) {
        m.Number(var_crs, "semi_major_axis", sph->first);
        m.Number(var_crs, "inverse_flattening", sph->second);
      }
      m.Text(var_crs, "crs_wkt", crs_wkt);
      m.Text(var_crs, "spatial_ref", crs_wkt);
      m.Text(var_crs, "GeoTransform",
             fmt::format("{} {} 0 {} 0 {}", gt.x_west, gt.cell_width, gt.y_north, -gt.cell_height));
    }

    const std::size_t cy = std::min<std::size_t>(urows, kMaxChunk);
    const std::size_t cx = std::min<std::size_t>(ucols, kMaxChunk);
    auto def_field = [&](const char* name, std::vector<int> dims, const char* standard_name,
                         const char* long_name, const char* units) {
      const int id = m.DefVar(name, NC_FLOAT, dims);
      if (dims.size() == 3)
        m.Chunk(id, name, deflate_level, {1, cy, cx});
      else
        m.Chunk(id, name, deflate_level, {cy, cx});
      m.FloatFill(id, name);
      if (standard_name) m.Text(id, "standard_name", standard_name);
      m.Text(id, "long_name", long_name);
      m.Text(id, "units", units);
      if (has_crs) m.Text(id, "grid_mapping", "crs");
      return id;
    };
    // CF standard names only where one fits exactly. There is none for
    // overland-flow water depth (sea_floor_depth_below_sea_surface means the
    // sea), nor for velocities along the projected grid axes (the
    // eastward_/northward_sea_water_velocity names are true east/north, not grid
    // x/y, and are for sea water): those carry long_name + units only.
    const std::vector<int> d3 = {dim_time, dim_y, dim_x};
    const std::vector<int> d2 = {dim_y, dim_x};
    m.var_depth = def_field("depth", d3, nullptr, "water depth", "m");
    m.var_u =
        def_field("u", d3, nullptr, "depth-averaged water velocity along the x axis", "m s-1");
    m.var_v =
        def_field("v", d3, nullptr, "depth-averaged water velocity along the y axis", "m s-1");
    m.var_wse = def_field("wse", d3, "water_surface_height_above_reference_datum",
                          "water surface elevation (vertical datum of the DEM)", "m");
    m.var_max_depth = def_field("max_depth", d2, nullptr, "maximum water depth over the run", "m");
    m.var_max_speed = def_field("max_speed", d2, nullptr,
                                "maximum depth-averaged flow speed over the run", "m s-1");
    m.var_arrival = def_field("arrival_time", d2, nullptr,
                              "time of first wetting since simulation start (NaN: never wet)", "s");
    m.var_max_wse = def_field("max_wse", d2, "water_surface_height_above_reference_datum",
                              "peak water surface elevation over the run (vertical datum of the "
                              "DEM; NaN: never wet)",
                              "m");
    m.Text(m.var_max_wse, "cell_methods", "time: maximum");
    m.var_bed = def_field("bed", d2, nullptr,
                          "ground elevation the solver used (buildings raised; NaN: outside the "
                          "model)",
                          "m");

    // Point series.
    int var_px = -1, var_py = -1, var_pname = -1;
    std::size_t strlen = 1;
    for (const auto& p : points) strlen = std::max(strlen, p.name.size());
    if (m.n_points > 0) {
      int dim_point = -1, dim_ptime = -1, dim_strlen = -1;
      m.Check(nc_def_dim(m.ncid, "point", m.n_points, &dim_point), "defining dimension point");
      m.Check(nc_def_dim(m.ncid, "point_time", NC_UNLIMITED, &dim_ptime),
              "defining dimension point_time");
      m.Check(nc_def_dim(m.ncid, "name_strlen", strlen, &dim_strlen),
              "defining dimension name_strlen");
      var_pname = m.DefVar("point_name", NC_CHAR, {dim_point, dim_strlen});
      m.Text(var_pname, "long_name", "output point name");
      m.Text(var_pname, "cf_role", "timeseries_id");
      var_px = m.DefVar("point_x", NC_DOUBLE, {dim_point});
      m.Text(var_px, "standard_name", "projection_x_coordinate");
      m.Text(var_px, "long_name", "x coordinate of output point");
      m.Text(var_px, "units", "m");
      var_py = m.DefVar("point_y", NC_DOUBLE, {dim_point});
      m.Text(var_py, "standard_name", "projection_y_coordinate");
      m.Text(var_py, "long_name", "y coordinate of output point");
      m.Text(var_py, "units", "m");
      m.var_point_time = def_time("point_time", dim_ptime);
      m.var_point_depth = m.DefVar("point_depth", NC_FLOAT, {dim_ptime, dim_point});
      m.Chunk(m.var_point_depth, "point_depth", deflate_level, {kPointTimeChunk, m.n_points});
      m.FloatFill(m.var_point_depth, "point_depth");
      m.Text(m.var_point_depth, "long_name", "water depth at output point");
      m.Text(m.var_point_depth, "units", "m");
      m.Text(m.var_point_depth, "coordinates", "point_x point_y point_name");
      if (has_crs) m.Text(m.var_point_depth, "grid_mapping", "crs");
    }

    m.Check(nc_enddef(m.ncid), "leaving define mode");

    m.PutGridCoords(grid, gt, cols, rows);
    if (m.n_points > 0) {
      std::vector<char> names(m.n_points * strlen, '\0');
      std::vector<double> px(m.n_points), py(m.n_points);
      for (std::size_t i = 0; i < m.n_points; ++i) {
        std::copy(points[i].name.begin(), points[i].name.end(), names.begin() + i * strlen);
        px[i] = points[i].x;
        py[i] = points[i].y;
      }
      m.Check(nc_put_var_text(m.ncid, var_pname, names.data()), "writing point_name");
      m.Check(nc_put_var_double(m.ncid, var_px, px.data()), "writing point_x");
      m.Check(nc_put_var_double(m.ncid, var_py, py.data()), "writing point_y");
    }
  } catch (...) {
    m.Discard();
    throw;
  }
}

CfNetcdfWriter::~CfNetcdfWriter() {
  if (impl_ && !impl_->closed) impl_->Discard();
}

CfNetcdfWriter::CfNetcdfWriter(CfNetcdfWriter&&) noexcept = default;
CfNetcdfWriter& CfNetcdfWriter::operator=(CfNetcdfWriter&& o) noexcept {
  if (this != &o) {
    if (impl_ && !impl_->closed) impl_->Discard();
    impl_ = std::move(o.impl_);
  }
  return *this;
}

void CfNetcdfWriter::AppendFrame(double time_s, const std::vector<double>& depth,
                                 const std::vector<double>& u, const std::vector<double>& v,
                                 const std::vector<double>& wse) {
  Impl& m = *impl_;
  m.EnsureOpen("AppendFrame");
  m.Require(std::isfinite(time_s) && time_s > m.last_time,
            fmt::format("frame time {} s must be finite and after the previous one ({} s)", time_s,
                        m.last_time));
  m.CheckField(depth, "depth");
  m.CheckField(u, "u");
  m.CheckField(v, "v");
  m.CheckField(wse, "wse");
  m.PutFrameVar(m.var_depth, "depth", depth);
  m.PutFrameVar(m.var_u, "u", u);
  m.PutFrameVar(m.var_v, "v", v);
  m.PutFrameVar(m.var_wse, "wse", wse);
  // The time value last: a reader never sees a time without its fields.
  const std::size_t index = m.frames;
  m.Check(nc_put_var1_double(m.ncid, m.var_time, &index, &time_s),
          fmt::format("writing time at frame {}", m.frames));
  ++m.frames;
  m.last_time = time_s;
}

void CfNetcdfWriter::AppendPointSample(double time_s, const std::vector<double>& depth_at_points) {
  Impl& m = *impl_;
  m.EnsureOpen("AppendPointSample");
  m.Require(depth_at_points.size() == m.n_points,
            fmt::format("point sample has {} values for {} output points", depth_at_points.size(),
                        m.n_points));
  if (m.n_points == 0) return;
  m.Require(std::isfinite(time_s) && time_s > m.last_point_time,
            fmt::format("point sample time {} s must be finite and after the previous one ({} s)",
                        time_s, m.last_point_time));
  const std::size_t start[2] = {m.point_samples, 0};
  const std::size_t count[2] = {1, m.n_points};
  m.Check(
      nc_put_vara_float(m.ncid, m.var_point_depth, start, count, m.ToFloat(depth_at_points).data()),
      fmt::format("writing point_depth at sample {}", m.point_samples));
  const std::size_t index = m.point_samples;
  m.Check(nc_put_var1_double(m.ncid, m.var_point_time, &index, &time_s),
          fmt::format("writing point_time at sample {}", m.point_samples));
  ++m.point_samples;
  m.last_point_time = time_s;
}

void CfNetcdfWriter::WriteSummaryFields(const CfSummaryFields& f) {
  Impl& m = *impl_;
  m.EnsureOpen("WriteSummaryFields");
  if (m.summary_written)
    throw std::logic_error(
        fmt::format("{}: CF-NetCDF output: summary fields written twice", m.path));
  const std::pair<int, std::pair<const char*, const std::vector<double>*>> maps[] = {
      {m.var_max_depth, {"max_depth", &f.max_depth}},
      {m.var_max_speed, {"max_speed", &f.max_speed}},
      {m.var_arrival, {"arrival_time", &f.arrival_time}},
      {m.var_max_wse, {"max_wse", &f.max_wse}},
      {m.var_bed, {"bed", &f.bed}}};
  for (const auto& [id, field] : maps) m.CheckField(*field.second, field.first);
  for (const auto& [id, field] : maps) m.PutMap(id, field.first, *field.second);
  m.summary_written = true;
}

void CfNetcdfWriter::Close() { impl_->Finish(); }

const std::string& CfNetcdfWriter::path() const { return impl_->path; }
int CfNetcdfWriter::frames_written() const { return static_cast<int>(impl_->frames); }
int CfNetcdfWriter::point_samples_written() const { return static_cast<int>(impl_->point_samples); }

}  // namespace floodwarn::grids
