// CF-1.8 NetCDF-4 writer of a (time, y, x) series (netCDF-C). Layout: see
// cf_series_netcdf.hpp.
#include "floodwarn/grids/cf_series_netcdf.hpp"

#include <cpl_conv.h>
#include <fmt/format.h>
#include <netcdf.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include "nc_file.hpp"

namespace floodwarn::grids {
namespace {

constexpr std::size_t kMaxChunk = 256;
constexpr std::size_t kTimeChunk = 512;

// The CRS as WKT2 (2019) for crs_wkt, as GDAL's WKT1 for spatial_ref (what
// older GDAL/QGIS read), and the CF grid-mapping parameters where CF has a
// name for the projection (transverse Mercator, polar stereographic,
// geographic), so that CF tools without a WKT parser georeference it too.
// The input may be WKT or anything OGR takes offline (e.g. "EPSG:25832").
struct CrsText {
  std::string wkt2, wkt1, grid_mapping_name;
  std::vector<std::pair<std::string, double>> params;
};
std::optional<CrsText> DescribeCrs(const std::string& text) {
  OGRSpatialReference srs;
  if (srs.SetFromUserInput(text.c_str(), OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
      OGRERR_NONE)
    return std::nullopt;
  CrsText out;
  auto export_wkt = [&](const char* const* opts) {
    char* w = nullptr;
    std::string s;
    if (srs.exportToWkt(&w, opts) == OGRERR_NONE && w != nullptr) s = w;
    CPLFree(w);
    return s;
  };
  static const char* const kWkt2[] = {"FORMAT=WKT2_2019", nullptr};
  out.wkt2 = export_wkt(kWkt2);
  out.wkt1 = export_wkt(nullptr);
  if (out.wkt2.empty()) out.wkt2 = out.wkt1;
  if (out.wkt1.empty()) out.wkt1 = out.wkt2;
  OGRErr err = OGRERR_NONE;
  const double a = srs.GetSemiMajor(&err);
  const double invf = srs.GetInvFlattening(&err);
  const char* proj = srs.GetAttrValue("PROJECTION");
  const std::string p = proj ? proj : "";
  if (srs.IsGeographic()) {
    out.grid_mapping_name = "latitude_longitude";
  } else if (p == SRS_PT_TRANSVERSE_MERCATOR) {
    out.grid_mapping_name = "transverse_mercator";
    out.params = {{"latitude_of_projection_origin", srs.GetNormProjParm(SRS_PP_LATITUDE_OF_ORIGIN)},
                  {"longitude_of_central_meridian", srs.GetNormProjParm(SRS_PP_CENTRAL_MERIDIAN)},
                  {"scale_factor_at_central_meridian", srs.GetNormProjParm(SRS_PP_SCALE_FACTOR, 1)},
                  {"false_easting", srs.GetNormProjParm(SRS_PP_FALSE_EASTING)},
                  {"false_northing", srs.GetNormProjParm(SRS_PP_FALSE_NORTHING)}};
  } else if (p == SRS_PT_POLAR_STEREOGRAPHIC) {
    const double lat_ts = srs.GetNormProjParm(SRS_PP_LATITUDE_OF_ORIGIN);
    out.grid_mapping_name = "polar_stereographic";
    out.params = {
        {"latitude_of_projection_origin", lat_ts >= 0 ? 90.0 : -90.0},
        {"straight_vertical_longitude_from_pole", srs.GetNormProjParm(SRS_PP_CENTRAL_MERIDIAN)},
        {"standard_parallel", lat_ts},
        {"false_easting", srs.GetNormProjParm(SRS_PP_FALSE_EASTING)},
        {"false_northing", srs.GetNormProjParm(SRS_PP_FALSE_NORTHING)}};
  }
  if (!out.grid_mapping_name.empty() && a > 0) {
    out.params.emplace_back("semi_major_axis", a);
    out.params.emplace_back("inverse_flattening", invf);
  }
  return out;
}

}  // namespace

struct CfSeriesWriter::Impl : detail::NcFile {
  explicit Impl(std::string p) : NcFile(std::move(p), "CF-NetCDF series") {}
  int cols = 0;
  int rows = 0;
  bool bounds = false;
  int var_time = -1, var_bnds = -1, var_field = -1;
  std::string field_name;
  std::vector<int> var_scalars;
  std::vector<std::string> scalar_names;
  std::size_t frames = 0;
  double last_time = -std::numeric_limits<double>::infinity();
  std::vector<float> buf;

