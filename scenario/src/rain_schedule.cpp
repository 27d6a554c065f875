// The rain frames of a scenario fed to the solver as the run goes on, and the
// model's set-up from a config.
#include <algorithm>
#include <map>
#include <vector>

#include "floodwarn/solver/solver.hpp"
#include "scenario_internal.hpp"

namespace floodwarn::scenario {

void SetUpModel(const ScenarioConfig& cfg, solver::Solver& solver) {
  solver::HostState init;
  init.h = cfg.initial_depth;
  solver.SetState(init);
  solver.SetBoundaries(cfg.boundaries);
  for (const auto& in : cfg.inflows) solver.AddPointInflow(in);
  if (!cfg.rain_m_per_s.empty()) solver.SetRainUniform(cfg.rain_m_per_s);
  if (cfg.infiltration.model != InfiltrationModel::kNone) solver.SetInfiltration(cfg.infiltration);
}

RainSchedule::RainSchedule(const ScenarioConfig& cfg) : cfg_(cfg) {}

const std::vector<double>& RainSchedule::Frame(long k) {
  auto it = cache_.find(k);
  if (it == cache_.end())
    it = cache_.emplace(k, cfg_.rain_frames[static_cast<std::size_t>(k)]).first;
  return it->second;
}

void RainSchedule::KeepOnly(long k) {
  for (auto it = cache_.begin(); it != cache_.end();)
    it = (it->first == k || it->first == k + 1) ? std::next(it) : cache_.erase(it);
}

void RainSchedule::Apply(solver::Solver& solver, double t) {
  const std::vector<double>& ft = cfg_.rain_frame_times;
  if (ft.empty()) return;
  if (cfg_.rain_frames_stepwise) {  // frame k over [t_{k-1}, t_k), none from the last time on
    const long k = static_cast<long>(std::upper_bound(ft.begin(), ft.end(), t) - ft.begin());
    if (k == current_) return;
    current_ = k;
    KeepOnly(k);
    if (k < static_cast<long>(ft.size()))
      solver.SetRainField(Frame(k));
    else
      solver.SetRainField(
          std::vector<double>(static_cast<std::size_t>(cfg_.domain.nx) * cfg_.domain.ny, 0.0));
    return;
  }
  long k = static_cast<long>(std::upper_bound(ft.begin(), ft.end(), t) - ft.begin()) - 1;
  if (k >= static_cast<long>(ft.size()) - 1) k = static_cast<long>(ft.size()) - 1;
  if (k < 0) k = 0;  // before t_0 SetRainFrames holds frame 0
  if (k == current_) return;
  current_ = k;
  KeepOnly(k);
  if (k + 1 < static_cast<long>(ft.size()))
    solver.SetRainFrames(Frame(k), ft[k], Frame(k + 1), ft[k + 1]);
  else
    solver.SetRainField(Frame(k));
}

}  // namespace floodwarn::scenario
