// Flood map rendering with cairo (image surface, toy text API, PNG writer).
#include "floodwarn/impacts/flood_map.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/common/atomic_file.hpp"

namespace floodwarn::impacts {

using grids::GeoTransform;
using grids::RasterD;

namespace {

constexpr const char* kFont = "DejaVu Sans";
constexpr std::uint32_t kBuildingRgb = 0x4a4a4a;
constexpr int kMargin = 18;
constexpr int kHeaderHeight = 92;
constexpr int kFooterHeight = 34;
constexpr int kLegendWidth = 370;
constexpr double kPi = 3.14159265358979323846;

struct Rgb {
  double r, g, b;
};
Rgb FromHex(std::uint32_t v) {
  return {((v >> 16) & 0xff) / 255.0, ((v >> 8) & 0xff) / 255.0, (v & 0xff) / 255.0};
}

// Hillshade (Horn's method, sun from the north-west at 45 degrees, relief
// exaggerated twice) in [0, 1]; NaN for nodata cells.
std::vector<double> Hillshade(const RasterD& dem) {
  const int nc = dem.cols(), nr = dem.rows();
  const double zf = 2.0;
  const double az = 315.0 * kPi / 180.0, alt = 45.0 * kPi / 180.0;
  const double cw = dem.geo().cell_width, ch = dem.geo().cell_height;
  std::vector<double> out(static_cast<std::size_t>(nc) * nr, std::nan(""));
  auto z = [&](int c, int r, double centre) {
    c = std::clamp(c, 0, nc - 1);
    r = std::clamp(r, 0, nr - 1);
    return dem.IsNodata(c, r) ? centre : dem(c, r);
  };
  for (int r = 0; r < nr; ++r) {
    for (int c = 0; c < nc; ++c) {
      if (dem.IsNodata(c, r)) continue;
      const double e = dem(c, r);
      const double a = z(c - 1, r - 1, e), b = z(c, r - 1, e), cc = z(c + 1, r - 1, e);
      const double d = z(c - 1, r, e), f = z(c + 1, r, e);
      const double g = z(c - 1, r + 1, e), h = z(c, r + 1, e), i = z(c + 1, r + 1, e);
      // The usual (ESRI) formulation: dz/dx rises eastwards, dz/dy rises
      // southwards (rows go south); the sun's azimuth turned into a math angle.
      const double dzdx = ((cc + 2 * f + i) - (a + 2 * d + g)) / (8.0 * cw) * zf;
      const double dzdy = ((g + 2 * h + i) - (a + 2 * b + cc)) / (8.0 * ch) * zf;
      const double slope = std::atan(std::hypot(dzdx, dzdy));
      const double aspect = std::atan2(dzdy, -dzdx);
      const double sun = 2.0 * kPi - az + kPi / 2.0;
      const double s = std::sin(alt) * std::cos(slope) +
                       std::cos(alt) * std::sin(slope) * std::cos(sun - aspect);
      out[static_cast<std::size_t>(r) * nc + c] = std::clamp(s, 0.0, 1.0);
    }
  }
  return out;
}

std::string Metres(double v) {
  if (v >= 1000.0) return fmt::format("{:g} km", v / 1000.0);
  return fmt::format("{:g} m", v);
}

std::string DepthText(double v) {
  // Legend bounds: 0.05 m, 0.1 m, 1 m.
  return fmt::format("{:g}", v);
}

class Painter {
 public:
  explicit Painter(cairo_t* cr) : cr_(cr) {}