  void Describe(int varid, const CfSeriesVariable& v) {
    if (!v.standard_name.empty()) Text(varid, "standard_name", v.standard_name);
    if (!v.long_name.empty()) Text(varid, "long_name", v.long_name);
    if (!v.units.empty()) Text(varid, "units", v.units);
    if (!v.cell_methods.empty()) Text(varid, "cell_methods", v.cell_methods);
    for (const auto& [name, value] : v.attributes) Text(varid, name, value);
  }
  // Global attributes after the header was written: netCDF-4 files accept
  // new attributes in define mode at any time.
  template <class F>
  void Redefine(const std::string& what, F&& f) {
    Check(nc_redef(ncid), fmt::format("re-entering define mode for {}", what));
    f();
    Check(nc_enddef(ncid), fmt::format("leaving define mode after {}", what));
  }
};

CfSeriesWriter::CfSeriesWriter(std::string path, const GeoTransform& gt, int cols, int rows,
                               std::string crs_wkt, CfSeriesVariable field, CfSeriesInfo info,
                               int deflate_level)
    : impl_(std::make_unique<Impl>(std::move(path))) {
  Impl& m = *impl_;
  m.cols = cols;
  m.rows = rows;
  m.bounds = info.time_bounds;
  m.field_name = field.name;
  m.Require(cols > 0 && rows > 0, fmt::format("grid size {} x {} must be positive", cols, rows));
  m.Require(gt.cell_width > 0 && gt.cell_height > 0,
            fmt::format("cell size {} x {} must be positive", gt.cell_width, gt.cell_height));
  m.Require(deflate_level >= 0 && deflate_level <= 9,
            fmt::format("deflate level {} must be in 0..9", deflate_level));
  const std::optional<std::string> start = detail::CfReferenceTime(info.start_time);
  m.Require(start.has_value(),
            fmt::format("start_time '{}': expected UTC 'YYYY-MM-DDThh:mm:ss[Z]'", info.start_time));
  // Names must be distinct and not collide with the coordinate variables.
  std::set<std::string> names = {"x", "y", "time", "time_bnds", "crs"};
  m.Require(!field.name.empty() && names.insert(field.name).second,
            fmt::format("field variable name '{}' is empty or reserved", field.name));
  for (const auto& s : info.frame_scalars) {
    m.Require(!s.name.empty() && names.insert(s.name).second,
              fmt::format("frame scalar variable name '{}' is empty or used twice", s.name));
    m.scalar_names.push_back(s.name);
  }
  std::optional<CrsText> crs;
  if (!crs_wkt.empty()) {
    crs = DescribeCrs(crs_wkt);
    m.Require(crs.has_value(),
              fmt::format("CRS '{}' is not a CRS (expected WKT or e.g. EPSG:25832)",
                          crs_wkt.substr(0, 60)));
  }
  static const char* kReserved[] = {"Conventions", "title", "source", "history"};
  for (const auto& attribute : info.global_attributes) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const std::string& name = attribute.first;
    m.Require(!name.empty() && std::none_of(std::begin(kReserved), std::end(kReserved),
                                            [&](const char* r) { return name == r; }),
              fmt::format("global attribute '{}' is empty or written by the writer itself", name));
  }

