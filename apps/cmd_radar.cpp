// `floodwarn radar convert RADOLAN... --dem DEM --out rain.nc [--start ISO]`:
// RADOLAN composites -> one CF-1.8 NetCDF rain series on the DEM's grid, and
// the [rain] table to paste into a scenario. Wiring only: the conversion is
// floodwarn::ingest::ConvertRadolanSeries (docs/ingest/RADAR.md).
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/ingest/csv.hpp"
#include "floodwarn/ingest/radar_series.hpp"

namespace floodwarn::apps {
namespace {

namespace fi = floodwarn::ingest;

struct ConvertArgs {
  std::vector<std::string> files;
  std::string dem;
  std::string dem_crs;
  std::string out;
  std::string start;
  double max_nodata_share = 0.01;
  std::string command_line;
};

int Convert(const ConvertArgs& a) {
  try {
    grids::RasterD dem = grids::ReadRaster(a.dem);
    if (!a.dem_crs.empty()) {
      if (!dem.crs_wkt().empty() && !grids::SameCrs(dem.crs_wkt(), a.dem_crs))
        throw std::runtime_error(fmt::format(
            "{}: the DEM has its own CRS, which differs from --dem-crs {}; leave --dem-crs out "
            "(it is only for DEMs without a CRS, e.g. ESRI ASCII grids)",
            a.dem, a.dem_crs));
      dem.set_crs_wkt(a.dem_crs);
    }
    fi::RadarSeriesOptions opt;
    opt.max_nodata_share = a.max_nodata_share;
    opt.history = a.command_line;
    if (!a.start.empty()) {
      std::string err;
      opt.start = fi::ParseIsoTime(a.start, &err);
      if (!opt.start)
        throw std::runtime_error(fmt::format(
            "--start '{}': expected an ISO 8601 time with offset, e.g. 2014-08-03T08:50:00Z ({})",
            a.start, err));
    }
    const fi::RadarSeriesResult r = fi::ConvertRadolanSeries(a.files, dem, a.dem, a.out, opt);
    for (const std::string& s : r.skipped)
      fmt::print("skipped {} (its interval ends at or before the start)\n", s);
    fmt::print("{:<40} {:>20} {:>10} {:>10} {:>10} {:>10}\n", "file", "interval end", "t (s)",
               "mean mm", "max mm", "no data");
    for (const auto& f : r.frames)
      fmt::print("{:<40} {:>20} {:>10.0f} {:>10.3f} {:>10.2f} {:>9.2f}%\n",
                 std::filesystem::path(f.path).filename().string(), fi::FormatIsoTime(f.end),
                 f.time_s, f.mean_mm, f.max_mm, 100.0 * f.nodata_share);
    fmt::print(
        "wrote {}: {} frame(s) of RADOLAN {} ({} min) on the {}x{} grid of {} ({} active cells), "
        "bilinear reprojection; variable {} (mm per interval)\n",
        r.out_path, r.frames.size(), r.product, r.interval_minutes, dem.cols(), dem.rows(), a.dem,
        r.active_cells, fi::kRadarVariable);
    if (r.nodata_cells_total > 0)
      fmt::print(
          "WARNING: {} cell-frames inside the DEM had no radar data and were set to 0 mm (worst "
          "frame {:.2f} % of the active cells; per frame in the variable radar_nodata_share)\n",
          r.nodata_cells_total, 100.0 * r.nodata_share_max);
    fmt::print(
        "\nPaste into the scenario (grid relative to the scenario file's folder, or absolute):\n"
        "\n{}",
        r.RainToml(std::filesystem::absolute(a.out).lexically_normal().string()));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

}  // namespace

void AddRadarCommands(CLI::App& app, Commands& out) {
  CLI::App* radar = app.add_subcommand("radar", "Radar rain (DWD RADOLAN) for scenarios");
  radar->require_subcommand(1);
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* convert = radar->add_subcommand(
      "convert",
      "Reproject RADOLAN composites onto a DEM's grid and write one CF-NetCDF rain series "
      "(mm per interval) for a scenario's [rain] grid; prints the [rain] table");
  convert->add_option("files", args->files, "RADOLAN composites (raw or .gz), any order")
      ->required()
      ->check(CLI::ExistingFile);
  convert->add_option("--dem", args->dem, "The scenario's DEM (GeoTIFF with CRS, NetCDF, ...)")
      ->required();
  convert->add_option("--dem-crs", args->dem_crs,
                      "CRS of a DEM that carries none (ESRI ASCII), e.g. EPSG:25832");
  convert->add_option("--out", args->out, "Output NetCDF file (written via a temporary name)")
      ->required();
  convert->add_option("--start", args->start,
                      "Scenario time 0 (ISO 8601, e.g. 2014-08-03T08:50:00Z), an interval "
                      "boundary; default: the start of the first composite's interval");
  convert
      ->add_option("--max-nodata-share", args->max_nodata_share,
                   "Largest share (0..1) of active DEM cells without radar data per frame that "
                   "may be set to 0 mm; above it the conversion fails")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  out.push_back({convert, [args] {
                   // The file's history attribute: how it was made.
                   std::string line = "floodwarn radar convert";
                   for (const auto& f : args->files) line += " " + f;
                   line += " --dem " + args->dem + " --out " + args->out;
                   if (!args->dem_crs.empty()) line += " --dem-crs " + args->dem_crs;
                   if (!args->start.empty()) line += " --start " + args->start;
                   line += fmt::format(" --max-nodata-share {}", args->max_nodata_share);
                   args->command_line = line;
                   return Convert(*args);
                 }});
}

}  // namespace floodwarn::apps
