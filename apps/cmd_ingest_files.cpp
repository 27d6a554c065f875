// `floodwarn ingest import FILE...` (ZRXP / CSV -> QC -> reading store; ZRXP
// forecast rows, with --include-forecasts, -> the store's forecast runs,
// never readings) and
// `floodwarn rating fit PAIRS.csv` (least-squares rating curve). Wiring only:
// the decoders, QC and the fit live in floodwarn::ingest.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "floodwarn/ingest/csv.hpp"
#include "floodwarn/ingest/qc.hpp"
#include "floodwarn/ingest/radolan.hpp"
#include "floodwarn/ingest/rating.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "floodwarn/ingest/zrxp.hpp"

namespace floodwarn::apps {
namespace {

namespace fi = floodwarn::ingest;

// Exit codes of `ingest import`: 0 all records imported, 1 usage/config/I-O
// error (nothing imported from the failing file), 3 some records were
// malformed and skipped (the good ones were imported).
constexpr int kExitPartial = 3;
constexpr std::size_t kBatch = 5000;      // readings (forecast values) per store transaction
constexpr std::size_t kHistory = 64;      // earlier readings per station as QC context
constexpr std::size_t kErrorsShown = 20;  // per file

struct ImportArgs {
  std::vector<std::string> files;
  std::string stations;
  std::string store;
  std::string station_id;
  bool include_forecasts = false;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum class Format { kZrxp, kCsv, kRadolan, kUnknown };

Format Detect(const std::string& path, const std::string& bytes) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1F &&
      static_cast<unsigned char>(bytes[1]) == 0x8B)
    return Format::kRadolan;
  if (ends(".zrx") || ends(".zrxp") || ends(".ZRX") ||
      (!bytes.empty() && bytes[0] == '#' && bytes.find("|*|") != std::string::npos))
    return Format::kZrxp;
  if (ends(".csv") || ends(".CSV")) return Format::kCsv;
  if (bytes.size() > 20 && bytes.find('\x03') != std::string::npos &&
      bytes.compare(17, 2, "BY") == 0)
    return Format::kRadolan;
  return Format::kUnknown;
}

int Import(const ImportArgs& a) {
  std::optional<fi::StationRegistry> registry;
  if (!a.stations.empty()) registry = fi::LoadStations(a.stations);
  std::unique_ptr<fi::ReadingStore> store;
  if (!a.store.empty()) store = std::make_unique<fi::ReadingStore>(a.store);
  if (!store) fmt::print("no --store given: decoding and QC only (dry run)\n");
  const fi::TimePoint now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now());
  int rc = 0;
  for (const std::string& path : a.files) {
    std::string bytes;
    try {
      bytes = ReadFile(path);
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      rc = 1;
      continue;
    }
    fi::DecodeResult decoded;
    std::size_t forecast_rows = 0;
    std::vector<fi::ForecastValue> forecasts;  // never readings (issue #12)
    switch (Detect(path, bytes)) {
      case Format::kZrxp: {
        fi::ZrxpReadingOptions opt;
        opt.default_station_id = a.station_id;
        opt.stations = registry ? &*registry : nullptr;
        const fi::ZrxpFile f = fi::ParseZrxp(bytes, path);
        for (const auto& b : f.blocks)
          for (const auto& r : b.rows) forecast_rows += r.forecast ? 1 : 0;
        decoded = fi::ZrxpToReadings(f, path, opt, a.include_forecasts ? &forecasts : nullptr);
        break;
      }
      case Format::kCsv: {
        fi::CsvOptions opt;
        opt.stations = registry ? &*registry : nullptr;
        decoded = fi::DecodeCsv(bytes, path, opt);
        break;
      }
      case Format::kRadolan: {
        try {
          const fi::RadolanComposite c = fi::DecodeRadolan(bytes, path);
          fmt::print(
              "{}: RADOLAN {} {} ({}x{}, {} min): max {:.1f} mm/h, {} no-data cells. A rain "
              "grid, not gauge readings: nothing stored (give it to a scenario as rain)\n",
              path, c.header.product, fi::FormatIsoTime(c.header.time), c.header.rows,
              c.header.cols, c.header.interval_minutes, c.max_rate, c.nodata_count);
        } catch (const fi::RadolanError& e) {
          fmt::print(stderr, "error: {}\n", e.what());
          rc = 1;
        }
        continue;
      }
      case Format::kUnknown:
        fmt::print(stderr,
                   "error: {}: unknown format (expected a ZRXP file (.zrx, '#...|*|' header), a "
                   "CSV file (.csv, header station_id,time,value[,unit]) or a RADOLAN "
                   "composite)\n",
                   path);
        rc = 1;
        continue;
    }
    for (std::size_t i = 0; i < decoded.errors.size(); ++i) {
      const auto& e = decoded.errors[i];
      if (i < kErrorsShown)
        fmt::print(stderr, "{}:{}: (byte {}) {}\n", e.source, e.line, e.offset, e.message);
      spdlog::warn("decode_error source={} line={} offset={} message=\"{}\"", e.source, e.line,
                   e.offset, e.message);
    }
    if (decoded.errors.size() > kErrorsShown)
      fmt::print(stderr, "{}: ... {} more malformed records\n", path,
                 decoded.errors.size() - kErrorsShown);
    for (auto& r : decoded.readings) r.received = now;
    for (auto& v : forecasts) v.received = now;
    if (registry) {
      fi::ApplyQcByStation(decoded.readings, *registry,
                           [&](const std::string& id, fi::TimePoint before) {
                             std::vector<fi::Reading> h;
                             if (!store) return h;
                             h = store->Query(id, before - std::chrono::hours(24 * 7), before);
                             if (h.size() > kHistory)
                               h.erase(h.begin(), h.end() - static_cast<long>(kHistory));
                             return h;
                           });
    }
    std::map<fi::QcFlag, std::size_t> by_flag;
    std::size_t unknown_stations = 0;
    for (const auto& r : decoded.readings) {
      ++by_flag[r.flag];
      if (registry && !registry->Find(r.station_id)) ++unknown_stations;
    }
    fi::WriteSummary total;
    if (store) {
      for (std::size_t i = 0; i < decoded.readings.size(); i += kBatch) {
        const std::vector<fi::Reading> batch(
            decoded.readings.begin() + static_cast<long>(i),
            decoded.readings.begin() +
                static_cast<long>(std::min(decoded.readings.size(), i + kBatch)));
        const fi::WriteSummary s = store->Write(batch);
        total.inserted += s.inserted;
        total.duplicates += s.duplicates;
      }
    }
    fi::WriteSummary forecast_total;
    if (store) {
      for (std::size_t i = 0; i < forecasts.size(); i += kBatch) {
        const std::vector<fi::ForecastValue> batch(
            forecasts.begin() + static_cast<long>(i),
            forecasts.begin() + static_cast<long>(std::min(forecasts.size(), i + kBatch)));
        const fi::WriteSummary s = store->WriteForecast(batch);
        forecast_total.inserted += s.inserted;
        forecast_total.duplicates += s.duplicates;
      }
    }
    std::string flags;
    for (const auto& [f, n] : by_flag)
      flags += fmt::format("{}{} {}", flags.empty() ? "" : ", ", n, fi::ToString(f));
    fmt::print("{}: {} readings ({}), {} malformed records skipped", path, decoded.readings.size(),
               flags.empty() ? "none" : flags, decoded.errors.size());
    if (store) fmt::print("; stored {} new, {} already present", total.inserted, total.duplicates);
    fmt::print("\n");
    if (forecast_rows > 0 && !a.include_forecasts)
      fmt::print(
          "{}: {} forecast rows not imported (readings are observations; "
          "--include-forecasts to store them as forecast runs)\n",
          path, forecast_rows);
    if (!forecasts.empty()) {
      std::set<std::pair<std::string, std::string>> runs;
      for (const auto& v : forecasts) runs.emplace(v.station_id, v.run_id);
      fmt::print("{}: {} forecast rows of {} forecast run{}, kept apart from the readings", path,
                 forecasts.size(), runs.size(), runs.size() == 1 ? "" : "s");
      if (store)
        fmt::print("; stored as forecasts {} new, {} already present", forecast_total.inserted,
                   forecast_total.duplicates);
      else
        fmt::print(" (dry run: not stored)");
      fmt::print("\n");
    }
    if (unknown_stations > 0)
      fmt::print("{}: {} readings of stations not in {} (stored without QC)\n", path,
                 unknown_stations, a.stations);
    spdlog::info(
        "import_done file={} readings={} errors={} inserted={} duplicates={} forecast_values={} "
        "forecast_inserted={} forecast_duplicates={}",
        path, decoded.readings.size(), decoded.errors.size(), total.inserted, total.duplicates,
        forecasts.size(), forecast_total.inserted, forecast_total.duplicates);
    if (!decoded.errors.empty() && rc == 0) rc = kExitPartial;
  }
  return rc;
}

