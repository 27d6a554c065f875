// RunScenario: the time loop of a scenario run and its outputs.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <chrono>

#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/impacts/summary.hpp"
#include "floodwarn/solver/solver.hpp"
#include "scenario_internal.hpp"

namespace floodwarn::scenario {
namespace {

namespace fs = std::filesystem;
using solver::BlowUpError;
using solver::ConservationError;
using solver::HostState;
using solver::Solver;

}  // namespace

RunResult RunScenario(const ScenarioConfig& cfg, const RunObserver& observer) {
  using Clock = std::chrono::steady_clock;
  const Domain& d = cfg.domain;
  std::error_code ec;
  fs::create_directories(cfg.output_dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("{}: cannot create the output folder: {}", cfg.output_dir, ec.message()));
  const fs::path out_dir(cfg.output_dir);
  RunResult result;
  // No file of an earlier run may be taken for one of this run: a run that
  // fails must not leave the last run's maps beside its own summary.json. A
  // restart continues that earlier run, whose files stay.
  if (cfg.restart_from.empty()) RemoveEarlierOutputs(cfg.output_dir);

  Solver solver(cfg.domain, cfg.options);
  SetUpModel(cfg, solver);
  double restart_time = 0.0;
  if (!cfg.restart_from.empty()) {
    const solver::SolverState state = FromCheckpoint(cfg, cfg.restart_from, "--restart");
    if (!(state.time >= 0 && state.time < cfg.end))
      throw ConfigError(
          fmt::format("--restart {}: checkpoint time {} s is not before time.end = {} s",
                      cfg.restart_from, state.time, cfg.end));
    solver.Import(state);
    restart_time = solver.time();
    spdlog::info("restart from={} t_s={} steps={}", cfg.restart_from, restart_time, solver.steps());
  }

  RainSchedule rain(cfg);
  rain.Apply(solver, solver.time());

  const std::size_t active =
      static_cast<std::size_t>(std::count(d.active.begin(), d.active.end(), std::uint8_t{1}));
  spdlog::info("run start config={} cells={}x{} active={} end_s={} outputs={} points={} dir={}",
               cfg.config_path, d.nx, d.ny, active, cfg.end, cfg.output_times.size(),
               cfg.points.size(), cfg.output_dir);

  // Event times: snapshots and point samples, merged.
  std::vector<double> events = cfg.output_times;
  events.insert(events.end(), cfg.point_times.begin(), cfg.point_times.end());
  events.insert(events.end(), cfg.checkpoint_times.begin(), cfg.checkpoint_times.end());
  // Rain frame times inside (0, end) are landing targets (nothing is written there).
  for (const double tf : cfg.rain_frame_times)
    if (tf > 0 && tf < cfg.end) events.push_back(tf);
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  // After a restart: only what lies after the checkpoint's time (a point
  // sample exactly at it is taken again).
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](double e) {
                                return e < restart_time ||
                                       (e == restart_time && restart_time > 0 &&
                                        !std::binary_search(cfg.point_times.begin(),
                                                            cfg.point_times.end(), e));
                              }),
               events.end());

  std::vector<std::vector<double>> rows;  // time, depth per point
  std::vector<std::pair<int, int>> point_cells;
  for (const auto& p : cfg.points) point_cells.emplace_back(p.i, p.j);

  std::vector<grids::CfPoint> nc_points;
  for (const auto& p : cfg.points) nc_points.push_back({p.name, p.x, p.y});
  grids::CfRunInfo info;
  info.title = cfg.title.empty() ? "floodwarn scenario run" : cfg.title;
  info.source = "floodwarn";
  info.history = fmt::format("floodwarn simulate {}", cfg.config_path);
  info.config_path = cfg.config_path;
  info.start_time = cfg.start_time;
  grids::CfNetcdfWriter nc((out_dir / "results.nc").string(), cfg.geo, d.nx, d.ny, cfg.crs_wkt,
                           nc_points, info);

  const auto start = Clock::now();
  auto last_report = start;
  auto wall = [&](Clock::time_point a) {
    return std::chrono::duration<double>(Clock::now() - a).count();
  };
  auto report = [&](bool done) {
    if (!observer.on_progress) return;
    RunProgress pr;
    pr.sim_time = solver.time();
    pr.end_time = cfg.end;
    pr.wall_s = wall(start);
    pr.steps = solver.steps();
    pr.done = done;
    observer.on_progress(pr);
  };

  // Steps to `target` exactly, as Solver::AdvanceTo does (same steps, same
  // landing rule), but one step at a time so progress can be reported between
  // steps. Steps depend only on the state and the target, never on wall
  // time, so reruns are bit-identical.
  auto advance_to = [&](double target) {
    while (solver.time() < target) {
      const double remaining = target - solver.time();
      if (solver.Step(remaining) >= remaining) solver.set_time(target);
      if (wall(last_report) >= observer.progress_interval_s) {
        last_report = Clock::now();
        report(false);
      }
    }
  };

  std::size_t next_output = static_cast<std::size_t>(
      std::upper_bound(cfg.output_times.begin(), cfg.output_times.end(), restart_time) -
      cfg.output_times.begin());
  if (restart_time == 0.0) next_output = 0;
  try {
    for (const double te : events) {
      advance_to(te);
      rain.Apply(solver, te);
      const bool is_rain_only =
          !std::binary_search(cfg.output_times.begin(), cfg.output_times.end(), te) &&
          !std::binary_search(cfg.point_times.begin(), cfg.point_times.end(), te) &&
          !std::binary_search(cfg.checkpoint_times.begin(), cfg.checkpoint_times.end(), te);
      if (is_rain_only) continue;
      if (std::binary_search(cfg.checkpoint_times.begin(), cfg.checkpoint_times.end(), te) &&
          te > restart_time) {
        const std::string path =
            (out_dir / fmt::format("checkpoint_{}s.h5", TimeLabel(te))).string();
        grids::WriteCheckpoint(path, ToCheckpoint(cfg, solver.Export()));
        result.files.push_back(path);
        spdlog::info("checkpoint t_s={} file={}", te, path);
      }
      const bool is_output =
          next_output < cfg.output_times.size() && cfg.output_times[next_output] == te;
      const bool is_sample = std::binary_search(cfg.point_times.begin(), cfg.point_times.end(), te);
      if (is_sample) {
        // Only the sampled cells are copied (samples can be frequent).
        std::vector<double> row{te};
        const std::vector<double> hp = solver.DepthAt(point_cells);
        row.insert(row.end(), hp.begin(), hp.end());
        nc.AppendPointSample(te, std::vector<double>(row.begin() + 1, row.end()));
        rows.push_back(std::move(row));
      }
      if (is_output) {
        ++next_output;
        WriteSnapshot(cfg, solver.Download(), te, out_dir.string(), nc, result.files);
        spdlog::debug("snapshot t_s={} steps={}", te, solver.steps());
      }
    }
    result.ok = true;
  } catch (const BlowUpError& e) {
    result.ok = false;
    result.status = "blow_up";
    result.error = e.what();
    spdlog::debug("run failed: solver blow-up: {}", e.what());  // the caller reports it
  } catch (const ConservationError& e) {
    result.ok = false;
    result.status = "conservation_violation";
    result.error = e.what();
    spdlog::debug("run failed: {}", e.what());  // the caller reports it
  }
  result.conservation = solver.conservation_report();
  result.wall_s = wall(start);
  result.sim_time = solver.time();
  result.steps = solver.steps();
  result.mass_balance = solver.mass_balance();
  LogConservation(cfg.options.check_conservation, result);
  result.cell_updates_per_s =
      result.wall_s > 0 ? static_cast<double>(result.steps) * active / result.wall_s : 0.0;
  result.speedup = result.wall_s > 0 ? result.sim_time / result.wall_s : 0.0;
  report(true);

  // The maps of the maxima and what they mean (flooded areas, hazard).
  impacts::FloodSummary flood;
  flood.max_depth = flood.max_depth_x = flood.max_depth_y = std::nan("");
  if (result.ok) {
    flood = WriteFinalMaps(cfg, solver, out_dir.string(), nc, result.files);
    nc.Close();  // a failed run leaves no results.nc (the writer removes its temporary file)
    result.files.push_back(nc.path());
  }

  // points.csv (the rows sampled so far, also after a blow-up), then summary.json.
  const std::string points_path = (out_dir / "points.csv").string();
  WritePointsCsv(points_path, cfg, rows);
  result.files.push_back(points_path);
  const std::string summary_path = (out_dir / "summary.json").string();
  result.files.push_back(summary_path);
  WriteSummary(summary_path, cfg, result, active, flood);
  spdlog::info(
      "run done status={} sim_time_s={} steps={} wall_s={:.3f} cell_updates_per_s={:.4g} "
      "speedup={:.4g} mass_rel_error={:.3g}",
      result.status, result.sim_time, result.steps, result.wall_s, result.cell_updates_per_s,
      result.speedup, result.mass_balance.RelativeError());
  return result;
}

}  // namespace floodwarn::scenario
