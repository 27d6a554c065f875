// Subcommand registration: each module's commands live in their own file
// (apps/cmd_*.cpp) and register here; main() runs the one that was parsed.
// Wiring only: parse arguments, call the libraries, report.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace floodwarn::apps {

struct CommandRunner {
  CLI::App* command = nullptr;
  std::function<int()> run;  // returns the process exit code
};
using Commands = std::vector<CommandRunner>;

// apps/cmd_alerting.cpp: serve, watch, ack
void AddAlertingCommands(CLI::App& app, Commands& out);
// apps/cmd_ingest_files.cpp: ingest import, rating fit
void AddIngestFileCommands(CLI::App& app, Commands& out);
// apps/cmd_ingest_live.cpp: stations
void AddIngestLiveCommands(CLI::App& app, Commands& out);
// apps/cmd_forecast.cpp: forecast run (one cycle of the live system)
void AddForecastCommands(CLI::App& app, Commands& out);
// apps/cmd_radar.cpp: radar (RADOLAN composites -> CF-NetCDF rain series on a DEM grid)
void AddRadarCommands(CLI::App& app, Commands& out);

}  // namespace floodwarn::apps
