// The 2D shallow-water solver: first-order Godunov finite volumes on a raster,
// HLLC fluxes with hydrostatic reconstruction (Audusse et al. 2004),
// semi-implicit Manning friction, rain and point-inflow sources, boundary
// segments, adaptive CFL time step and double-precision mass accounting.
// See docs/SOLVER.md for the numerics and their choices.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/solver/real.hpp"
#include "floodwarn/solver/time_series.hpp"

namespace floodwarn::solver {

// Solver grid: nx * ny cells, cell (i, j) with i eastwards and j NORTHWARDS
// (j = 0 is the southernmost row), centre at
//   x = x_west + (i + 0.5) * dx,  y = y_south + (j + 0.5) * dy.
// Per-cell vectors are indexed [j * nx + i].
struct Domain {
  int nx = 0;
  int ny = 0;
  double dx = 1.0;
  double dy = 1.0;
  double x_west = 0.0;
  double y_south = 0.0;
  std::vector<double> bed;           // bed elevation z (m), size nx*ny
  std::vector<std::uint8_t> active;  // 1 inside the domain, 0 outside (a wall); empty = all active
  std::vector<double> manning;       // Manning n (s m^-1/3) per cell; size 1 = uniform; empty = 0

  std::size_t Index(int i, int j) const { return static_cast<std::size_t>(j) * nx + i; }
  double CellX(int i) const { return x_west + (i + 0.5) * dx; }
  double CellY(int j) const { return y_south + (j + 0.5) * dy; }
  // Cell containing (x, y), or false when outside the grid.
  bool CellOf(double x, double y, int& i, int& j) const;
};

enum class Edge { kWest, kEast, kSouth, kNorth };
enum class BoundaryKind {
  kWall,     // closed, reflective (the default on every edge)
  kOutflow,  // free outflow: zero-gradient (transmissive) ghost cell
  kLevel,    // fixed (time-varying) water level (m, same datum as the bed)
  // Discharge (m3/s) entering through the segment, spread evenly per metre
  // over the segment's active edge cells. The ghost cell carries the unit
  // discharge q normal to the edge at the interior depth (at least the
  // critical depth of q), so the water enters with its momentum; what the
  // face actually passes is booked in MassBalance::boundary_in.
  kInflow,
};

struct BoundarySegment {
  Edge edge = Edge::kWest;
  BoundaryKind kind = BoundaryKind::kWall;
  // Extent along the edge in absolute coordinates (y for west/east, x for
  // south/north). A cell belongs to the segment when its centre lies in
  // [from, to]. from > to (the default) means the whole edge.
  double from = 1.0;
  double to = 0.0;
  TimeSeries series;  // level (m) for kLevel, discharge (m3/s) for kInflow
  std::string name;
};

// A discharge hydrograph (m3/s) entering the cell that contains (x, y).
struct PointInflow {
  std::string name;
  double x = 0.0;
  double y = 0.0;
  TimeSeries discharge;
};

// The conservation check (Options::check_conservation): every step, each
// cell's new depth is compared with what its face fluxes and sources give;
// a clamp (negative depth to zero, water in a wall cell) that changes it by
// more than round-off, or a non-finite flux, is a violation.
enum class ConservationCheck {
  kOff,   // no check, no cost (the default)
  kWarn,  // count violations in ConservationReport and go on
  kStop,  // throw ConservationError at the first violation
};

struct Options {
  double gravity = 9.81;
  double cfl = 0.5;              // dt = cfl / max((|u|+c)/dx + (|v|+c)/dy)
  double max_dt = 0.0;           // upper bound on dt (s); 0 = none
  double dry_depth = 1e-6;       // below this depth (m) a cell has no velocity
  double max_speed_bound = 150;  // |u| or |v| above this (m/s) is a blow-up
  double max_depth_bound = 1e4;  // a depth above this (m) is a blow-up
  int chunk_rows = 16;           // rows per work chunk (does not change results)
  bool profile_kernels = false;  // fence and time each kernel (slows the run a little)
  // Track the max speed and the arrival time per cell (16 bytes per cell in
  // double, about 5 % of the step time).
  bool track_extremes = true;
  double arrival_depth = 0.01;  // a cell has "arrived" when its depth first exceeds this (m)
  // Check every step that no water appears or vanishes in a clamp (about
  // 1.5 times the step time while on; see docs/SOLVER.md, "Conservation").
  ConservationCheck check_conservation = ConservationCheck::kOff;
};

// What the conservation check saw since SetState (all zero while it is off).
struct ConservationReport {
  long steps_checked = 0;
  // Cell updates in which a clamp changed the depth beyond round-off, or a
  // flux was not finite, and the volume those clamps added (+) or removed (-).
  long violations = 0;
  double violation_volume = 0;  // m3
  // Volume every clamp added or removed, round-off included (m3).
  double clamped_volume = 0;
  // Largest outflow of one step over the cell's depth at the start of the
  // step, over cells deeper than dry_depth at its start (positivity needs
  // <= 1), and where.
  double max_outflow_ratio = 0;
  double max_outflow_ratio_time = 0;  // s, end of that step
  int max_outflow_ratio_i = -1, max_outflow_ratio_j = -1;
  // The first violation, as the message ConservationError carries ("" = none).
  std::string first_violation;
};

// Seconds spent per kernel when Options::profile_kernels is set.
struct KernelTimes {
  double fill_halos = 0;          // "solver::fill_halos"
  double boundary_face_rows = 0;  // "solver::boundary_face_rows"
  double update_chunks = 0;       // "solver::update_chunks" (fluxes, update, friction, CFL)
  double sources = 0;             // "solver::add_sources"
  double infiltration = 0;        // "solver::infiltration"
  double reduce = 0;              // per-chunk results to the host, dt, blow-up check
  double conservation_check = 0;  // "solver::conservation_check" and its report
  // Bytes held on the device by the solver's arrays (state, bed, masks, face buffers).
  std::size_t device_bytes = 0;
};

// Infiltration into the ground (issue #3), applied per active cell after the
// flux update and the sources of each step (kernel "solver::infiltration").
enum class InfiltrationModel {
  kNone,
  // Green & Ampt (1911): capacity f = Ks (1 + psi dtheta / F), F the depth
  // infiltrated so far; explicit in time: i = min(h, f dt), F += i.
  kGreenAmpt,
  // Horton (1940): capacity f = fc + (f0 - fc) exp(-k t_p), t_p the time the
  // cell has had water on it; the capacity is integrated exactly over the step:
  // i = min(h, fc dt + (f0 - fc) exp(-k t_p) (1 - exp(-k dt)) / k).
  kHorton,
};

// Parameters, each a vector of size 1 (uniform) or nx*ny (per cell, indexed
// [j * nx + i]; values in inactive cells are ignored). Only those of the
// chosen model are read. All must be finite and >= 0.
struct Infiltration {
  InfiltrationModel model = InfiltrationModel::kNone;
  // Green-Ampt
  std::vector<double> ks;         // saturated hydraulic conductivity (m/s)
  std::vector<double> psi;        // wetting-front suction head (m)
  std::vector<double> dtheta;     // moisture deficit (-)
  std::vector<double> initial_f;  // initial cumulative infiltration F0 (m), > 0 (f is
                                  // singular at F = 0); empty = 1e-3
  // Horton
  std::vector<double> f0;  // initial capacity (m/s)
  std::vector<double> fc;  // final capacity (m/s), <= f0
  std::vector<double> k;   // decay constant (1/s)
};

// Host copy of the state, per-cell vectors indexed [j * nx + i].
struct HostState {
  std::vector<double> h;   // depth (m)
  std::vector<double> hu;  // unit discharge eastwards (m2/s)
  std::vector<double> hv;  // unit discharge northwards (m2/s)
};

// Volumes in m3, accumulated in double precision whatever Real is.
struct MassBalance {
  double initial_volume = 0;
  double volume = 0;            // current stored volume
  double rain_in = 0;           // rain onto active cells
  double inflow_in = 0;         // point inflows ([[inflow]])
  double boundary_in = 0;       // water entering through the domain edges (inflow, level)
  double boundary_out = 0;      // water leaving through them (outflow, level)
  double infiltration_out = 0;  // water infiltrated into the ground
  double BoundaryNetOut() const { return boundary_out - boundary_in; }
  // volume - initial - (rain + inflow + boundary in - boundary out - infiltration)
  double Error() const {
    return volume - initial_volume -
           (rain_in + inflow_in + boundary_in - boundary_out - infiltration_out);
  }
  // |Error| relative to the largest volume term involved.
  double RelativeError() const;
};

// The complete model state, for checkpoints (hot start). Import(Export())
// continues a run bit for bit: the next time step comes from the stored CFL
// metric, not from a recomputation. Fields indexed [j * nx + i].
struct SolverState {
  double time = 0;
  long steps = 0;
  double last_dt = 0;
  double cfl_metric = 0;  // max((|u|+c)/dx + (|v|+c)/dy) of the current state
  bool cfl_metric_valid = false;
  MassBalance mass_balance;
  std::vector<double> h, hu, hv;
  std::vector<double> max_depth, max_speed, arrival_time;
  // With infiltration (empty otherwise): cumulative infiltrated depth F (m),
  // and for Horton the infiltration time t_p (s).
  std::vector<double> infiltrated_depth, infiltration_time;
};

// A blow-up: NaN, or depth/speed beyond Options' bounds. The message names the
// time, the cell and its values.
class BlowUpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A conservation violation with ConservationCheck::kStop: the message names
// the time, the step, the cell (indices and coordinates) and the amounts.
class ConservationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Solver {
 public:
  // Kokkos must be initialised. Throws std::invalid_argument on an
  // inconsistent domain (sizes, non-finite bed in active cells, negative Manning).
  Solver(Domain domain, Options options = {});
  ~Solver();
  Solver(const Solver&) = delete;
  Solver& operator=(const Solver&) = delete;

