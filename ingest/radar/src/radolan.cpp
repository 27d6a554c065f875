// RADOLAN composite decoder (see radolan.hpp).
#include "floodwarn/ingest/radolan.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <fmt/format.h>
#include <ogr_spatialref.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "floodwarn/common/time.hpp"

namespace floodwarn::ingest {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEarthRadiusKm = 6370.040;  // DWD's sphere for VS < 5

[[noreturn]] void Fail(const std::string& source, std::size_t offset, const std::string& what) {
  throw RadolanError(fmt::format("{}: byte {}: {}", source, offset, what));
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

bool ToInt(std::string_view s, long& out) {
  const std::string t = Trimmed(s);
  if (t.empty() || t.size() > 12) return false;
  long v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Header tokens after the fixed 17-character prefix. The value of a token
// runs to the start of the next token; MS and ST carry a 3-digit length and
// free text, cut out first so that nothing inside them reads as a token.
constexpr std::string_view kTokens[] = {"BY", "VS", "SW", "PR", "INT", "GP", "BG", "VV",
                                        "MF", "QN", "VR", "LV", "CS",  "MX", "MS", "ST"};

}  // namespace

std::string Gunzip(std::string_view bytes, const std::string& source, std::size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) Fail(source, 0, "zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 0xFFFFFFFFu));
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const std::size_t at = zs.total_in;
      inflateEnd(&zs);
      Fail(source, at, rc == Z_BUF_ERROR ? "truncated gzip stream" : "corrupt gzip stream");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_output) {
      inflateEnd(&zs);
      Fail(source, 0, fmt::format("gzip content larger than {} bytes", max_output));
    }
  }
  inflateEnd(&zs);
  return out;
}

RadolanHeader ParseRadolanHeader(std::string_view bytes, const std::string& source) {
  RadolanHeader h;
  const std::size_t limit = std::min<std::size_t>(bytes.size(), 4096);
  const std::size_t etx = bytes.substr(0, limit).find('\x03');
  if (etx == std::string_view::npos)
    Fail(source, 0, "no end of header (ETX 0x03) in the first 4096 bytes: not a RADOLAN file");
  h.header_length = etx;
  std::string hdr(bytes.substr(0, etx));
  for (char c : hdr)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
      Fail(source, 0, "non-ASCII character in the header");
  if (hdr.size() < 17) Fail(source, 0, "header shorter than its fixed 17-character part");
  h.product = hdr.substr(0, 2);
  if (!std::isupper(static_cast<unsigned char>(h.product[0])) ||
      !std::isalnum(static_cast<unsigned char>(h.product[1])))
    Fail(source, 0, fmt::format("product '{}': expected two capital letters/digits", h.product));
  long dd, hh, mi, mm, yy;
  if (!ToInt(hdr.substr(2, 2), dd) || !ToInt(hdr.substr(4, 2), hh) ||
      !ToInt(hdr.substr(6, 2), mi) || !ToInt(hdr.substr(13, 2), mm) ||
      !ToInt(hdr.substr(15, 2), yy))
    Fail(source, 2, "expected the time as DDHHMM ... MMYY");
  auto t =
      common::CivilToTime(static_cast<int>(2000 + yy), static_cast<int>(mm), static_cast<int>(dd),
                          static_cast<int>(hh), static_cast<int>(mi), 0, 0, 0);
  if (!t) Fail(source, 2, "invalid date/time in the header");
  h.time = *t;
  h.radar_id = Trimmed(hdr.substr(8, 5));
  // Cut out MS/ST free text.
  std::string rest = hdr.substr(17);
  for (std::string_view key : {"MS", "ST"}) {
    const std::size_t p = rest.find(key);
    if (p == std::string::npos) continue;
    long len = 0;
    if (p + 5 > rest.size() || !ToInt(rest.substr(p + 2, 3), len) ||
        p + 5 + static_cast<std::size_t>(len) > rest.size())
      Fail(source, 17 + p, fmt::format("{}: expected a 3-digit length and that much text", key));
    const std::string text = rest.substr(p + 5, static_cast<std::size_t>(len));
    if (key == "MS") {
      std::string list = text;
      const auto lt = list.find('<');
      const auto gt = list.rfind('>');
      if (lt != std::string::npos && gt != std::string::npos && gt > lt)
        list = list.substr(lt + 1, gt - lt - 1);
      std::stringstream ss(list);
      std::string r;
      while (std::getline(ss, r, ','))
        if (!Trimmed(r).empty()) h.radars.push_back(Trimmed(r));
    }
    rest.erase(p, 5 + static_cast<std::size_t>(len));
  }
  // Token positions.
  std::vector<std::pair<std::size_t, std::string_view>> found;
  for (std::string_view k : kTokens) {
    const std::size_t p = rest.find(k);
    if (p != std::string::npos) found.emplace_back(p, k);
  }
  std::sort(found.begin(), found.end());
  bool have_grid = false;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const std::size_t start = found[i].first + found[i].second.size();
    const std::size_t end = i + 1 < found.size() ? found[i + 1].first : rest.size();
    if (end < start) continue;  // overlapping matches (e.g. "INT" inside a value)
    const std::string_view key = found[i].second;
    const std::string val = Trimmed(std::string_view(rest).substr(start, end - start));
    const std::size_t off = 17 + found[i].first;
    long n = 0;
    if (key == "BY") {
      if (!ToInt(val, n)) Fail(source, off, fmt::format("BY '{}': expected a byte count", val));
      h.bytes = n;
    } else if (key == "VS") {
      if (!ToInt(val, n)) Fail(source, off, fmt::format("VS '{}': expected a version number", val));
      h.version = static_cast<int>(n);
    } else if (key == "SW") {
      h.software = val;
    } else if (key == "PR") {
      // " E-01" -> 10^-1
      if (val.size() < 2 || val[0] != 'E' || !(val[1] == '-' || val[1] == '+'))
        Fail(source, off, fmt::format("PR '{}': expected E-01, E-02, E+00 ...", val));
      long e = 0;
      if (!ToInt(val.substr(2), e) || e > 6)
        Fail(source, off, fmt::format("PR '{}': expected E-01, E-02, E+00 ...", val));
      h.precision =
          std::pow(10.0, val[1] == '-' ? -static_cast<double>(e) : static_cast<double>(e));
    } else if (key == "INT") {
      if (!ToInt(val, n) || n <= 0 || n > 100000)
        Fail(source, off, fmt::format("INT '{}': expected the interval in minutes", val));
      h.interval_minutes = static_cast<int>(n);
    } else if (key == "GP" || key == "BG") {
      const std::size_t x = val.find('x');
      long r = 0, c = 0;
      if (x == std::string::npos || !ToInt(val.substr(0, x), r) || !ToInt(val.substr(x + 1), c) ||
          r <= 0 || c <= 0 || r > 10000 || c > 10000)
        Fail(source, off, fmt::format("{} '{}': expected rows x cols", key, val));
      h.rows = static_cast<int>(r);
      h.cols = static_cast<int>(c);
      have_grid = true;
    }
  }
  if (!have_grid) Fail(source, 17, "no grid size (GP rows x cols, or BG) in the header");
  if (h.interval_minutes == 0) Fail(source, 17, "no interval (INT) in the header");
  return h;
}

