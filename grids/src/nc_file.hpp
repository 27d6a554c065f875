// What the two CF writers (cf_netcdf.cpp, cf_series_netcdf.cpp) share: a
// netCDF-4 file written under a temporary name (common::AtomicFile: flushed
// and renamed over the real one on Close, removed when the writer is dropped
// unfinished), and the checked netCDF calls whose errors name the output and
// the temporary file.
// Private to the grids library.
#pragma once

#include <fmt/format.h>
#include <netcdf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids::detail {

// "YYYY-MM-DDThh:mm:ss[Z]" or "YYYY-MM-DD hh:mm:ss" (UTC) -> "YYYY-MM-DD
// hh:mm:ss", the reference time of CF "seconds since" units; nullopt when
// malformed (an offset, a date that does not exist, ...).
inline std::optional<std::string> CfReferenceTime(const std::string& text) {
  const auto t = common::ParseIso8601(text, common::Iso8601Options::UtcOrNaive());
  if (!t) return std::nullopt;
  common::Iso8601Format f;
  f.separator = ' ';
  f.fraction = common::Iso8601Format::Fraction::kNone;
  f.zone = common::Iso8601Format::Zone::kNone;
  return common::FormatIso8601(*t, f);
}

struct NcFile {
  // `what` names the kind of output in messages, e.g. "CF-NetCDF output".
  NcFile(std::string path_in, const char* what_in)
      : path(std::move(path_in)), file(path), tmp_path(file.temp_path()), what(what_in) {}

  std::string path;
  common::AtomicFile file;  // netCDF writes file.temp_path(); Finish() commits it
  std::string tmp_path;
  const char* what;
  int ncid = -1;
  bool closed = false;

  [[noreturn]] void Fail(const std::string& step, int status) const {
    throw std::runtime_error(fmt::format("{}: {} (temporary file {}): {}: {}", path, what, tmp_path,
                                         step, nc_strerror(status)));
  }
  void Check(int status, const std::string& step) const {
    if (status != NC_NOERR) Fail(step, status);
  }
  void Require(bool ok, const std::string& message) const {
    if (!ok) throw std::invalid_argument(fmt::format("{}: {}: {}", path, what, message));
  }
  void EnsureOpen(const char* op) const {
    if (closed) throw std::logic_error(fmt::format("{}: {}: {} after Close()", path, what, op));
  }
  // Creates the temporary file (a stale one from a killed run is replaced).
  void Create() {
    std::remove(tmp_path.c_str());
    Check(nc_create(tmp_path.c_str(), NC_NETCDF4 | NC_CLOBBER, &ncid), "creating the file");
  }
  // Closes the file, flushes it to the disk and renames it over `path`; on
  // failure nothing is left but the old `path` (if any).
  void Finish() {
    EnsureOpen("Close");
    closed = true;  // from here on the destructor leaves the files alone
    const int status = nc_close(ncid);
    if (status != NC_NOERR) {
      file.Abort();
      Fail("closing the file", status);
    }
    try {
      file.Commit();
    } catch (const common::FileError& e) {
      throw std::runtime_error(fmt::format("{}: {}: {}", path, what, e.detail()));
    }
  }
  // Drops an unfinished file: the temporary file goes, the real one is
  // untouched (close errors are ignored, the file is discarded anyway).
  void Discard() {
    nc_close(ncid);
    file.Abort();
  }

  void Text(int varid, const std::string& name, const std::string& value) {
    Check(nc_put_att_text(ncid, varid, name.c_str(), value.size(), value.c_str()),
          fmt::format("writing attribute {}", name));
  }
  void Number(int varid, const std::string& name, double value) {
    Check(nc_put_att_double(ncid, varid, name.c_str(), NC_DOUBLE, 1, &value),
          fmt::format("writing attribute {}", name));
  }
  int DefVar(const std::string& name, nc_type type, std::vector<int> dims) {
    int id = -1;
    Check(nc_def_var(ncid, name.c_str(), type, static_cast<int>(dims.size()), dims.data(), &id),
          fmt::format("defining variable {}", name));
    return id;
  }
  // The grid the CF writers share: dimensions time (unlimited), y, x and the
  // coordinate variables x, y of the cell centres (y descending: row 0 is
  // north), defined in this order.
  struct Grid {
    int dim_time = -1, dim_y = -1, dim_x = -1, var_x = -1, var_y = -1;
  };
  Grid DefineGridDims(int cols, int rows) {
    Grid g;
    Check(nc_def_dim(ncid, "time", NC_UNLIMITED, &g.dim_time), "defining dimension time");
    Check(nc_def_dim(ncid, "y", static_cast<std::size_t>(rows), &g.dim_y), "defining dimension y");
    Check(nc_def_dim(ncid, "x", static_cast<std::size_t>(cols), &g.dim_x), "defining dimension x");
    return g;
  }
  void DefineGridCoords(Grid& g) {
    g.var_x = DefVar("x", NC_DOUBLE, {g.dim_x});
    Text(g.var_x, "standard_name", "projection_x_coordinate");
    Text(g.var_x, "long_name", "x coordinate of cell centre");
    Text(g.var_x, "units", "m");
    Text(g.var_x, "axis", "X");
    g.var_y = DefVar("y", NC_DOUBLE, {g.dim_y});
    Text(g.var_y, "standard_name", "projection_y_coordinate");
    Text(g.var_y, "long_name", "y coordinate of cell centre");
    Text(g.var_y, "units", "m");
    Text(g.var_y, "axis", "Y");
  }
  // After define mode: the cell-centre coordinates from the geotransform.
  void PutGridCoords(const Grid& g, const GeoTransform& gt, int cols, int rows) {
    std::vector<double> xs(static_cast<std::size_t>(cols)), ys(static_cast<std::size_t>(rows));
    for (int c = 0; c < cols; ++c) xs[static_cast<std::size_t>(c)] = gt.CellCenterX(c);
    for (int r = 0; r < rows; ++r) ys[static_cast<std::size_t>(r)] = gt.CellCenterY(r);
    Check(nc_put_var_double(ncid, g.var_x, xs.data()), "writing x");
    Check(nc_put_var_double(ncid, g.var_y, ys.data()), "writing y");
  }

  void Chunk(int varid, const std::string& name, int deflate_level,
             std::vector<std::size_t> chunks) {
    Check(nc_def_var_chunking(ncid, varid, NC_CHUNKED, chunks.data()),
          fmt::format("chunking variable {}", name));
    if (deflate_level > 0)
      Check(nc_def_var_deflate(ncid, varid, 1, 1, deflate_level),
            fmt::format("compressing variable {}", name));
  }
};

}  // namespace floodwarn::grids::detail
