// What a run writes besides the maps: points.csv, summary.json, the file
// names and the ledger's verdict in the log.
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
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/impacts/summary.hpp"
#include "scenario_internal.hpp"

namespace fs = std::filesystem;

namespace floodwarn::scenario {

std::string TimeLabel(double t) {
  if (t == std::floor(t) && std::fabs(t) < 1e15)
    return fmt::format("{}", static_cast<long long>(t));
  return fmt::format("{}", t);
}

// Whether the ledger closes to the precision's documented tolerance
// (docs/SOLVER.md, "Mass balance"): 1e-10 in double; in float, where every
// step rounds the depths to float and the stored volume random-walks,
// max(1e-4, 1e-6 sqrt(steps)).
bool MassBalanceCloses(const MassBalance& mb, long steps) {
  const double tol = sizeof(Real) == sizeof(double)
                         ? 1e-10
                         : std::max(1e-4, 1e-6 * std::sqrt(static_cast<double>(steps)));
  return mb.RelativeError() <= tol;
}

// Nothing silent: a ledger that does not close is a warning with the way to
// find the cell; the check's findings in warn mode are logged once at the end.
void LogConservation(ConservationCheck mode, const RunResult& r) {
  const MassBalance& mb = r.mass_balance;
  if (!MassBalanceCloses(mb, r.steps))
    spdlog::warn(
        "mass balance does not close: error_m3={:.6g} relative_error={:.3g}{}", mb.Error(),
        mb.RelativeError(),
        mode == ConservationCheck::kOff
            ? "; rerun with [solver] check_conservation = true to find the cell and the step"
            : "");
  if (mode == ConservationCheck::kOff) return;
  const ConservationReport& c = r.conservation;
  if (c.violations > 0 && mode == ConservationCheck::kWarn)
    spdlog::warn("conservation check: violations={} volume_m3={:.6g}; the first: {}", c.violations,
                 c.violation_volume, c.first_violation);
  spdlog::info(
      "conservation check steps={} violations={} clamped_volume_m3={:.3g} max_outflow_ratio={:.4g} "
      "at t_s={:.6g} i={} j={}",
      c.steps_checked, c.violations, c.clamped_volume, c.max_outflow_ratio,
      c.max_outflow_ratio_time, c.max_outflow_ratio_i, c.max_outflow_ratio_j);
}

void WriteSnapshot(const ScenarioConfig& cfg, const solver::HostState& s, double t,
                   const std::string& out_dir, grids::CfNetcdfWriter& nc,
                   std::vector<std::string>& files) {
  const Domain& d = cfg.domain;
  const double dry = cfg.options.dry_depth;
  std::vector<double> u(s.h.size(), 0.0), v(s.h.size(), 0.0);
  for (std::size_t k = 0; k < s.h.size(); ++k) {
    if (s.h[k] > dry) {
      u[k] = s.hu[k] / s.h[k];
      v[k] = s.hv[k] / s.h[k];
    }
  }
  const std::string label = TimeLabel(t);
  for (const auto& [name, field] :
       {std::pair<const char*, const std::vector<double>*>{"depth", &s.h}, {"u", &u}, {"v", &v}}) {
    const std::string path = (fs::path(out_dir) / fmt::format("{}_{}s.asc", name, label)).string();
    grids::WriteAsciiGrid(path, ToRaster(cfg, *field), cfg.grid_digits);
    files.push_back(path);
  }
  std::vector<double> wse(s.h.size());
  for (std::size_t k = 0; k < s.h.size(); ++k) wse[k] = s.h[k] + d.bed[k];
  nc.AppendFrame(t, NorthUp(cfg, s.h), NorthUp(cfg, u), NorthUp(cfg, v), NorthUp(cfg, wse, &s.h));
}

impacts::FloodSummary WriteFinalMaps(const ScenarioConfig& cfg, const solver::Solver& solver,
                                     const std::string& out_dir, grids::CfNetcdfWriter& nc,
                                     std::vector<std::string>& files) {
  // Flooded areas above these depths, the FD2320 hazard of each cell from its
  // max depth and max speed (an upper bound: they need not occur at the same
  // time; urban debris factor, a town) and the area per hazard class.
  const std::vector<double> thresholds = {0.05, 0.1, 0.3, 0.5, 1.0};
  const std::vector<double> mx = solver.MaxDepth();
  const std::vector<double> vmax = solver.MaxSpeed();
  const std::vector<double> arrival = solver.ArrivalTime();
  const grids::RasterD max_depth_map = ToRaster(cfg, mx), max_speed_map = ToRaster(cfg, vmax);
  const grids::RasterD arrival_map = ToRaster(cfg, arrival);
  const grids::RasterD max_wse_map = ToRaster(cfg, PeakWaterLevel(cfg, mx));
  const grids::RasterD ground_map = ToRaster(cfg, cfg.domain.bed);
  impacts::FloodSummary flood = impacts::Summarize(
      max_depth_map, max_speed_map, cfg.options.dry_depth, thresholds, impacts::LandUse::kUrban);
  const std::pair<const char*, const grids::RasterD*> maps[] = {
      {"max_depth.asc", &max_depth_map},           {"max_speed.asc", &max_speed_map},
      {"arrival_time.asc", &arrival_map},          {"max_wse.asc", &max_wse_map},
      {"hazard_rating.asc", &flood.hazard_rating}, {"hazard_class.asc", &flood.hazard_class}};
  for (const auto& [name, map] : maps) {
    const std::string path = (fs::path(out_dir) / name).string();
    grids::WriteAsciiGrid(path, *map, cfg.grid_digits);
    files.push_back(path);
  }
  // GeoTIFFs for GIS users, with the DEM's CRS: the max depth, the peak
  // water level, the hazard class, and the ground the solver used (buildings
  // raised), to compare levels with.
  for (const auto& [name, map] :
       {std::pair<const char*, const grids::RasterD*>{"max_depth.tif", &max_depth_map},
        {"max_wse.tif", &max_wse_map},
        {"hazard_class.tif", &flood.hazard_class},
        {"ground.tif", &ground_map}}) {
    grids::RasterD r = *map;
    r.set_crs_wkt(cfg.crs_wkt);
    const std::string path = (fs::path(out_dir) / name).string();
    grids::WriteGeoTiff(path, r);
    files.push_back(path);
  }
  nc.WriteSummaryFields(SummaryFields(cfg, mx, vmax, arrival));
  return flood;
}

void RemoveEarlierOutputs(const std::string& dir) {
  static const std::set<std::string> kFixed = {
      "results.nc",    "summary.json",     "points.csv",        "max_depth.asc",
      "max_speed.asc", "arrival_time.asc", "hazard_rating.asc", "hazard_class.asc",
      "max_depth.tif", "hazard_class.tif", "max_wse.asc",       "max_wse.tif",
      "ground.tif"};
  auto is_output = [](const std::string& name) {
    std::string n = name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) n.resize(n.size() - 4);
    if (kFixed.count(n) != 0) return true;
    for (const char* prefix : {"depth_", "u_", "v_"})  // snapshots <name>_<t>s.asc
      if (n.rfind(prefix, 0) == 0 && n.size() > 5 && n.compare(n.size() - 5, 5, "s.asc") == 0)
        return true;
    return false;
  };
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || !is_output(e.path().filename().string())) continue;
    std::error_code rm;
    fs::remove(e.path(), rm);
    if (rm)
      throw std::runtime_error(fmt::format("{}: cannot remove the file of an earlier run: {}",
                                           e.path().string(), rm.message()));
  }
}

