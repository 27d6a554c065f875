// ESRI ASCII grid reader/writer.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

[[noreturn]] void Fail(const std::string& path, int line, const std::string& what) {
  throw RasterError(fmt::format("{}:{}: {}", path, line, what));
}

}  // namespace

RasterD ReadAsciiGrid(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RasterError(fmt::format("{}: cannot open ESRI ASCII grid", path));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();

  // Header: "key value" lines until the first line that starts with a number.
  std::map<std::string, std::pair<double, int>> header;  // key -> (value, line)
  std::size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string l = text.substr(pos, eol - pos);
    std::size_t first = l.find_first_not_of(" \t\r");
    if (first == std::string::npos) {  // blank line
      pos = eol + 1;
      ++line;
      continue;
    }
    const char c = l[first];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') break;
    std::istringstream ls(l);
    std::string key, value, extra;
    ls >> key >> value;
    if (value.empty()) Fail(path, line, fmt::format("header key '{}' has no value", key));
    if (ls >> extra) Fail(path, line, fmt::format("header line has extra text '{}'", extra));
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || errno == ERANGE)
      Fail(path, line, fmt::format("header key '{}': expected a number, got '{}'", key, value));
    key = Lower(key);
    static const char* kKnown[] = {"ncols",     "nrows",       "xllcorner", "yllcorner",
                                   "xllcenter", "yllcenter",   "cellsize",  "dx",
                                   "dy",        "nodata_value"};
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; }) == std::end(kKnown))
      Fail(path, line, fmt::format("unknown header key '{}'", key));
    if (header.count(key)) Fail(path, line, fmt::format("header key '{}' given twice", key));
    header[key] = {v, line};
    pos = eol + 1;
    ++line;
  }
  auto need = [&](const char* key) {
    auto it = header.find(key);
    if (it == header.end()) Fail(path, line, fmt::format("header key '{}' missing", key));
    return it->second.first;
  };
  const double ncols_d = need("ncols");
  const double nrows_d = need("nrows");
  if (ncols_d < 1 || nrows_d < 1 || ncols_d != std::floor(ncols_d) ||
      nrows_d != std::floor(nrows_d) || ncols_d * nrows_d > 2.0e9)
    Fail(path, header["ncols"].second, "ncols and nrows must be positive integers");
  const int cols = static_cast<int>(ncols_d);
  const int rows = static_cast<int>(nrows_d);

  double dx = 0, dy = 0;
  if (header.count("cellsize")) {
    dx = dy = header["cellsize"].first;
  } else if (header.count("dx") && header.count("dy")) {
    dx = header["dx"].first;
    dy = header["dy"].first;
  } else {
    Fail(path, line, "header key 'cellsize' (or 'dx' and 'dy') missing");
  }
  if (!(dx > 0) || !(dy > 0)) Fail(path, line, "cell size must be > 0");

  GeoTransform gt;
  gt.cell_width = dx;
  gt.cell_height = dy;
  if (header.count("xllcorner")) {
    gt.x_west = header["xllcorner"].first;
  } else if (header.count("xllcenter")) {
    gt.x_west = header["xllcenter"].first - 0.5 * dx;
  } else {
    Fail(path, line, "header key 'xllcorner' (or 'xllcenter') missing");
  }
  double y_south = 0;
  if (header.count("yllcorner")) {
    y_south = header["yllcorner"].first;
  } else if (header.count("yllcenter")) {
    y_south = header["yllcenter"].first - 0.5 * dy;
  } else {
    Fail(path, line, "header key 'yllcorner' (or 'yllcenter') missing");
  }
  gt.y_north = y_south + rows * dy;

  RasterD r(cols, rows, gt, 0.0);
  if (header.count("nodata_value")) r.set_nodata(header["nodata_value"].first);

  // Body: cols*rows numbers, whitespace separated, rows north to south.
  const char* p = text.c_str() + std::min(pos, text.size());
  const char* endp = text.c_str() + text.size();
  std::size_t n = 0;
  const std::size_t total = static_cast<std::size_t>(cols) * rows;
  auto& data = r.data();
  while (true) {
    while (p < endp && std::isspace(static_cast<unsigned char>(*p))) {
      if (*p == '\n') ++line;
      ++p;
    }
    if (p >= endp) break;
    char* e = nullptr;
    const double v = std::strtod(p, &e);
    if (e == p) {
      std::string tok(p, std::find_if(p, endp, [](char ch) {
                        return std::isspace(static_cast<unsigned char>(ch));
                      }));
      Fail(path, line, fmt::format("expected a number, got '{}'", tok.substr(0, 40)));
    }
    if (n >= total) Fail(path, line, fmt::format("more values than ncols*nrows = {}", total));
    data[n++] = v;
    p = e;
  }
  if (n != total)
    Fail(path, line,
         fmt::format("expected ncols*nrows = {}*{} = {} values, found {}", cols, rows, total, n));
  return r;
}

void WriteAsciiGrid(const std::string& path, const RasterD& r, int digits) {
  try {
    common::AtomicFile f(path);
    const auto& gt = r.geo();
    std::string out;
    out += fmt::format("ncols        {}\nnrows        {}\n", r.cols(), r.rows());
    out += fmt::format("xllcorner    {:.17g}\nyllcorner    {:.17g}\n", gt.x_west,
                       gt.y_north - r.rows() * gt.cell_height);
    if (gt.cell_width == gt.cell_height) {
      out += fmt::format("cellsize     {:.17g}\n", gt.cell_width);
    } else {
      out += fmt::format("dx           {:.17g}\ndy           {:.17g}\n", gt.cell_width,
                         gt.cell_height);
    }
    const double nodata = r.nodata().value_or(-9999.0);
    const std::string nodata_text = fmt::format("{:.17g}", nodata);
    out += fmt::format("NODATA_value {}\n", nodata_text);
    for (int row = 0; row < r.rows(); ++row) {
      for (int col = 0; col < r.cols(); ++col) {
        if (col) out += ' ';
        // Nodata cells carry the header's value exactly, whatever `digits`
        // (rounded, -9999 at 3 digits would read back as -1e+04: data).
        if (r.IsNodata(col, row)) {
          out += nodata_text;
        } else {
          out += fmt::format("{:.{}g}", r(col, row), digits);
        }
      }
      out += '\n';
      if (out.size() > (1 << 20)) {
        f.Write(out);
        out.clear();
      }
    }
    f.Write(out);
    f.Commit();
  } catch (const common::FileError& e) {
    throw RasterError(e.what());
  }
}

}  // namespace floodwarn::grids