int RatingFit(const std::string& path, std::optional<double> h0) {
  const std::vector<fi::StagePair> pairs = fi::ReadStagePairsCsv(path);
  const fi::RatingFit fit = fi::FitRatingCurve(pairs, h0);
  fmt::print("Rating curve Q = a (h - h0)^b fitted to {} gaugings from {}\n", pairs.size(), path);
  fmt::print("  a    = {:.6g}\n  b    = {:.6g}\n  h0   = {:.6g}{}\n", fit.a, fit.b, fit.h0,
             fit.h0_fitted ? "" : " (given)");
  fmt::print("  R2   = {:.6f}\n  RMSE = {:.6g} (units of Q)\n", fit.r2, fit.rmse);
  if (fit.h0_at_bound)
    fmt::print(
        "  warning: h0 ended at the end of its search range ({:.6g}, lowest stage {:.6g}): the "
        "gaugings do not determine h0; measure it (stage of zero flow) and pass --h0\n",
        fit.h0, std::min_element(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) {
                  return x.h < y.h;
                })->h);
  fmt::print("\n");
  fmt::print("{:>12} {:>12} {:>12} {:>12} {:>9}\n", "h", "Q measured", "Q fitted", "residual",
             "resid %");
  double hmin = pairs.front().h, hmax = pairs.front().h;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    hmin = std::min(hmin, pairs[i].h);
    hmax = std::max(hmax, pairs[i].h);
    fmt::print("{:>12.6g} {:>12.6g} {:>12.6g} {:>12.4g} {:>8.2f}%\n", pairs[i].h, pairs[i].q,
               fit.fitted[i], fit.residuals[i], 100.0 * fit.residuals[i] / pairs[i].q);
  }
  fmt::print(
      "\nFor the station registry (docs/ingest/FILES.md), set valid_from to the date the "
      "gaugings apply from:\n"
      "[[station.rating]]\nvalid_from = 2000-01-01T00:00:00Z\nmax_gauged_stage = {:.6g}\n"
      "[[station.rating.segment]]\nh_min = {:.6g}\nh_max = {:.6g}\na = {:.8g}\nb = {:.8g}\n"
      "h0 = {:.8g}\n",
      hmax, std::min(hmin, fit.h0), hmax + (hmax - hmin), fit.a, fit.b, fit.h0);
  return 0;
}

}  // namespace

