// RADOLAN composites -> CF-1.8 NetCDF rain series on a DEM grid (see
// radar_series.hpp and docs/ingest/RADAR.md).
#include "floodwarn/ingest/radar_series.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <utility>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/grids/cf_series_netcdf.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/ingest/radolan.hpp"

namespace floodwarn::ingest {
namespace {

struct Entry {
  std::string path;
  RadolanHeader header;
};

RadolanComposite Read(const std::string& path) {
  try {
    return ReadRadolanFile(path);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw RadarSeriesError(what);
    throw RadarSeriesError(fmt::format("{}: {}", path, what));
  }
}

std::chrono::milliseconds Interval(const RadolanHeader& h) {
  return std::chrono::minutes(h.interval_minutes);
}

double Seconds(TimePoint a, TimePoint b) {  // b - a in s
  return std::chrono::duration<double>(b - a).count();
}

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Checks that the files form one gap-free series; returns them sorted.
std::vector<Entry> SortAndCheck(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.header.time < b.header.time; });
  const Entry& first = entries.front();
  const RadolanHeader& h0 = first.header;
  if (h0.interval_minutes <= 0)
    throw RadarSeriesError(
        fmt::format("{}: product {} has interval {} min in its header (INT); expected a positive "
                    "accumulation interval",
                    first.path, h0.product, h0.interval_minutes));
  for (const Entry& e : entries) {
    const RadolanHeader& h = e.header;
    if (h.product != h0.product)
      throw RadarSeriesError(
          fmt::format("{}: product {}, but {} is product {}: a series must be one product (one "
                      "interval and grid); convert each product separately",
                      e.path, h.product, first.path, h0.product));
    if (h.interval_minutes != h0.interval_minutes)
      throw RadarSeriesError(
          fmt::format("{}: interval {} min, but {} has {} min: a series must have one interval",
                      e.path, h.interval_minutes, first.path, h0.interval_minutes));
    if (h.rows != h0.rows || h.cols != h0.cols || (h.version >= 5) != (h0.version >= 5))
      throw RadarSeriesError(
          fmt::format("{}: grid {}x{} (format version {}), but {} has {}x{} (version {}): a "
                      "series must be on one RADOLAN grid",
                      e.path, h.rows, h.cols, h.version, first.path, h0.rows, h0.cols, h0.version));
  }
  for (std::size_t i = 1; i < entries.size(); ++i) {
    const Entry& a = entries[i - 1];
    const Entry& b = entries[i];
    const auto step = b.header.time - a.header.time;
    if (step.count() == 0)
      throw RadarSeriesError(
          fmt::format("{} and {} are both for the interval ending {}: give "
                      "each composite once",
                      a.path, b.path, common::FormatIso8601(a.header.time)));
    if (step != Interval(h0)) {
      const double minutes = std::chrono::duration<double>(step).count() / 60.0;
      throw RadarSeriesError(fmt::format(
          "{} ends at {}, {} min after {} (ends {}); expected {} min ({} interval): {}", b.path,
          common::FormatIso8601(b.header.time), minutes, a.path,
          common::FormatIso8601(a.header.time), h0.interval_minutes, h0.product,
          step > Interval(h0)
              ? "composites are missing between them (the scenario would get no rain there); "
                "add them, or convert the parts before and after the gap separately"
              : "their intervals overlap, so rain would be counted twice; give composites "
                "whose intervals follow each other (e.g. hourly RW only at the same minute)"));
    }
  }
  return entries;
}

}  // namespace

std::vector<double> RadarSeriesResult::Times() const {
  std::vector<double> t;
  t.reserve(frames.size());
  for (const auto& f : frames) t.push_back(f.time_s);
  return t;
}

std::string RadarSeriesResult::RainToml(const std::string& grid_path) const {
  std::string times;
  for (std::size_t i = 0; i < frames.size(); ++i)
    times += fmt::format("{}{:.1f}", i ? ", " : "", frames[i].time_s);
  const double end = frames.empty() ? 0.0 : frames.back().time_s;
  return fmt::format(
      "[rain]\n"
      "# DWD RADOLAN {} ({} frame(s) of {} min); t = 0 s is {}; no rain after t = {:.1f} s\n"
      "grid = {}\n"
      "variable = \"{}\"\n"
      "kind = \"accumulation_mm\"\n"
      "times = [{}]\n",
      product, frames.size(), interval_minutes, common::FormatIso8601(start), end,
      TomlString(grid_path), kRadarVariable, times);
}

