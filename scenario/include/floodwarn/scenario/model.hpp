// The pieces of a scenario run that other runs of the same model reuse (the
// forecast loop's cycles): the model set up from its config, its rain frames
// over time, checkpoints of its state, and its fields as north-up rasters.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/grids/raster.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/solver.hpp"

namespace floodwarn::scenario {

// The initial state, boundaries, inflows, uniform rain and infiltration of
// `cfg` given to `solver` (made from cfg.domain and cfg.options).
void SetUpModel(const ScenarioConfig& cfg, solver::Solver& solver);

// Rain frames ([rain] zones / grid): frames k, k+1 while the run is in
// [t_k, t_{k+1}); the first before t_0 and the last after the last time held
// (with rain_frames_stepwise: frame k over [t_{k-1}, t_k), none from the last
// time on). Each frame is made (read) once; only the two in use are kept.
class RainSchedule {
 public:
  explicit RainSchedule(const ScenarioConfig& cfg);
  // Gives the solver the frames for time t (nothing when they are set already).
  void Apply(solver::Solver& solver, double t);

 private:
  const std::vector<double>& Frame(long k);
  void KeepOnly(long k);  // drops every cached frame but k and k + 1

  const ScenarioConfig& cfg_;
  long current_ = -2;  // the frame index set last (-2: none yet)
  std::map<long, std::vector<double>> cache_;
};

// The complete model state as an HDF5 checkpoint (written to a temporary
// name and renamed), and back. Reading refuses a checkpoint of another
// domain (grid, terrain, Manning n, infiltration) or precision with a
// ConfigError naming `what` ("--restart", "forecast cycle") and the file.
void WriteModelCheckpoint(const std::string& path, const ScenarioConfig& cfg,
                          const solver::SolverState& state);
solver::SolverState ReadModelCheckpoint(const ScenarioConfig& cfg, const std::string& path,
                                        const std::string& what);

// A solver field (j = 0 south, [j * nx + i]) as a north-up raster on the
// DEM's grid; inactive cells nodata.
grids::RasterD ToRaster(const ScenarioConfig& cfg, const std::vector<double>& field);
// A solver field as north-up values for NetCDF: NaN outside the domain and,
// with `depth_for_dry`, where that depth is at most the dry depth.
std::vector<double> NorthUp(const ScenarioConfig& cfg, const std::vector<double>& field,
                            const std::vector<double>* depth_for_dry = nullptr);
// The peak water level of each cell (solver order): the bed the solver used
// plus the maximum depth where that is above the dry depth (the bed does not
// change, so the deepest moment is the highest level); NaN where the cell
// never got wet or is outside the model.
std::vector<double> PeakWaterLevel(const ScenarioConfig& cfg, const std::vector<double>& max_depth);
// The summary maps of a run for results.nc / forecast.nc, north-up: the
// maxima, the arrival time, the peak water level and the ground the solver
// used (buildings raised).
grids::CfSummaryFields SummaryFields(const ScenarioConfig& cfg,
                                     const std::vector<double>& max_depth,
                                     const std::vector<double>& max_speed,
                                     const std::vector<double>& arrival_time);

}  // namespace floodwarn::scenario