  void Font(double size, bool bold = false) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
  }
  double TextWidth(const std::string& s) {
    cairo_text_extents_t ext;
    cairo_text_extents(cr_, s.c_str(), &ext);
    return ext.x_advance;
  }
  void Text(double x, double y, const std::string& s, Rgb c = {0.08, 0.08, 0.08}) {
    cairo_set_source_rgb(cr_, c.r, c.g, c.b);
    cairo_move_to(cr_, x, y);
    cairo_show_text(cr_, s.c_str());
  }
  // Text with a white halo, readable over any background.
  void HaloText(double x, double y, const std::string& s) {
    cairo_move_to(cr_, x, y);
    cairo_text_path(cr_, s.c_str());
    cairo_set_source_rgba(cr_, 1, 1, 1, 0.92);
    cairo_set_line_width(cr_, 4.0);
    cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke_preserve(cr_);
    cairo_set_source_rgb(cr_, 0.05, 0.05, 0.05);
    cairo_fill(cr_);
  }
  void Rect(double x, double y, double w, double h, Rgb fill, bool outline = true) {
    cairo_rectangle(cr_, x, y, w, h);
    cairo_set_source_rgb(cr_, fill.r, fill.g, fill.b);
    if (outline) {
      cairo_fill_preserve(cr_);
      cairo_set_source_rgb(cr_, 0.2, 0.2, 0.2);
      cairo_set_line_width(cr_, 1.0);
      cairo_stroke(cr_);
    } else {
      cairo_fill(cr_);
    }
  }
  // A round marker with a letter for the kind of place.
  void Marker(double x, double y, const std::string& kind) {
    Rgb fill{0.1, 0.1, 0.1};
    std::string letter;
    if (kind == "hospital") fill = FromHex(0xd7191c), letter = "H";
    if (kind == "school") fill = FromHex(0xf28e00), letter = "S";
    if (kind == "underpass") fill = FromHex(0x7b3294), letter = "U";
    if (kind == "gauge") fill = FromHex(0x1a9641), letter = "G";
    const double rad = 10.0;
    cairo_arc(cr_, x, y, rad, 0, 2 * kPi);
    cairo_set_source_rgb(cr_, fill.r, fill.g, fill.b);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_set_line_width(cr_, 2.5);
    cairo_stroke(cr_);
    if (!letter.empty()) {
      Font(12, true);
      cairo_text_extents_t ext;
      cairo_text_extents(cr_, letter.c_str(), &ext);
      Text(x - ext.x_bearing - ext.width / 2, y - ext.y_bearing - ext.height / 2, letter,
           {1, 1, 1});
    }
  }

 private:
  cairo_t* cr_;
};

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

double NiceLength(double target) {
  const double p = std::pow(10.0, std::floor(std::log10(target)));
  for (double m : {5.0, 2.0, 1.0})
    if (m * p <= target) return m * p;
  return p;
}

}  // namespace

std::vector<DepthClass> DefaultDepthClasses() {
  return {
      {0.05, 0.1, 0xc6dbef, "ankle-deep, puddles"},
      {0.1, 0.3, 0x9ecae1, "up to the knee, cellars flood"},
      {0.3, 0.5, 0x6baed6, "cars can float away"},
      {0.5, 1.0, 0x3182bd, "dangerous to walk in"},
      {1.0, std::numeric_limits<double>::infinity(), 0x08519c, "life-threatening"},
  };
}

