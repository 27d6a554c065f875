// What the two CF writers (cf_netcdf.cpp, cf_series_netcdf.cpp) share: a
// netCDF-4 file written under a temporary name (renamed over the real one on
// Close, removed when the writer is dropped unfinished), and the checked
// netCDF calls whose errors name the output and the temporary file.
// Private to the grids library.
#pragma once

#include <fmt/format.h>
#include <netcdf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace floodwarn::grids::detail {

struct NcFile {
  // `what` names the kind of output in messages, e.g. "CF-NetCDF output".
  NcFile(std::string path_in, const char* what_in)
      : path(std::move(path_in)), tmp_path(path + ".tmp"), what(what_in) {}

  std::string path;
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
  // Closes the file and renames it over `path`; on failure nothing is left
  // but the old `path` (if any).
  void Finish() {
    EnsureOpen("Close");
    closed = true;  // from here on the destructor leaves the files alone
    const int status = nc_close(ncid);
    if (status != NC_NOERR) {
      std::remove(tmp_path.c_str());
      Fail("closing the file", status);
    }
    if (std::rename(tmp_path.c_str(), path.c_str()) != 0) {
      const int err = errno;
      std::remove(tmp_path.c_str());
      throw std::runtime_error(fmt::format("{}: {}: cannot rename {} into place: {}", path, what,
                                           tmp_path, std::strerror(err)));
    }
  }
  // Drops an unfinished file: the temporary file goes, the real one is
  // untouched (close errors are ignored, the file is discarded anyway).
  void Discard() {
    nc_close(ncid);
    std::remove(tmp_path.c_str());
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