void AddIngestFileCommands(CLI::App& app, Commands& out) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* ingest = app.add_subcommand("ingest", "Import readings from files");
  ingest->require_subcommand(1);
  CLI::App* imp = ingest->add_subcommand(
      "import",
      "Decode ZRXP/CSV files, run QC with the station registry, store the readings (and, with "
      "--include-forecasts, ZRXP forecast rows as forecast runs, never as readings)");
  imp->add_option("files", args->files, "ZRXP (.zrx) or CSV (.csv) files; RADOLAN is summarised")
      ->required()
      ->check(CLI::ExistingFile);
  imp->add_option("--stations", args->stations,
                  "Station registry (TOML): QC parameters, units; without it no QC is run")
      ->check(CLI::ExistingFile);
  imp->add_option("--store", args->store,
                  "Reading store (SQLite); without it the files are only decoded and checked");
  imp->add_option("--station-id", args->station_id,
                  "Station id for ZRXP blocks without SANR (station number)");
  imp->add_flag("--include-forecasts", args->include_forecasts,
                "Also store ZRXP forecast rows (layouts with a 'forecast' column) as forecast runs "
                "(issue time = the row's timestamp, valid time = its forecast column), apart "
                "from the readings: never as readings, never seen by staleness or preload");
  out.push_back({imp, [args] { return Import(*args); }});

  auto pairs = std::make_shared<std::string>();
  auto h0 = std::make_shared<double>(0.0);
  CLI::App* rating = app.add_subcommand("rating", "Rating curves (stage -> discharge)");
  rating->require_subcommand(1);
  CLI::App* fit = rating->add_subcommand(
      "fit", "Least-squares fit of Q = a (h - h0)^b to gaugings; prints the fit and residuals");
  fit->add_option("pairs", *pairs, "CSV file with the header h,q (stage, discharge)")
      ->required()
      ->check(CLI::ExistingFile);
  CLI::Option* h0_opt =
      fit->add_option("--h0", *h0, "Stage of zero flow, if known (otherwise it is fitted)");
  out.push_back({fit, [pairs, h0, h0_opt] {
                   return RatingFit(
                       *pairs, h0_opt->count() > 0 ? std::optional<double>(*h0) : std::nullopt);
                 }});
}

}  // namespace floodwarn::apps