std::string RadolanProj4(int version) {
  if (version >= 5)
    return "+proj=stere +lat_0=90 +lat_ts=60 +lon_0=10 +a=6378137 +b=6356752.3142451802 "
           "+x_0=543196.83521776402 +y_0=3622588.8619310018 +units=m +no_defs";
  return "+proj=stere +lat_0=90 +lat_ts=60 +lon_0=10 +x_0=0 +y_0=0 +R=6370040 +units=m +no_defs";
}

std::string RadolanWkt(int version) {
  // Built once per earth model (PROJ database lookups are slow).
  static std::mutex mu;
  static std::map<bool, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto it = cache.find(version >= 5);
  if (it != cache.end()) return it->second;
  CPLPushErrorHandler(CPLQuietErrorHandler);
  OGRSpatialReference srs;
  const OGRErr err = srs.importFromProj4(RadolanProj4(version).c_str());
  char* wkt = nullptr;
  const char* options[] = {"FORMAT=WKT2_2019", nullptr};
  if (err == OGRERR_NONE) srs.exportToWkt(&wkt, options);
  CPLPopErrorHandler();
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  if (out.empty()) throw RadolanError("cannot build the RADOLAN CRS with GDAL/PROJ");
  cache[version >= 5] = out;
  return out;
}

std::pair<double, double> RadolanProject(double lon, double lat) {
  const double phi0 = 60.0 * kPi / 180.0;
  const double phi = lat * kPi / 180.0;
  const double lam = (lon - 10.0) * kPi / 180.0;
  const double m = (1.0 + std::sin(phi0)) / (1.0 + std::sin(phi));
  return {kEarthRadiusKm * m * std::cos(phi) * std::sin(lam),
          -kEarthRadiusKm * m * std::cos(phi) * std::cos(lam)};
}

std::pair<double, double> RadolanUnproject(double x, double y) {
  const double s = 1.0 + std::sin(60.0 * kPi / 180.0);
  const double fac = kEarthRadiusKm * kEarthRadiusKm * s * s;
  const double r2 = x * x + y * y;
  return {std::atan2(x, -y) * 180.0 / kPi + 10.0, std::asin((fac - r2) / (fac + r2)) * 180.0 / kPi};
}

