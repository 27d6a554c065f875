// Hot start: the model state as an HDF5 checkpoint (grids::CheckpointData)
// and back, refused for another domain, precision or infiltration model.
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

#include "scenario_internal.hpp"

namespace floodwarn::scenario {

std::string DomainFingerprint(const Domain& d, const Infiltration& inf) {
  // FNV-1a over the grid, the bed of active cells, the mask and Manning n,
  // and, with infiltration, the model and its parameters (the soil is part of
  // the model: a checkpoint's infiltrated depths mean nothing with another
  // soil). Rain and inflows are not included: a hot start with new forcing
  // is what live forecasting does.
  std::uint64_t hsh = 1469598103934665603ull;
  auto mix = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) hsh = (hsh ^ b[k]) * 1099511628211ull;
  };
  mix(&d.nx, sizeof d.nx);
  mix(&d.ny, sizeof d.ny);
  for (double v : {d.dx, d.dy, d.x_west, d.y_south}) mix(&v, sizeof v);
  for (std::size_t k = 0; k < d.bed.size(); ++k) {
    const bool a = d.active.empty() || d.active[k];
    mix(&a, sizeof a);
    if (a) mix(&d.bed[k], sizeof(double));
  }
  for (double v : d.manning) mix(&v, sizeof v);
  if (inf.model != InfiltrationModel::kNone) {
    const int model = static_cast<int>(inf.model);
    mix(&model, sizeof model);
    for (const std::vector<double>* p :
         {&inf.ks, &inf.psi, &inf.dtheta, &inf.initial_f, &inf.f0, &inf.fc, &inf.k}) {
      const std::size_t n = p->size();
      mix(&n, sizeof n);
      for (double v : *p) mix(&v, sizeof v);
    }
  }
  return fmt::format("{:016x}", hsh);
}

grids::CheckpointData ToCheckpoint(const ScenarioConfig& cfg, const SolverState& st) {
  grids::CheckpointData c;
  c.nx = cfg.domain.nx;
  c.ny = cfg.domain.ny;
  c.scalars = {{"time_s", st.time},
               {"steps", static_cast<double>(st.steps)},
               {"last_dt_s", st.last_dt},
               {"cfl_metric", st.cfl_metric},
               {"cfl_metric_valid", st.cfl_metric_valid ? 1.0 : 0.0},
               {"initial_volume_m3", st.mass_balance.initial_volume},
               {"rain_in_m3", st.mass_balance.rain_in},
               {"inflow_in_m3", st.mass_balance.inflow_in},
               {"boundary_in_m3", st.mass_balance.boundary_in},
               {"boundary_out_m3", st.mass_balance.boundary_out},
               {"infiltration_out_m3", st.mass_balance.infiltration_out}};
  c.strings = {{"domain_fingerprint", DomainFingerprint(cfg.domain, cfg.infiltration)},
               {"precision", sizeof(Real) == 8 ? "double" : "float"},
               {"config", cfg.config_path}};
  // Solver order (j = 0 south), as exported.
  c.fields = {{"h", st.h},
              {"hu", st.hu},
              {"hv", st.hv},
              {"max_depth", st.max_depth},
              {"max_speed", st.max_speed},
              {"arrival_time", st.arrival_time}};
  // Optional: only with infiltration (checkpoints without them stay valid).
  if (!st.infiltrated_depth.empty()) c.fields["infiltrated_depth"] = st.infiltrated_depth;
  if (!st.infiltration_time.empty()) c.fields["infiltration_time"] = st.infiltration_time;
  return c;
}