  const Domain& domain() const;
  const Options& options() const;

  // Initial state (sizes nx*ny; hu/hv may be empty for still water). Depths
  // in inactive cells are ignored. Resets the mass balance.
  void SetState(const HostState& state);
  // Convenience: still water at level `wse` wherever the bed is below it.
  void SetStillWater(double wse);

  void SetBoundaries(const std::vector<BoundarySegment>& segments);
  void AddPointInflow(const PointInflow& inflow);
  // Rain rate in m/s, uniform over the domain.
  void SetRainUniform(const TimeSeries& rate_m_per_s);
  // Rain rate in m/s per cell (size nx*ny), applied from now on until changed;
  // replaces a uniform series. A time-varying field (radar) is fed by calling
  // this at each new frame.
  void SetRainField(const std::vector<double>& rate_m_per_s);
  // Two rain frames (m/s per cell, size nx*ny) at times t_a < t_b: the rate
  // is linear in time between them and held at the nearer frame outside
  // [t_a, t_b]; each step uses the exact step-mean weights. Replaces a
  // uniform series or a single field. Call again when the run passes t_b.
  void SetRainFrames(const std::vector<double>& rate_a_m_per_s, double t_a,
                     const std::vector<double>& rate_b_m_per_s, double t_b);

  // Infiltration model and parameters (see Infiltration); model kNone turns it
  // off. Sets every cell's cumulative infiltration to F0 (t_p to 0); SetState
  // does the same. Throws std::invalid_argument on bad sizes or values.
  void SetInfiltration(const Infiltration& params);
  // Cumulative infiltrated depth F per cell (m, including F0), indexed
  // [j * nx + i]; empty without infiltration.
  std::vector<double> InfiltratedDepth() const;

