// The floodwarn command line: wiring only (parse arguments, start the solver runtime,
// call the libraries, report). Exit codes: 0 success, 1 bad usage/config or
// I/O error, 2 solver blow-up or conservation violation.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <string>

#include "commands.hpp"
#ifdef FLOODWARN_WITH_SERVICES
#include "series_readers.hpp"
#endif
#include "floodwarn/demo/demo_town.hpp"
#include "floodwarn/grids/raster.hpp"
#include "floodwarn/impacts/flood_map.hpp"
#include "floodwarn/impacts/summary.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/runtime.hpp"

namespace {

namespace sv = floodwarn::solver;
namespace sc = floodwarn::scenario;
namespace demo = floodwarn::demo;
namespace impacts = floodwarn::impacts;

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = static_cast<long>(std::lround(s));
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

// Progress on stderr: a bar redrawn in place on a terminal, otherwise a
// key=value log line about every 10 %.
class ProgressReporter {
 public:
  explicit ProgressReporter(bool tty) : tty_(tty) {}

  void operator()(const sc::RunProgress& p) {
    const double frac = p.end_time > 0 ? std::min(1.0, p.sim_time / p.end_time) : 1.0;
    const double speedup = p.wall_s > 0 ? p.sim_time / p.wall_s : 0.0;
    const double eta = frac > 0 ? p.wall_s * (1.0 - frac) / frac : -1.0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(frac * kWidth);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(kWidth, '.');
      fmt::print(
          stderr, "\r[{}] {:5.1f}%  t={:.1f}/{:.1f} s  wall {}  ETA {}  x{:.1f} real time\033[K",
          bar, 100.0 * frac, p.sim_time, p.end_time, Duration(p.wall_s), Duration(eta), speedup);
      if (p.done) fmt::print(stderr, "\n");
      std::fflush(stderr);
      return;
    }
    const int decile = static_cast<int>(std::floor(frac * 10.0 + 1e-9));
    if (decile > last_decile_ || p.done) {
      last_decile_ = decile;
      spdlog::info(
          "progress sim_time_s={:.3f} end_s={} percent={:.1f} wall_s={:.2f} eta_s={:.1f} "
          "steps={} speedup={:.2f}",
          p.sim_time, p.end_time, 100.0 * frac, p.wall_s, std::max(eta, 0.0), p.steps, speedup);
    }
  }

 private:
  bool tty_;
  int last_decile_ = 0;
};

// Series files of other formats in scenarios: ZRXP (ingest/) where the
// services are built.
sc::SeriesReaders Readers() {
#ifdef FLOODWARN_WITH_SERVICES
  return floodwarn::apps::SeriesReaders();
#else
  return {};
#endif
}

// What a failed run prints (the run's status in words, then its message).
void PrintRunFailure(const std::string& config_path, const sc::RunResult& result) {
  fmt::print(
      stderr, "error: {} in {}: {}\n",
      result.status == "conservation_violation" ? "conservation check failed" : "solver blow-up",
      config_path, result.error);
}

int Simulate(const std::string& config_path, int threads, bool quiet, const std::string& output_dir,
             const std::string& restart, const std::string& check_conservation) {
  sc::ScenarioConfig cfg = sc::LoadScenario(config_path, Readers());
  if (!output_dir.empty()) cfg.output_dir = output_dir;
  if (check_conservation == "stop") cfg.options.check_conservation = sv::ConservationCheck::kStop;
  if (check_conservation == "warn") cfg.options.check_conservation = sv::ConservationCheck::kWarn;
  if (check_conservation == "off") cfg.options.check_conservation = sv::ConservationCheck::kOff;
  cfg.restart_from = restart;
  const sv::Runtime runtime({threads, quiet});
  sc::RunObserver observer;
  if (!quiet) observer.on_progress = ProgressReporter(isatty(STDERR_FILENO) != 0);
  const sc::RunResult result = sc::RunScenario(cfg, observer);
  if (!result.ok) {
    PrintRunFailure(config_path, result);
    return 2;
  }
  return 0;
}

// Plain words for a depth, from the map's depth classes.
std::string DepthMeaning(double depth) {
  const auto classes = impacts::DefaultDepthClasses();
  if (classes.empty() || depth < classes.front().lower) return "dry or a film of water";
  for (const auto& k : classes)
    if (depth >= k.lower && depth < k.upper) return k.meaning;
  return classes.back().meaning;
}