SolverState FromCheckpoint(const ScenarioConfig& cfg, const std::string& path,
                           const std::string& what) {
  grids::CheckpointData c;
  try {
    c = grids::ReadCheckpoint(path);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{} {}: {}", what, path, e.what()));
  }
  auto str = [&](const char* key) {
    auto it = c.strings.find(key);
    if (it == c.strings.end())
      throw ConfigError(fmt::format("{} {}: checkpoint has no '{}'", what, path, key));
    return it->second;
  };
  if (c.nx != cfg.domain.nx || c.ny != cfg.domain.ny ||
      str("domain_fingerprint") != DomainFingerprint(cfg.domain, cfg.infiltration))
    throw ConfigError(fmt::format(
        "{} {}: the checkpoint is from another domain ({}x{} cells, fingerprint {}) than "
        "{} ({}x{} cells, fingerprint {}): grid, terrain, Manning n or infiltration differ",
        what, path, c.nx, c.ny, str("domain_fingerprint"), cfg.config_path, cfg.domain.nx,
        cfg.domain.ny, DomainFingerprint(cfg.domain, cfg.infiltration)));
  const std::string precision = sizeof(Real) == 8 ? "double" : "float";
  if (str("precision") != precision)
    throw ConfigError(fmt::format("{} {}: checkpoint written by a {} build, this is a {} build",
                                  what, path, str("precision"), precision));
  auto num = [&](const char* key) {
    auto it = c.scalars.find(key);
    if (it == c.scalars.end())
      throw ConfigError(fmt::format("{} {}: checkpoint has no '{}'", what, path, key));
    return it->second;
  };
  auto field = [&](const char* key) {
    auto it = c.fields.find(key);
    if (it == c.fields.end())
      throw ConfigError(fmt::format("{} {}: checkpoint has no field '{}'", what, path, key));
    return it->second;
  };
  SolverState st;
  st.time = num("time_s");
  st.steps = static_cast<long>(num("steps"));
  st.last_dt = num("last_dt_s");
  st.cfl_metric = num("cfl_metric");
  st.cfl_metric_valid = num("cfl_metric_valid") != 0.0;
  st.mass_balance.initial_volume = num("initial_volume_m3");
  st.mass_balance.rain_in = num("rain_in_m3");
  st.mass_balance.inflow_in = num("inflow_in_m3");
  // Checkpoints before the edges' in and out were booked apart hold the net
  // outflow only: booked as out (or in, when negative), the ledger closes.
  if (c.scalars.count("boundary_in_m3") != 0) {
    st.mass_balance.boundary_in = num("boundary_in_m3");
    st.mass_balance.boundary_out = num("boundary_out_m3");
  } else {
    const double net = num("boundary_net_out_m3");
    (net >= 0 ? st.mass_balance.boundary_out : st.mass_balance.boundary_in) = std::abs(net);
  }
  st.h = field("h");
  st.hu = field("hu");
  st.hv = field("hv");
  st.max_depth = field("max_depth");
  st.max_speed = field("max_speed");
  st.arrival_time = field("arrival_time");
  // Optional fields (absent in checkpoints of runs without infiltration).
  if (auto it = c.scalars.find("infiltration_out_m3"); it != c.scalars.end())
    st.mass_balance.infiltration_out = it->second;
  const bool has_f = c.fields.count("infiltrated_depth") != 0;
  const bool has_t = c.fields.count("infiltration_time") != 0;
  const InfiltrationModel m = cfg.infiltration.model;
  const bool want_f = m != InfiltrationModel::kNone, want_t = m == InfiltrationModel::kHorton;
  if (has_f != want_f || has_t != want_t)
    throw ConfigError(
        fmt::format("{} {}: the checkpoint is from a run {} infiltration state ({}), but {} has {}",
                    what, path, has_f ? "with" : "without",
                    has_t   ? "Horton"
                    : has_f ? "Green-Ampt"
                            : "none",
                    cfg.config_path,
                    m == InfiltrationModel::kNone        ? "no [infiltration]"
                    : m == InfiltrationModel::kGreenAmpt ? "model = \"green_ampt\""
                                                         : "model = \"horton\""));
  if (has_f) st.infiltrated_depth = field("infiltrated_depth");
  if (has_t) st.infiltration_time = field("infiltration_time");
  return st;
}

void WriteModelCheckpoint(const std::string& path, const ScenarioConfig& cfg,
                          const solver::SolverState& state) {
  grids::WriteCheckpoint(path, ToCheckpoint(cfg, state));
}

solver::SolverState ReadModelCheckpoint(const ScenarioConfig& cfg, const std::string& path,
                                        const std::string& what) {
  return FromCheckpoint(cfg, path, what);
}

}  // namespace floodwarn::scenario
