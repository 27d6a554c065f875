// `floodwarn forecast run CYCLE.json`: one forecast cycle of the live system,
// as `floodwarn serve` runs it in a child process (and as a hydrologist reruns
// a cycle from its folder). Wiring only: floodwarn::forecast::RunCycle.
// Exit status: 0 the cycle ran, 2 it failed (result.json says why), 1 the
// spec could not be read or result.json not written.
#include <fmt/format.h>

#include <string>

#include "commands.hpp"
#include "floodwarn/forecast/cycle.hpp"
#include "floodwarn/solver/runtime.hpp"

namespace floodwarn::apps {

void AddForecastCommands(CLI::App& app, Commands& out) {
  CLI::App* forecast =
      app.add_subcommand("forecast", "Forecast cycles of the live system (docs/FORECAST.md)");
  forecast->require_subcommand(1);
  struct RunArgs {
    std::string spec;
    int threads = 0;
  };
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = forecast->add_subcommand(
      "run", "Run one cycle from its cycle.json; writes result.json and forecast.nc beside it");
  run->add_option("CYCLE", args->spec, "The cycle's cycle.json")->required();
  run->add_option("--threads", args->threads,
                  "Number of OpenMP threads (default: OMP_NUM_THREADS or all)")
      ->check(CLI::PositiveNumber);
  out.push_back({run, [args]() {
                   const forecast::CycleSpec spec = forecast::ReadCycleSpec(args->spec);
                   const solver::Runtime runtime({args->threads, true});
                   const forecast::CycleResult r = forecast::RunCycle(spec);
                   if (r.status != "ok") {
                     fmt::print(stderr, "error: forecast cycle {} failed: {}\n", r.cycle_id,
                                r.error);
                     return 2;
                   }
                   return 0;
                 }});
}

}  // namespace floodwarn::apps