void RenderFloodMap(const std::string& path_png, const RasterD& dem, const RasterD& max_depth,
                    const FloodMapOptions& options) {
  if (dem.cols() != max_depth.cols() || dem.rows() != max_depth.rows() ||
      !dem.geo().SameGrid(max_depth.geo()))
    throw std::invalid_argument(fmt::format(
        "RenderFloodMap: the depth raster ({}x{}) does not match the DEM's grid ({}x{})",
        max_depth.cols(), max_depth.rows(), dem.cols(), dem.rows()));
  const int nc = dem.cols(), nr = dem.rows();
  const GeoTransform& geo = dem.geo();

  // Map size: the longer side fits max_map_pixels; small grids enlarged (<= 8 px per cell).
  const double scale =
      std::min(8.0, static_cast<double>(std::max(options.max_map_pixels, 100)) / std::max(nc, nr));
  const int map_w = std::max(1, static_cast<int>(std::lround(nc * scale)));
  const int map_h = std::max(1, static_cast<int>(std::lround(nr * scale)));
  const int legend_min_h = 250 + 44 * static_cast<int>(options.classes.size()) +
                           30 * static_cast<int>(options.points.size()) + 200;
  const int width = kMargin + map_w + kMargin + kLegendWidth + kMargin;
  const int height = kHeaderHeight + std::max(map_h, legend_min_h) + kFooterHeight;
  const int map_x = kMargin, map_y = kHeaderHeight;

  std::unique_ptr<cairo_surface_t, SurfaceDeleter> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(
        fmt::format("RenderFloodMap: cannot create a {}x{} image: {}", width, height,
                    cairo_status_to_string(cairo_surface_status(surface.get()))));
  std::unique_ptr<cairo_t, ContextDeleter> ctx(cairo_create(surface.get()));
  cairo_t* cr = ctx.get();
  Painter p(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);

  // --- The map raster: each pixel averages the cells it covers.
  const std::vector<double> shade = Hillshade(dem);
  auto depth_at = [&](int c, int r) {
    if (max_depth.IsNodata(c, r)) return 0.0;
    return max_depth(c, r);
  };
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  const Rgb building = FromHex(kBuildingRgb);
  for (int py = 0; py < map_h; ++py) {
    const int r0 = std::min(nr - 1, static_cast<int>(py / scale));
    const int r1 = std::max(r0 + 1, std::min(nr, static_cast<int>((py + 1) / scale)));
    for (int px = 0; px < map_w; ++px) {
      const int c0 = std::min(nc - 1, static_cast<int>(px / scale));
      const int c1 = std::max(c0 + 1, std::min(nc, static_cast<int>((px + 1) / scale)));
      int n_active = 0, n_total = 0;
      double s_sum = 0, d_sum = 0;
      for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c) {
          ++n_total;
          if (dem.IsNodata(c, r)) continue;
          ++n_active;
          s_sum += shade[static_cast<std::size_t>(r) * nc + c];
          d_sum += depth_at(c, r);
        }
      Rgb col = building;
      if (2 * n_active > n_total) {
        const double depth = d_sum / n_active;
        const double g = (105.0 + 145.0 * (s_sum / n_active)) / 255.0;
        col = {g, g, g};
        for (const DepthClass& k : options.classes)
          if (depth >= k.lower && depth < k.upper) col = FromHex(k.rgb);
      }
      auto* px_ptr =
          reinterpret_cast<std::uint32_t*>(data + static_cast<std::size_t>(map_y + py) * stride) +
          (map_x + px);
      *px_ptr = (static_cast<std::uint32_t>(std::lround(col.r * 255)) << 16) |
                (static_cast<std::uint32_t>(std::lround(col.g * 255)) << 8) |
                static_cast<std::uint32_t>(std::lround(col.b * 255));
    }
  }
  cairo_surface_mark_dirty(surface.get());
  cairo_rectangle(cr, map_x - 0.5, map_y - 0.5, map_w + 1, map_h + 1);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);

  // --- Places: markers and labels (with the depth there) on the map.
  auto to_px = [&](double x, double y, double& px, double& py) {
    px = map_x + (x - geo.x_west) / geo.cell_width * scale;
    py = map_y + (geo.y_north - y) / geo.cell_height * scale;
  };
  auto point_label = [&](const MapPoint& mp) {
    std::string s = mp.label;
    const int c = geo.ColumnOf(mp.x), r = geo.RowOf(mp.y);
    if (options.label_depth && c >= 0 && c < nc && r >= 0 && r < nr && !dem.IsNodata(c, r)) {
      const double d = depth_at(c, r);
      s += d < 0.01 ? ": dry" : fmt::format(": max {:.2f} m", d);
    }
    return s;
  };
  for (const MapPoint& mp : options.points) {
    double px, py;
    to_px(mp.x, mp.y, px, py);
    if (px < map_x || py < map_y || px > map_x + map_w || py > map_y + map_h) continue;
    p.Marker(px, py, mp.kind);
    p.Font(14, true);
    const std::string label = point_label(mp);
    const double tw = p.TextWidth(label);
    const double lx = px + 15 + tw > map_x + map_w - 4 ? px - 15 - tw : px + 15;
    p.HaloText(lx, py + 5, label);
  }

  // --- Header.
  p.Font(26, true);
  p.Text(kMargin, 38, options.title.empty() ? "Maximum water depth" : options.title);
  p.Font(15);
  p.Text(kMargin, 66, options.subtitle, {0.25, 0.25, 0.25});

  // --- Legend panel.
  const double lx = map_x + map_w + kMargin + 6;
  double y = map_y + 18;
  p.Font(17, true);
  p.Text(lx, y, "Maximum water depth");
  y += 20;
  p.Font(13);
  p.Text(lx, y, "highest level during the event", {0.3, 0.3, 0.3});
  y += 18;
  for (const DepthClass& k : options.classes) {
    p.Rect(lx, y, 34, 24, FromHex(k.rgb));
    p.Font(14, true);
    const std::string range =
        std::isinf(k.upper) ? fmt::format("more than {} m", DepthText(k.lower))
                            : fmt::format("{} to {} m", DepthText(k.lower), DepthText(k.upper));
    p.Text(lx + 46, y + 11, range);
    p.Font(12);
    p.Text(lx + 46, y + 26, k.meaning, {0.3, 0.3, 0.3});
    y += 38;
  }
  {
    const double g = (105.0 + 145.0 * std::sin(45.0 * kPi / 180.0)) / 255.0;
    p.Rect(lx, y, 34, 24, {g, g, g});
    p.Font(14, true);
    const std::string dry =
        options.classes.empty()
            ? "dry"
            : fmt::format("dry or less than {} m", DepthText(options.classes.front().lower));
    p.Text(lx + 46, y + 11, dry);
    p.Font(12);
    p.Text(lx + 46, y + 26, "terrain shaded from the north-west", {0.3, 0.3, 0.3});
    y += 38;
    p.Rect(lx, y, 34, 24, building);
    p.Font(14, true);
    p.Text(lx + 46, y + 17, "buildings");
    y += 58;
  }
  if (!options.points.empty()) {
    p.Font(17, true);
    p.Text(lx, y, "Places (maximum depth)");
    y += 24;
    for (const MapPoint& mp : options.points) {
      p.Marker(lx + 12, y, mp.kind);
      p.Font(14);
      p.Text(lx + 32, y + 5, point_label(mp));
      y += 28;
    }
    y += 12;
  }

  // Scale bar: a round length of about a fifth of the map, two segments.
  {
    const double m_per_px = geo.cell_width / scale;
    const double max_px = std::min(kLegendWidth - 70.0, map_w / 3.0);
    const double len_m = NiceLength(max_px * m_per_px);
    const double len_px = len_m / m_per_px;
    p.Font(17, true);
    p.Text(lx, y, "Scale");
    y += 14;
    p.Rect(lx, y, len_px / 2, 8, {0.1, 0.1, 0.1});
    p.Rect(lx + len_px / 2, y, len_px / 2, 8, {1, 1, 1});
    p.Font(12);
    p.Text(lx - 3, y + 24, "0");
    const std::string half = Metres(len_m / 2);
    p.Text(lx + len_px / 2 - p.TextWidth(half) / 2, y + 24, half);
    const std::string full = Metres(len_m);
    p.Text(lx + len_px - p.TextWidth(full) / 2, y + 24, full);
    y += 44;
  }
  // North arrow.
  {
    const double cx = lx + 20, top = y + 22;
    p.Font(16, true);
    p.Text(cx - p.TextWidth("N") / 2, top - 4, "N");
    cairo_move_to(cr, cx, top);
    cairo_line_to(cr, cx + 11, top + 36);
    cairo_line_to(cr, cx, top + 28);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_fill(cr);
    cairo_move_to(cr, cx, top);
    cairo_line_to(cr, cx - 11, top + 36);
    cairo_line_to(cr, cx, top + 28);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    cairo_stroke(cr);
    p.Font(12);
    p.Text(cx + 24, top + 24,
           fmt::format("grid cell {:g} m x {:g} m", geo.cell_width, geo.cell_height),
           {0.3, 0.3, 0.3});
  }

  // Footnote.
  p.Font(12);
  p.Text(kMargin, height - 12,
         options.footnote.empty()
             ? "Model result (floodwarn), not an observation: the highest water depth reached at "
               "any time in the simulated event."
             : options.footnote,
         {0.3, 0.3, 0.3});

  cairo_surface_flush(surface.get());
  common::AtomicFile file(path_png);  // removes the temporary file unless committed
  const cairo_status_t st = cairo_surface_write_to_png(surface.get(), file.temp_path().c_str());
  if (st != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(fmt::format("cannot write the flood map {}: {}", file.temp_path(),
                                         cairo_status_to_string(st)));
  file.Commit();
}

}  // namespace floodwarn::impacts