  double time() const;
  void set_time(double t);
  long steps() const;
  double last_dt() const;

  // One adaptive step, at most `dt_limit` long; returns the dt taken.
  double Step(double dt_limit);
  // Steps until time() == t_end exactly.
  void AdvanceTo(double t_end);

  HostState Download() const;
  // Depths (m) of a few cells (i, j), without copying the whole state.
  std::vector<double> DepthAt(const std::vector<std::pair<int, int>>& cells) const;
  // Everything needed to continue this run exactly (see SolverState).
  SolverState Export() const;
  // Restores an exported state (same domain and options). Throws
  // std::invalid_argument when sizes do not match the domain.
  void Import(const SolverState& state);
  // Starts the extremes anew from the current state (as SetState does, with
  // the arrival time of cells already wet set to time()): the forecast loop
  // takes the maxima over the lead time only.
  void ResetExtremes();
  // Max depth reached in each cell since SetState (m), indexed [j * nx + i].
  std::vector<double> MaxDepth() const;
  // Max speed |(u, v)| reached in each cell since SetState (m/s); zeros
  // without Options::track_extremes. Sampled after each step.
  std::vector<double> MaxSpeed() const;
  // Time (s, solver time) at the end of the step in which each cell's depth
  // first exceeded Options::arrival_depth; 0 where wet at SetState, NaN where
  // never (or without track_extremes).
  std::vector<double> ArrivalTime() const;
  // Current stored volume (m3), summed in double.
  double Volume() const;
  const MassBalance& mass_balance() const;
  // Largest |u|+c over wet cells from the last step (m/s).
  double max_wave_speed() const;
  // What the conservation check found (Options::check_conservation).
  const ConservationReport& conservation_report() const;
  // Kernel timings (zeros unless Options::profile_kernels) and memory held.
  KernelTimes kernel_times() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::solver
