// Solver speed benchmark: generates the standard case and prints cell updates
// per second (CUPS = cells x steps / seconds of the time loop, no I/O),
// threads, precision and memory.
//
// Standard case (issue #2): 2000 x 2000 cells of 1 m, flat bed, dam break
// 10 m | 2 m at x = 1000 m (fully wet), Manning 0.03, closed walls, 5 s
// simulated; "halfdry" is the same with the right half dry.
//
//   swe_bench [--n 2000] [--end 5] [--runs 3] [--case wet|halfdry|both] [--profile]
//
// Threads: OMP_NUM_THREADS (use OMP_PROC_BIND=spread OMP_PLACES=threads).
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "floodwarn/solver/runtime.hpp"
#include "floodwarn/solver/solver.hpp"

namespace fs = floodwarn::solver;

namespace {

long PeakRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

struct RunResult {
  double seconds = 0;
  long steps = 0;
  double cups = 0;
  fs::KernelTimes times;
  double mass_rel_error = 0;
};

RunResult RunCase(int n, double end, bool half_dry, bool profile, bool extremes, bool check) {
  fs::Domain d;
  d.nx = n;
  d.ny = n;
  d.dx = d.dy = 2000.0 / n;
  d.bed.assign(static_cast<std::size_t>(n) * n, 0.0);
  d.manning = {0.03};
  fs::Options opt;
  opt.profile_kernels = profile;
  opt.track_extremes = extremes;
  if (check) opt.check_conservation = fs::ConservationCheck::kStop;
  fs::Solver solver(d, opt);
  fs::HostState st;
  st.h.assign(d.bed.size(), 0.0);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i)
      st.h[d.Index(i, j)] = d.CellX(i) < 1000.0 ? 10.0 : (half_dry ? 0.0 : 2.0);
  solver.SetState(st);
  // Every step ends with its per-chunk results copied to the host, so the
  // loop's wall time holds all of its kernels.
  const auto t0 = std::chrono::steady_clock::now();
  solver.AdvanceTo(end);
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.steps = solver.steps();
  r.cups = static_cast<double>(n) * n * static_cast<double>(r.steps) / r.seconds;
  r.times = solver.kernel_times();
  r.mass_rel_error = solver.mass_balance().RelativeError();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodwarn solver benchmark (CUPS on the standard dam-break case)"};
  int n = 2000, runs = 3;
  double end = 5.0;
  std::string which = "both";
  bool profile = false;
  bool no_extremes = false;
  bool check = false;
  app.add_option("--n", n, "cells per side (2000 = the standard case)")
      ->check(CLI::Range(16, 20000));
  app.add_option("--end", end, "simulated seconds")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "runs per case; the median is reported")->check(CLI::Range(1, 99));
  app.add_option("--case", which, "wet, halfdry or both")
      ->check(CLI::IsMember({"wet", "halfdry", "both"}));
  app.add_flag("--profile", profile, "fence and time each kernel (breakdown)");
  app.add_flag("--no-extremes", no_extremes,
               "do not track max speed and arrival time (Options::track_extremes)");
  app.add_flag("--check-conservation", check,
               "with the conservation check on (Options::check_conservation, stop mode)");
  CLI11_PARSE(app, argc, argv);

  int rc = 0;
  {
    const fs::Runtime runtime;
    const long rss0 = PeakRssKiB();
    fmt::print(
        "floodwarn swe_bench: {} x {} cells, {} s simulated, precision {}, "
        "execution space {}\n",
        n, n, end, sizeof(fs::Real) == 8 ? "double" : "float", fs::Runtime::Description());
    for (const bool dry : {false, true}) {
      if ((dry && which == "wet") || (!dry && which == "halfdry")) continue;
      std::vector<RunResult> rs;
      for (int k = 0; k < runs; ++k)
        rs.push_back(RunCase(n, end, dry, profile, !no_extremes, check));
      std::vector<double> cups;
      for (const auto& r : rs) cups.push_back(r.cups);
      std::sort(cups.begin(), cups.end());
      const RunResult& last = rs.back();
      fmt::print(
          "case {:8s} steps {:5d}  median {:7.1f} M CUPS  (min {:.1f}, max {:.1f}; runs {})  "
          "loop {:.3f} s  mass rel. error {:.1e}\n",
          dry ? "halfdry" : "wet", last.steps, cups[cups.size() / 2] / 1e6, cups.front() / 1e6,
          cups.back() / 1e6, runs, last.seconds, last.mass_rel_error);
      if (profile) {
        const auto& t = last.times;
        const double total = t.fill_halos + t.boundary_face_rows + t.update_chunks + t.sources +
                             t.reduce + t.conservation_check;
        auto pct = [&](double v) { return 100.0 * v / (total > 0 ? total : 1); };
        fmt::print(
            "  kernels: update_chunks {:.3f} s ({:.1f} %), boundary_face_rows {:.3f} s ({:.1f} %), "
            "fill_halos {:.4f} s ({:.1f} %), sources {:.4f} s, reduce {:.4f} s ({:.1f} %), "
            "conservation_check {:.4f} s ({:.1f} %)\n",
            t.update_chunks, pct(t.update_chunks), t.boundary_face_rows, pct(t.boundary_face_rows),
            t.fill_halos, pct(t.fill_halos), t.sources, t.reduce, pct(t.reduce),
            t.conservation_check, pct(t.conservation_check));
      }
      fmt::print("  memory: solver arrays {:.1f} bytes/cell; peak RSS growth {:.1f} bytes/cell\n",
                 static_cast<double>(last.times.device_bytes) / (static_cast<double>(n) * n),
                 static_cast<double>(PeakRssKiB() - rss0) * 1024.0 / (static_cast<double>(n) * n));
    }
  }
  return rc;
}