grids::GeoTransform RadolanGeoTransform(int rows, int cols, int version) {
  grids::GeoTransform gt;
  if (version >= 5) {
    if (rows == 1200 && cols == 1100) {
      // DE1200 on WGS84: the north-west cell's centre is at (0, 0).
      gt.x_west = -500.0;
      gt.y_north = 500.0;
      gt.cell_width = gt.cell_height = 1000.0;
      return gt;
    }
    throw RadolanError(fmt::format(
        "RADOLAN grid {}x{} with the WGS84 earth model (VS {}) is not supported (DE1200 is)", rows,
        cols, version));
  }
  struct Def {
    int rows, cols;
    double j0, i0, res;  // km
  };
  static constexpr Def kDefs[] = {{900, 900, 450, 450, 1},
                                  {1100, 900, 370, 550, 1},
                                  {1500, 1400, 600, 800, 1},
                                  {460, 460, 460, 460, 2},
                                  {1200, 1100, 470, 600, 1}};
  for (const Def& d : kDefs) {
    if (d.rows != rows || d.cols != cols) continue;
    // The grid is tied to the point 9 E 51 N (format description, wradlib's
    // get_radolan_grid).
    const auto [x0, y0] = RadolanProject(9.0, 51.0);
    gt.x_west = (x0 - d.j0) * 1000.0;
    gt.y_north = (y0 - d.i0 + rows * d.res) * 1000.0;
    gt.cell_width = gt.cell_height = d.res * 1000.0;
    return gt;
  }
  throw RadolanError(
      fmt::format("RADOLAN grid {}x{} (rows x cols) is not a known grid", rows, cols));
}

RadolanComposite DecodeRadolan(std::string_view bytes, const std::string& source) {
  std::string inflated;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1F &&
      static_cast<unsigned char>(bytes[1]) == 0x8B) {
    inflated = Gunzip(bytes, source);
    bytes = inflated;
  }
  RadolanComposite out;
  RadolanHeader& h = out.header;
  h = ParseRadolanHeader(bytes, source);
  const std::size_t cells = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.cols);
  const std::size_t data_off = h.header_length + 1;
  const std::size_t have = bytes.size() - data_off;
  const bool byte_product = h.product == "RX" || h.product == "EX" || h.product == "WX" ||
                            h.product == "WN" || h.product == "PG" || h.product == "PC";
  if (byte_product || (h.bytes > 0 && static_cast<std::size_t>(h.bytes) == data_off + cells))
    Fail(source, data_off,
         fmt::format("product {} holds 1 byte per cell (RX/EX/WX reflectivity) or is run-length "
                     "encoded (PG/PC): only 16-bit products (RW, YW, RY, SF, ...) are supported",
                     h.product));
  if (have < 2 * cells)
    Fail(source, bytes.size(),
         fmt::format("truncated: {}x{} cells need {} data bytes, the file has {}", h.rows, h.cols,
                     2 * cells, have));
  const grids::GeoTransform gt = RadolanGeoTransform(h.rows, h.cols, h.version);
  out.rain_rate = grids::RasterD(h.cols, h.rows, gt, 0.0);
  out.rain_rate.set_crs_wkt(RadolanWkt(h.version));
  out.flags.assign(cells, 0);
  const double to_rate = h.precision * 60.0 / h.interval_minutes;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + data_off);
  double mx = -std::numeric_limits<double>::infinity();
  for (int fr = 0; fr < h.rows; ++fr) {
    const int row = h.rows - 1 - fr;  // file rows run south to north
    for (int c = 0; c < h.cols; ++c) {
      const std::size_t k = static_cast<std::size_t>(fr) * h.cols + c;
      const unsigned v =
          static_cast<unsigned>(p[2 * k]) | (static_cast<unsigned>(p[2 * k + 1]) << 8);
      std::uint8_t f = 0;
      if (v & 0x1000) f |= kRadolanSecondary;
      if (v & 0x2000) f |= kRadolanNoData;
      if (v & 0x4000) f |= kRadolanNegative;
      if (v & 0x8000) f |= kRadolanClutter;
      out.flags[static_cast<std::size_t>(row) * h.cols + c] = f;
      out.secondary_count += (f & kRadolanSecondary) ? 1 : 0;
      out.nodata_count += (f & kRadolanNoData) ? 1 : 0;
      out.clutter_count += (f & kRadolanClutter) ? 1 : 0;
      double rate = nan;
      if (!(f & (kRadolanNoData | kRadolanClutter))) {
        rate = (v & 0x0FFF) * to_rate;
        if (f & kRadolanNegative) rate = -rate;
        mx = std::max(mx, rate);
      }
      out.rain_rate(c, row) = rate;
    }
  }
  out.max_rate = std::isfinite(mx) ? mx : 0.0;
  return out;
}

RadolanComposite ReadRadolanFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RadolanError(fmt::format("{}: cannot open", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return DecodeRadolan(ss.str(), path);
}

}  // namespace floodwarn::ingest