// `floodwarn demo`: generate the bundled demo town (once), run it, draw the
// flood map and tell the user in plain words what happened and where the files are.
int Demo(const std::string& dir_arg, int threads, bool quiet) {
  namespace fs = std::filesystem;
  namespace gr = floodwarn::grids;
  const std::string dir = fs::absolute(dir_arg).lexically_normal().string();
  demo::DemoTown town;
  if (demo::DemoTownIsComplete(dir)) {
    town = demo::DescribeDemoTown(dir);
    if (!quiet) fmt::print("Using the demo town in {}\n", dir);
  } else {
    if (!quiet) fmt::print("Generating the demo town in {} ...\n", dir);
    town = demo::GenerateDemoTown(dir);
  }
  const sc::ScenarioConfig cfg = sc::LoadScenario(town.config_path, Readers());
  if (!quiet) {
    fmt::print("{} (a fictitious town, {} x {} cells of {:g} m): {}\n", town.name, town.cols,
               town.rows, town.cell_size, town.event);
    fmt::print("Simulating {:g} min of the event ...\n", cfg.end / 60.0);
    std::fflush(stdout);
  }

  sc::RunResult result;
  {
    const sv::Runtime runtime({threads, quiet});
    sc::RunObserver observer;
    if (!quiet) observer.on_progress = ProgressReporter(isatty(STDERR_FILENO) != 0);
    result = sc::RunScenario(cfg, observer);
  }
  if (!result.ok) {
    PrintRunFailure(town.config_path, result);
    return 2;
  }

  const fs::path out_dir = fs::path(cfg.output_dir);
  const gr::RasterD dem = gr::ReadAsciiGrid(cfg.dem_path);
  const gr::RasterD max_depth = gr::ReadAsciiGrid((out_dir / "max_depth.asc").string());
  const std::string map_path = (out_dir / "flood_map.png").string();

  char date[32] = "";
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&now));
  impacts::FloodMapOptions map;
  map.title = fmt::format("{} (demo town): maximum water depth", town.name);
  map.subtitle =
      fmt::format("Event: {}; {:g} min simulated. Computed {}.", town.event, cfg.end / 60.0, date);
  for (const demo::PointOfInterest& p : town.points)
    map.points.push_back({p.label, p.kind, p.x, p.y});
  impacts::RenderFloodMap(map_path, dem, max_depth, map);

  // Depth at each place, and the flooded area outside the river (cells wet at the start).
  fmt::print("\nMaximum water depth at the places of interest:\n");
  std::size_t width = 0;
  for (const auto& p : town.points) width = std::max(width, p.label.size());
  for (const auto& p : town.points) {
    const double d = impacts::ValueAt(max_depth, p.x, p.y, 0.0);
    const std::string meaning = p.kind == "gauge" ? "in the river channel" : DepthMeaning(d);
    fmt::print("  {:<{}}  {:5.2f} m  {}\n", p.label, width, d, meaning);
  }
  const gr::RasterD river = gr::ReadAsciiGrid(town.initial_depth_path);
  const double area_01 = impacts::AreaDeeperThan(max_depth, 0.1, &river);
  const double area_05 = impacts::AreaDeeperThan(max_depth, 0.5, &river);
  fmt::print(
      "Flooded land (outside the river bed): {:.1f} ha deeper than 0.1 m, {:.1f} ha deeper "
      "than 0.5 m\n",
      area_01 / 1e4, area_05 / 1e4);
  fmt::print("Run time {} ({:.0f} times faster than real time).\n\n", Duration(result.wall_s),
             result.speedup);
  fmt::print("Results:  {}\n", fs::absolute(out_dir).lexically_normal().string());
  fmt::print("Summary:  {}\n", fs::absolute(out_dir / "summary.json").lexically_normal().string());
  fmt::print("Map:      {}\n", fs::absolute(map_path).lexically_normal().string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("floodwarn"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");

  CLI::App app{"floodwarn: flood early-warning system (2D shallow-water scenarios, warnings)"};
  app.set_version_flag("--version", std::string("floodwarn ") + FLOODWARN_VERSION);
  app.require_subcommand(1);

  std::string config_path;
  std::string output_dir;
  int threads = 0;
  bool quiet = false;
  CLI::App* simulate =
      app.add_subcommand("simulate", "Run one scenario from a TOML config (see docs/CONFIG.md)");
  simulate->add_option("CONFIG", config_path, "Scenario config file (TOML)")->required();
  simulate
      ->add_option("--threads", threads,
                   "Number of OpenMP threads (default: OMP_NUM_THREADS or all)")
      ->check(CLI::PositiveNumber);
  simulate->add_flag("--quiet,-q", quiet, "No progress display, warnings and errors only");
  simulate->add_option("--output-dir", output_dir,
                       "Write the results here instead of the config's output.dir");
  std::string restart;
  simulate->add_option("--restart", restart,
                       "Continue from this checkpoint (checkpoint_<t>s.h5 of the same scenario)");
  std::string check_conservation;
  simulate
      ->add_option("--check-conservation", check_conservation,
                   "Check every step that no water appears or vanishes in a clamp: stop at the "
                   "first violation, warn (count them) or off; overrides [solver] "
                   "check_conservation")
      ->check(CLI::IsMember({"stop", "warn", "off"}));

  std::string demo_dir = "floodwarn-demo";
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run the bundled demo town end to end (cloudburst + river flood) and draw a flood map");
  demo->add_option("--dir", demo_dir,
                   "Folder of the demo town and its results (created on first use)")
      ->capture_default_str();
  demo->add_option("--threads", threads,
                   "Number of OpenMP threads (default: OMP_NUM_THREADS or all)")
      ->check(CLI::PositiveNumber);
  demo->add_flag("--quiet,-q", quiet, "No progress display (the summary is still printed)");

  floodwarn::apps::Commands commands;
  floodwarn::apps::AddForecastCommands(app, commands);
#ifdef FLOODWARN_WITH_SERVICES
  floodwarn::apps::AddAlertingCommands(app, commands);
  floodwarn::apps::AddIngestFileCommands(app, commands);
  floodwarn::apps::AddIngestLiveCommands(app, commands);
  floodwarn::apps::AddRadarCommands(app, commands);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "error: {}\nRun with --help for more information.\n", e.what());
    return 1;
  }
  if (quiet) spdlog::set_level(spdlog::level::warn);

  try {
    if (simulate->parsed())
      return Simulate(config_path, threads, quiet, output_dir, restart, check_conservation);
    if (demo->parsed()) return Demo(demo_dir, threads, quiet);
    for (const auto& c : commands) {
      if (c.command->parsed()) return c.run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 1;
}
