// The floodwarn command line: wiring only (parse arguments, initialise Kokkos,
// call the libraries, report). Exit codes: 0 success, 1 bad usage/config or
// I/O error, 2 solver blow-up.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

#include "floodwarn/solver/scenario.hpp"

namespace {

namespace sv = floodwarn::solver;

// Kokkos initialisation across the 3.x and 4.x APIs.
void InitKokkos(int threads, bool quiet) {
#if KOKKOS_VERSION >= 30700
  Kokkos::InitializationSettings settings;
  if (threads > 0) settings.set_num_threads(threads);
  settings.set_disable_warnings(quiet);
  Kokkos::initialize(settings);
#else
  Kokkos::InitArguments args;
  if (threads > 0) args.num_threads = threads;
  args.disable_warnings = quiet;
  Kokkos::initialize(args);
#endif
}

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

  void operator()(const sv::RunProgress& p) {
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

int Simulate(const std::string& config_path, int threads, bool quiet,
             const std::string& output_dir) {
  sv::ScenarioConfig cfg = sv::LoadScenario(config_path);
  if (!output_dir.empty()) cfg.output_dir = output_dir;
  InitKokkos(threads, quiet);
  int rc = 0;
  try {
    sv::RunObserver observer;
    if (!quiet) observer.on_progress = ProgressReporter(isatty(STDERR_FILENO) != 0);
    const sv::RunResult result = sv::RunScenario(cfg, observer);
    if (!result.ok) {
      fmt::print(stderr, "error: solver blow-up in {}: {}\n", config_path, result.error);
      rc = 2;
    }
  } catch (...) {
    Kokkos::finalize();
    throw;
  }
  Kokkos::finalize();
  return rc;
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "error: {}\nRun with --help for more information.\n", e.what());
    return 1;
  }
  if (quiet) spdlog::set_level(spdlog::level::warn);

  try {
    if (simulate->parsed()) return Simulate(config_path, threads, quiet, output_dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 1;
}