  m.Create();  // a stale .tmp from a killed run is replaced
  try {
    const std::size_t ucols = static_cast<std::size_t>(cols);
    const std::size_t urows = static_cast<std::size_t>(rows);
    detail::NcFile::Grid grid = m.DefineGridDims(cols, rows);
    const int dim_time = grid.dim_time, dim_y = grid.dim_y, dim_x = grid.dim_x;
    int dim_nv = -1;
    if (m.bounds) m.Check(nc_def_dim(m.ncid, "nv", 2, &dim_nv), "defining dimension nv");

    m.Text(NC_GLOBAL, "Conventions", "CF-1.8");
    if (!info.title.empty()) m.Text(NC_GLOBAL, "title", info.title);
    if (!info.source.empty()) m.Text(NC_GLOBAL, "source", info.source);
    if (!info.history.empty()) m.Text(NC_GLOBAL, "history", info.history);
    for (const auto& [name, value] : info.global_attributes) m.Text(NC_GLOBAL, name, value);

    m.DefineGridCoords(grid);

    const std::string time_units = "seconds since " + *start;
    m.var_time = m.DefVar("time", NC_DOUBLE, {dim_time});
    m.Text(m.var_time, "standard_name", "time");
    m.Text(m.var_time, "long_name", m.bounds ? "end of the interval" : "time");
    m.Text(m.var_time, "units", time_units);
    m.Text(m.var_time, "calendar", "standard");
    m.Text(m.var_time, "axis", "T");
    m.Chunk(m.var_time, "time", 0, {kTimeChunk});
    if (m.bounds) {
      m.Text(m.var_time, "bounds", "time_bnds");
      m.var_bnds = m.DefVar("time_bnds", NC_DOUBLE, {dim_time, dim_nv});
      m.Chunk(m.var_bnds, "time_bnds", 0, {kTimeChunk, 2});
    }

    const bool has_crs = crs.has_value();
    if (has_crs) {
      const int var_crs = m.DefVar("crs", NC_INT, {});
      if (!crs->grid_mapping_name.empty())
        m.Text(var_crs, "grid_mapping_name", crs->grid_mapping_name);
      for (const auto& [name, value] : crs->params) m.Number(var_crs, name, value);
      // CF 1.7+ lets crs_wkt alone describe any CRS (GDAL, pyproj and QGIS
      // read it; GDAL also spatial_ref and GeoTransform).
      m.Text(var_crs, "crs_wkt", crs->wkt2);
      m.Text(var_crs, "spatial_ref", crs->wkt1);
      m.Text(var_crs, "GeoTransform",
             fmt::format("{} {} 0 {} 0 {}", gt.x_west, gt.cell_width, gt.y_north, -gt.cell_height));
    }

    m.var_field = m.DefVar(field.name, NC_FLOAT, {dim_time, dim_y, dim_x});
    m.Chunk(m.var_field, field.name, deflate_level,
            {1, std::min(urows, kMaxChunk), std::min(ucols, kMaxChunk)});
    const float fill = std::numeric_limits<float>::quiet_NaN();
    m.Check(nc_def_var_fill(m.ncid, m.var_field, NC_FILL, &fill),
            fmt::format("setting _FillValue of {}", field.name));
    m.Describe(m.var_field, field);
    if (has_crs) m.Text(m.var_field, "grid_mapping", "crs");

    for (const auto& s : info.frame_scalars) {
      const int id = m.DefVar(s.name, NC_DOUBLE, {dim_time});
      m.Chunk(id, s.name, 0, {kTimeChunk});
      m.Describe(id, s);
      m.var_scalars.push_back(id);
    }
    m.Check(nc_enddef(m.ncid), "leaving define mode");

    m.PutGridCoords(grid, gt, cols, rows);
  } catch (...) {
    m.Discard();
    throw;
  }
}

CfSeriesWriter::~CfSeriesWriter() {
  if (impl_ && !impl_->closed) impl_->Discard();
}

CfSeriesWriter::CfSeriesWriter(CfSeriesWriter&&) noexcept = default;
CfSeriesWriter& CfSeriesWriter::operator=(CfSeriesWriter&& o) noexcept {
  if (this != &o) {
    if (impl_ && !impl_->closed) impl_->Discard();
    impl_ = std::move(o.impl_);
  }
  return *this;
}

void CfSeriesWriter::AppendFrame(double time_s, const std::vector<double>& values,
                                 const std::vector<double>& scalars, double interval_start_s) {
  Impl& m = *impl_;
  m.EnsureOpen("AppendFrame");
  m.Require(std::isfinite(time_s) && time_s > m.last_time,
            fmt::format("frame time {} s must be finite and after the previous one ({} s)", time_s,
                        m.last_time));
  const std::size_t n = static_cast<std::size_t>(m.cols) * static_cast<std::size_t>(m.rows);
  m.Require(values.size() == n, fmt::format("frame has {} values, expected cols*rows = {}*{} = {}",
                                            values.size(), m.cols, m.rows, n));
  m.Require(
      scalars.size() == m.var_scalars.size(),
      fmt::format("frame has {} scalar values, expected {}", scalars.size(), m.var_scalars.size()));
  if (m.bounds)
    m.Require(std::isfinite(interval_start_s) && interval_start_s < time_s,
              fmt::format("interval start {} s must be finite and before the frame time {} s",
                          interval_start_s, time_s));
  m.buf.resize(n);
  std::transform(values.begin(), values.end(), m.buf.begin(),
                 [](double d) { return static_cast<float>(d); });
  const std::size_t start[3] = {m.frames, 0, 0};
  const std::size_t count[3] = {1, static_cast<std::size_t>(m.rows),
                                static_cast<std::size_t>(m.cols)};
  m.Check(nc_put_vara_float(m.ncid, m.var_field, start, count, m.buf.data()),
          fmt::format("writing {} at frame {}", m.field_name, m.frames));
  const std::size_t index = m.frames;
  for (std::size_t k = 0; k < scalars.size(); ++k)
    m.Check(nc_put_var1_double(m.ncid, m.var_scalars[k], &index, &scalars[k]),
            fmt::format("writing {} at frame {}", m.scalar_names[k], m.frames));
  if (m.bounds) {
    const std::size_t bstart[2] = {m.frames, 0};
    const std::size_t bcount[2] = {1, 2};
    const double b[2] = {interval_start_s, time_s};
    m.Check(nc_put_vara_double(m.ncid, m.var_bnds, bstart, bcount, b),
            fmt::format("writing time_bnds at frame {}", m.frames));
  }
  // The time value last: a reader never sees a time without its field.
  m.Check(nc_put_var1_double(m.ncid, m.var_time, &index, &time_s),
          fmt::format("writing time at frame {}", m.frames));
  ++m.frames;
  m.last_time = time_s;
}

void CfSeriesWriter::SetGlobalAttribute(const std::string& name, const std::string& value) {
  Impl& m = *impl_;
  m.EnsureOpen("SetGlobalAttribute");
  m.Require(!name.empty(), "global attribute with an empty name");
  m.Redefine(name, [&] { m.Text(NC_GLOBAL, name, value); });
}

void CfSeriesWriter::SetGlobalAttribute(const std::string& name, double value) {
  Impl& m = *impl_;
  m.EnsureOpen("SetGlobalAttribute");
  m.Require(!name.empty(), "global attribute with an empty name");
  m.Redefine(name, [&] { m.Number(NC_GLOBAL, name, value); });
}

void CfSeriesWriter::Close() { impl_->Finish(); }

const std::string& CfSeriesWriter::path() const { return impl_->path; }
int CfSeriesWriter::frames_written() const { return static_cast<int>(impl_->frames); }

}  // namespace floodwarn::grids