RadarSeriesResult ConvertRadolanSeries(const std::vector<std::string>& files,
                                       const grids::RasterD& dem, const std::string& dem_name,
                                       const std::string& out_path,
                                       const RadarSeriesOptions& options) {
  if (files.empty()) throw RadarSeriesError("no RADOLAN files given");
  if (dem.crs_wkt().empty())
    throw RadarSeriesError(fmt::format(
        "{}: the DEM has no CRS (an ESRI ASCII grid carries none): the radar grid cannot be "
        "reprojected onto it; use a GeoTIFF with its CRS or name the CRS (e.g. EPSG:25832)",
        dem_name));
  if (!(options.max_nodata_share >= 0.0 && options.max_nodata_share <= 1.0))
    throw RadarSeriesError(
        fmt::format("max_nodata_share {}: expected a share in 0..1", options.max_nodata_share));
  std::size_t active = 0;
  for (int r = 0; r < dem.rows(); ++r)
    for (int c = 0; c < dem.cols(); ++c) active += dem.IsNodata(c, r) ? 0 : 1;
  if (active == 0)
    throw RadarSeriesError(fmt::format("{}: the DEM has no active (non-nodata) cell", dem_name));

  // Pass 1: headers (each file decoded once here, and once more below, so that
  // at most one composite is held in memory whatever the series' length).
  std::vector<Entry> entries;
  entries.reserve(files.size());
  for (const std::string& f : files) entries.push_back({f, Read(f).header});
  entries = SortAndCheck(std::move(entries));
  const RadolanHeader& h0 = entries.front().header;
  const auto interval = Interval(h0);

  // t0 and the composites after it.
  const TimePoint first_start = entries.front().header.time - interval;
  const TimePoint t0 = options.start.value_or(first_start);
  RadarSeriesResult result;
  result.out_path = out_path;
  result.product = h0.product;
  result.interval_minutes = h0.interval_minutes;
  result.start = t0;
  result.active_cells = active;
  if (t0 < first_start)
    throw RadarSeriesError(fmt::format(
        "start {} is before the first composite's interval ({} covers {} .. {}): the scenario "
        "would get no rain from {} to {}; start at {} or add the earlier composites",
        common::FormatIso8601(t0), entries.front().path, common::FormatIso8601(first_start),
        common::FormatIso8601(entries.front().header.time), common::FormatIso8601(t0),
        common::FormatIso8601(first_start), common::FormatIso8601(first_start)));
  std::vector<Entry> used;
  for (const Entry& e : entries) {
    const TimePoint begin = e.header.time - interval;
    if (e.header.time <= t0) {
      result.skipped.push_back(e.path);
    } else if (begin < t0) {
      throw RadarSeriesError(fmt::format(
          "start {} falls inside the interval of {} ({} .. {}): its rain cannot be split; start "
          "at an interval boundary, e.g. {} or {}",
          common::FormatIso8601(t0), e.path, common::FormatIso8601(begin),
          common::FormatIso8601(e.header.time), common::FormatIso8601(begin),
          common::FormatIso8601(e.header.time)));
    } else {
      used.push_back(e);
    }
  }
  if (used.empty())
    throw RadarSeriesError(
        fmt::format("start {} is at or after the end of the last composite "
                    "({} ends {}): nothing to convert",
                    common::FormatIso8601(t0), entries.back().path,
                    common::FormatIso8601(entries.back().header.time)));

  const int cols = dem.cols();
  const int rows = dem.rows();
  const std::size_t n = static_cast<std::size_t>(cols) * static_cast<std::size_t>(rows);
  auto warp = [&](const grids::RasterD& src, const std::string& path) {
    try {
      return grids::ResampleTo(src, dem.geo(), cols, rows, dem.crs_wkt(),
                               grids::Resample::kBilinear);
    } catch (const std::exception& e) {
      throw RadarSeriesError(fmt::format("{}: cannot reproject onto the DEM grid of {}: {}", path,
                                         dem_name, e.what()));
    }
  };

  // Coverage: a field of ones on the RADOLAN grid, warped like the data.
  // Active DEM cells it does not reach lie outside the radar grid.
  std::string nodata_policy = fmt::format(
      "active DEM cells without radar data (RADOLAN no-data or clutter) are set to 0 mm, "
      "counted per frame in radar_nodata_share and warned about; a frame with a share above "
      "{} is refused",
      options.max_nodata_share);
  const std::string files_attr = [&] {
    std::string s;
    for (const Entry& e : used)
      s += (s.empty() ? "" : "\n") + std::filesystem::path(e.path).filename().string();
    return s;
  }();

  grids::CfSeriesVariable field;
  field.name = kRadarVariable;
  field.standard_name = "lwe_thickness_of_precipitation_amount";
  field.long_name = fmt::format(
      "radar precipitation depth over the {} min interval ending at time (DWD RADOLAN {}, "
      "liquid water equivalent)",
      h0.interval_minutes, h0.product);
  field.units = "mm";
  field.cell_methods = "time: sum";
  grids::CfSeriesVariable share_var;
  share_var.name = "radar_nodata_share";
  share_var.long_name =
      "share of the active DEM cells without radar data in this frame (set to 0 mm)";
  share_var.units = "1";
  grids::CfSeriesInfo info;
  info.title = fmt::format("Radar precipitation (DWD RADOLAN {}) on the grid of {}", h0.product,
                           std::filesystem::path(dem_name).filename().string());
  info.source =
      fmt::format("DWD RADOLAN {} composites (Quelle: Deutscher Wetterdienst)", h0.product);
  info.history = options.history;
  info.start_time = common::FormatIso8601(t0);
  info.time_bounds = true;
  info.global_attributes = {
      {"floodwarn_radar_product", h0.product},
      {"floodwarn_radar_files", files_attr},
      {"floodwarn_dem", dem_name},
      {"floodwarn_resampling",
       "GDAL warp, bilinear, from the RADOLAN polar-stereographic grid to the DEM's CRS and grid"},
      {"floodwarn_nodata_policy", nodata_policy},
      {"floodwarn_scenario_kind", "accumulation_mm"},
  };
  info.frame_scalars = {share_var};

  {
    grids::RasterD ones(h0.cols, h0.rows, RadolanGeoTransform(h0.rows, h0.cols, h0.version), 1.0);
    ones.set_crs_wkt(RadolanWkt(h0.version));
    const grids::RasterD cover = warp(ones, entries.front().path);
    std::size_t outside = 0;
    int first_c = -1, first_r = -1;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        if (!dem.IsNodata(c, r) && cover.IsNodata(c, r)) {
          if (outside++ == 0) first_c = c, first_r = r;
        }
    if (outside > 0)
      throw RadarSeriesError(fmt::format(
          "{}: {} of {} active DEM cells lie outside the RADOLAN {} grid of {} ({}x{} cells), "
          "the first at column {}, row {} (x = {}, y = {} in the DEM's CRS); expected a DEM "
          "inside the radar composite (Germany and surroundings) - check the DEM's CRS",
          dem_name, outside, active, h0.product, entries.front().path, h0.cols, h0.rows, first_c,
          first_r, dem.geo().CellCenterX(first_c), dem.geo().CellCenterY(first_r)));
  }

  // Output errors (folder missing, disk full) are series errors too; the
  // writer removes its temporary file when unwound.
  try {
    grids::CfSeriesWriter writer(out_path, dem.geo(), cols, rows, dem.crs_wkt(), field, info,
                                 options.deflate_level);
    const double hours = h0.interval_minutes / 60.0;
    std::vector<double> values(n);
    for (const Entry& e : used) {
      const RadolanComposite comp = Read(e.path);
      if (comp.header.time != e.header.time || comp.header.product != h0.product)
        throw RadarSeriesError(fmt::format("{}: changed while being converted (header now {} {})",
                                           e.path, comp.header.product,
                                           common::FormatIso8601(comp.header.time)));
      const grids::RasterD rate = warp(comp.rain_rate, e.path);
      RadarFrameReport rep;
      rep.path = e.path;
      rep.end = e.header.time;
      rep.time_s = Seconds(t0, e.header.time);
      double sum = 0.0;
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          const std::size_t k = static_cast<std::size_t>(r) * cols + c;
          const bool in_dem = !dem.IsNodata(c, r);
          if (rate.IsNodata(c, r)) {
            values[k] = in_dem ? 0.0 : std::numeric_limits<double>::quiet_NaN();
            rep.nodata_cells += in_dem ? 1 : 0;
            continue;
          }
          const double mm = std::max(0.0, rate(c, r)) * hours;
          values[k] = mm;
          if (in_dem) {
            sum += mm;
            rep.max_mm = std::max(rep.max_mm, mm);
          }
        }
      }
      rep.nodata_share = static_cast<double>(rep.nodata_cells) / static_cast<double>(active);
      rep.mean_mm = sum / static_cast<double>(active);
      if (rep.nodata_cells > 0) {
        spdlog::warn(
            "radar convert: file={} end={} nodata_cells={} active_cells={} nodata_share={:.4f} "
            "action={}",
            e.path, common::FormatIso8601(e.header.time), rep.nodata_cells, active,
            rep.nodata_share,
            rep.nodata_share > options.max_nodata_share ? "refused" : "set_to_0mm");
        if (rep.nodata_share > options.max_nodata_share)
          throw RadarSeriesError(fmt::format(
              "{}: {} of {} active DEM cells ({:.2f} %) have no radar data (RADOLAN no-data or "
              "clutter) in the interval ending {}; at most {:.2f} % may be set to 0 mm "
              "(max_nodata_share / --max-nodata-share): missing radar is not 'no rain'",
              e.path, rep.nodata_cells, active, 100.0 * rep.nodata_share,
              common::FormatIso8601(e.header.time), 100.0 * options.max_nodata_share));
      }
      writer.AppendFrame(rep.time_s, values, {rep.nodata_share},
                         rep.time_s - h0.interval_minutes * 60.0);
      result.nodata_cells_total += rep.nodata_cells;
      result.nodata_share_max = std::max(result.nodata_share_max, rep.nodata_share);
      result.frames.push_back(rep);
    }
    writer.SetGlobalAttribute("floodwarn_radar_nodata_share_max", result.nodata_share_max);
    writer.SetGlobalAttribute("floodwarn_radar_nodata_cells_total",
                              static_cast<double>(result.nodata_cells_total));
    writer.SetGlobalAttribute("floodwarn_active_cells", static_cast<double>(active));
    writer.Close();
  } catch (const RadarSeriesError&) {
    throw;
  } catch (const std::exception& e) {
    throw RadarSeriesError(e.what());
  }
  return result;
}

}  // namespace floodwarn::ingest
