// Solver::Impl: the state the solver holds on the device and on the host
// (private to the solver library). Its member functions are spread over the
// files of the concept they serve: solver.cpp (set-up and the time step),
// boundaries.cpp, sources.cpp, infiltration.cpp, state_io.cpp and
// diagnostics.cpp (conservation check, blow-up report). Device code lives in
// free functions and kernel structs (step_kernel.hpp and each file's
// anonymous namespace), never in lambdas inside Impl's member functions (a
// GPU build cannot take extended lambdas from a private nested class).
#pragma once

#include <string>
#include <vector>

#include "floodwarn/solver/solver.hpp"
#include "kokkos_types.hpp"
#include "step_layout.hpp"

namespace floodwarn::solver {

// One row's share of the conservation check (reduced on the host in row order).
struct RowCheck {
  // Largest clamp change beyond round-off in the row (m; kRealMax for a
  // non-finite update, then the one with the most water), and its column.
  Real excess;
  Real excess_h0;
  int excess_i;
  Real ratio;  // largest outflow / depth at the start of the step, and its column
  int ratio_i;
  double clamped;    // sum of every clamp's change (m)
  double violation;  // sum of the clamp changes of the violating cells (m)
  int violations;
};

// Mass sources on the device: cells (padded index) with the source they
// belong to and the share of that source's discharge.
struct SourceCells {
  Kokkos::View<int*, MemSpace> jj, ii, src;
  Kokkos::View<Real*, MemSpace> share;
  Kokkos::View<Real*, MemSpace> depth_rate;  // per source: volume / cell area / step
};

struct Solver::Impl {
  Domain dom;
  Options opt;
  int nx = 0, ny = 0, nchunks = 0;
  Field2D h, qx, qy, z, act, gn2, hmax, rain;
  Field2D vmax, arrival;
  Field2D chk_h0, chk_raw, chk_excess, chk_ratio;  // see StepKernel
  Kokkos::View<RowCheck*, MemSpace> chk_rows;
  ConservationReport conservation;
  FaceRows ybnd;
  Kokkos::View<Real*, MemSpace> chunk_metric, chunk_speed, chunk_depth;
  Kokkos::View<double*, MemSpace> chunk_out;  // water leaving through the domain edges
  Kokkos::View<double*, MemSpace> chunk_in;   // water entering through them

  // Halo cells: kind and level segment per edge cell. Order: west j, east j,
  // south i, north i.
  Kokkos::View<int*, MemSpace> halo_kind, halo_seg;
  // Level and inflow segments: series, and the value of this step in
  // seg_value (level in m, or unit discharge in m2/s into the domain).
  Kokkos::View<Real*, MemSpace> seg_value;
  std::vector<TimeSeries> seg_series;
  std::vector<double> seg_inflow_width;  // m of active edge; 0 for a level segment

  SourceCells sources;
  std::vector<TimeSeries> source_series;  // m3/s per source
  struct SourceCell {
    int jj, ii, src;
    double share;
  };
  std::vector<SourceCell> source_cells_host;
  std::vector<PointInflow> point_inflows;

  TimeSeries rain_series;
  bool rain_is_field = false;
  // Rain frames: field A (`rain`) at rain_t_a, field B (`rain_b`) at rain_t_b,
  // linear in time between them and clamped outside. SetRainField makes B
  // alias A with rain_t_b = rain_t_a.
  Field2D rain_b;
  double rain_t_a = 0, rain_t_b = 0;
  double rain_vol_a = 0, rain_vol_b = 0;  // sum(Real(rate) * area) over active cells, m3/s
  double rain_max_a = 0, rain_max_b = 0;  // largest cell rate of each frame, m/s
  double active_area = 0;

  double t = 0;
  long steps = 0;
  double last_dt = 0;
  Real metric = 0;
  bool metric_valid = false;
  double last_max_speed = 0;
  MassBalance mb;

  // Infiltration (views allocated only when a model is set): parameters and
  // state on the unpadded grid (j, i), per-row infiltrated depth sums.
  InfiltrationModel infil_model = InfiltrationModel::kNone;
  Field2D infil_a, infil_b, infil_c, infil_cum, infil_time;
  Kokkos::View<double*, MemSpace> infil_rows;
  std::vector<double> infil_initial;  // F0 per cell [j * nx + i]

  KernelTimes times;
  Kokkos::Timer timer;
  // With profile_kernels: fence and add the time since the last mark.
  void Mark(double KernelTimes::*slot) {
    if (!opt.profile_kernels) return;
    Kokkos::fence();
    times.*slot += timer.seconds();
    timer.reset();
  }

  // solver.cpp
  void Allocate();
  void UploadDomain();
  void ComputeMetric();
  // boundaries.cpp
  void FillHalos(double t_mid);
  // sources.cpp
  void RebuildSources();
  // Adds this step's point inflows; returns the volume added (m3) and sets
  // `metric` to the CFL metric of the changed cells (0 without sources).
  double AddSources(double dt, Real& metric);
  // The rain of the step [t, t + dt]: the uniform depth (m), or the weights
  // of the two rain frames; and the volume it adds (m3), from the same Real
  // values the kernel adds.
  struct RainStep {
    Real depth = 0;
    Real weight_a = 1, weight_b = 0;
  };
  RainStep RainOfStep(double dt) const;
  double RainVolume(const RainStep& rain, double dt) const;
  // The longest step for which the depth the sources add (point inflows,
  // inflow boundaries, rain) stays within the CFL condition, taking their
  // rates at the start and at the end of a step of `dt`: a cell that gains
  // depth at a rate r (m/s) holds h = r dt and waves sqrt(g h), so
  // dt <= (cfl / (sqrt(g r) (1/dx + 1/dy)))^(2/3). Infinity without sources.
  double SourceDtBound(double dt) const;
  // infiltration.cpp
  void ResetInfiltrationState();
  double Infiltrate(double dt);  // volume infiltrated in this step (m3)
  // state_io.cpp
  std::vector<double> Unpad(const Field2D& view) const;
  // The extremes from a state (host mirrors of h, qx, qy): max depth = h, max
  // speed where wet, arrival t where deeper than the arrival depth.
  template <class Mirror>
  void ResetExtremesFrom(const Mirror& h, const Mirror& qx, const Mirror& qy, double t);
  // diagnostics.cpp
  [[noreturn]] void ReportBlowUp(Real max_speed, Real max_depth);
  void CheckConservation(double dt);
};

}  // namespace floodwarn::solver