void WritePointsCsv(const std::string& path, const ScenarioConfig& cfg,
                    const std::vector<std::vector<double>>& rows) {
  std::string csv = "time_s";
  for (const auto& p : cfg.points) csv += fmt::format(",{}_depth_m", p.name);
  csv += '\n';
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) csv += fmt::format(c ? ",{}" : "{}", row[c]);
    csv += '\n';
  }
  common::WriteFileAtomic(path, csv);
}

void WriteSummary(const std::string& path, const ScenarioConfig& cfg, const RunResult& result,
                  std::size_t active_cells, const impacts::FloodSummary& flood) {
  using Json = nlohmann::ordered_json;  // keys in the order written (docs/CONFIG.md)
  auto number = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  const MassBalance& mb = result.mass_balance;
  const Domain& d = cfg.domain;
  Json j;
  j["config"] = cfg.config_path;
  j["title"] = cfg.title;
  j["status"] = result.status;
  j["error"] = result.ok ? Json(nullptr) : Json(result.error);
  j["end_time_s"] = number(cfg.end);
  j["simulated_time_s"] = number(result.sim_time);
  j["steps"] = result.steps;
  j["wall_time_s"] = number(result.wall_s);
  j["cells"] = static_cast<long long>(d.nx) * d.ny;
  j["active_cells"] = active_cells;
  j["cell_updates_per_s"] = number(result.cell_updates_per_s);
  j["speedup_over_real_time"] = number(result.speedup);
  j["max_depth_m"] = number(flood.max_depth);
  j["max_depth_at"] = {{"x", number(flood.max_depth_x)}, {"y", number(flood.max_depth_y)}};
  Json& areas = j["flooded_area_m2"] = Json::object();
  for (std::size_t t = 0; t < flood.thresholds.size(); ++t)
    areas[fmt::format("max_depth_above_{}m", flood.thresholds[t])] =
        result.ok ? number(flood.flooded_area[t]) : Json(nullptr);
  Json& hazard = j["hazard_area_m2"] = Json::object();
  for (int c = 1; c <= 4; ++c)
    hazard[impacts::HazardClassName(c)] =
        result.ok ? number(flood.hazard_area[static_cast<std::size_t>(c)]) : Json(nullptr);
  j["mass_balance"] = {{"initial_volume_m3", number(mb.initial_volume)},
                       {"final_volume_m3", number(mb.volume)},
                       {"rain_in_m3", number(mb.rain_in)},
                       {"inflow_in_m3", number(mb.inflow_in)},
                       {"boundary_in_m3", number(mb.boundary_in)},
                       {"boundary_out_m3", number(mb.boundary_out)},
                       {"boundary_net_out_m3", number(mb.BoundaryNetOut())},
                       {"infiltration_out_m3", number(mb.infiltration_out)},
                       {"error_m3", number(mb.Error())},
                       {"relative_error", number(mb.RelativeError())},
                       {"closes", MassBalanceCloses(mb, result.steps)}};
  const ConservationCheck mode = cfg.options.check_conservation;
  if (mode == ConservationCheck::kOff) {
    j["conservation_check"] = nullptr;
  } else {
    const ConservationReport& r = result.conservation;
    j["conservation_check"] = {
        {"mode", mode == ConservationCheck::kWarn ? "warn" : "stop"},
        {"steps_checked", r.steps_checked},
        {"violations", r.violations},
        {"violation_volume_m3", number(r.violation_volume)},
        {"clamped_volume_m3", number(r.clamped_volume)},
        {"max_outflow_ratio", number(r.max_outflow_ratio)},
        {"max_outflow_ratio_at",
         {{"t", number(r.max_outflow_ratio_time)},
          {"i", r.max_outflow_ratio_i},
          {"j", r.max_outflow_ratio_j}}},
        {"first_violation", r.first_violation.empty() ? Json(nullptr) : Json(r.first_violation)}};
  }
  Json& files = j["files"] = Json::array();
  for (const auto& f : result.files) files.push_back(fs::path(f).filename().string());
  common::WriteFileAtomic(path, j.dump(2) + "\n");
}

}  // namespace floodwarn::scenario
