// Mass balance with every kind of source and open boundary, over a sloping bed
// with nodata cells. External truth: conservation of volume,
//   V(t) - V(0) = integral of rain over the active area + integral of the
//                 inflow hydrographs - net boundary outflow,
// checked against the solver's own double-precision ledger and, independently,
// against exact integrals of the input series (TimeSeries::Integral is exact
// for piecewise-linear series) in a closed box.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <vector>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"

namespace {

namespace fs = floodwarn::solver;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;

// A 40 x 30 grid of 5 m cells. Bed falls eastwards (1 %) with a cross slope
// and a ripple; a nodata block and scattered nodata cells (bed NaN).
fs::Domain MakeDomain() {
  fs::Domain d;
  d.nx = 40;
  d.ny = 30;
  d.dx = 5.0;
  d.dy = 5.0;
  d.x_west = 1000.0;
  d.y_south = 2000.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  d.active.assign(d.bed.size(), 1);
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const double x = d.CellX(i) - d.x_west, y = d.CellY(j) - d.y_south;
      d.bed[d.Index(i, j)] = 2.0 - 0.01 * x + 0.003 * y + 0.05 * std::sin(0.2 * x + 0.1 * y);
    }
  }
  auto deactivate = [&](int i, int j) {
    d.active[d.Index(i, j)] = 0;
    d.bed[d.Index(i, j)] = std::numeric_limits<double>::quiet_NaN();
  };
  for (int j = 10; j < 16; ++j) {
    for (int i = 18; i < 22; ++i) deactivate(i, j);
  }
  for (int k = 0; k < 25; ++k) deactivate((k * 13 + 3) % d.nx, (k * 7 + 2) % d.ny);
  d.manning = {0.035};
  return d;
}

// Rain: 0 -> 60 mm/h -> 10 mm/h -> 0 (m/s).
fs::TimeSeries Rain() {
  const double mmh = 1e-3 / 3600;
  return fs::TimeSeries({0, 300, 900, 1500}, {0, 60 * mmh, 10 * mmh, 0}, "rain");
}
// Point inflow hydrograph (m3/s).
fs::TimeSeries Hydrograph() {
  return fs::TimeSeries({0, 200, 600, 1200}, {0.2, 3.0, 1.0, 0.5}, "inflow");
}

void AddSources(fs::Solver& solver, const fs::Domain& d) {
  solver.SetRainUniform(Rain());
  fs::PointInflow in;
  in.name = "culvert";
  in.x = d.x_west + 12.5 + 0.3;  // inside cell (2, 14)
  in.y = d.y_south + 72.5 - 0.4;
  in.discharge = Hydrograph();
  solver.AddPointInflow(in);
}

TEST(MassBalance, RainInflowOutflowAndLevelBoundaries) {
  const fs::Domain d = MakeDomain();
  fs::Solver solver(d, floodwarn::testing::Checked());
  solver.SetStillWater(1.2);  // a pond at the low (east) end, the rest dry
  AddSources(solver, d);
  std::vector<fs::BoundarySegment> b(2);
  b[0].edge = fs::Edge::kEast;  // free outflow over the south half of the east edge
  b[0].kind = fs::BoundaryKind::kOutflow;
  b[0].from = d.y_south;
  b[0].to = d.y_south + 75.0;
  b[0].name = "east_outflow";
  b[1].edge = fs::Edge::kEast;  // a tide-like level on the north half: in, then out
  b[1].kind = fs::BoundaryKind::kLevel;
  b[1].from = d.y_south + 75.0 + 1e-9;
  b[1].to = d.y_south + 150.0;
  b[1].series = fs::TimeSeries({0, 600, 1200, 1800}, {1.2, 1.8, 0.9, 1.4}, "level");
  b[1].name = "east_level";
  solver.SetBoundaries(b);
  const double t_end = 1800;
  double worst = 0;
  for (double t = 300; t <= t_end; t += 300) {
    solver.AdvanceTo(t);
    const fs::MassBalance& mb = solver.mass_balance();
    worst = std::max(worst, mb.RelativeError());
    // The ledger's volume is the stored volume.
    EXPECT_NEAR(mb.volume, solver.Volume(), 1e-12 * std::abs(mb.volume)) << "t=" << t;
  }
  const fs::MassBalance& mb = solver.mass_balance();
  std::printf(
      "mass_balance(open): real=%s steps=%ld V0=%.6e V=%.6e rain=%.6e inflow=%.6e net_out=%.6e "
      "err=%.3e rel=%.3e worst_rel=%.3e\n",
      kDouble ? "double" : "float", solver.steps(), mb.initial_volume, mb.volume, mb.rain_in,
      mb.inflow_in, mb.BoundaryNetOut(), mb.Error(), mb.RelativeError(), worst);
  // The case exercises every term: rain, inflow and flow through the
  // boundaries are all significant.
  EXPECT_GT(mb.rain_in, 0.02 * mb.initial_volume);
  EXPECT_GT(mb.inflow_in, 0.05 * mb.initial_volume);
  EXPECT_GT(std::abs(mb.BoundaryNetOut()), 0.05 * mb.initial_volume);
  // Double: the update is conservative and the ledger sums in double, so the
  // balance closes to rounding: ~1e-16 per operation, a few thousand steps,
  // 1e-10 leaves 3+ orders of margin (brief). Float: the ledger is double but
  // the depths are float; each step's increment is rounded to ~6e-8 relative
  // of the cell depth, accumulating over ~1e3-1e4 steps: 1e-4 bounds that as
  // a coherent sum of half-ulp roundings over the run.
  const double tol = kDouble ? 1e-10 : 1e-4;
  EXPECT_LE(worst, tol);
}

TEST(MassBalance, ClosedBoxMatchesIntegratedSources) {
  const fs::Domain d = MakeDomain();
  fs::Solver solver(d, floodwarn::testing::Checked());  // walls everywhere: nothing leaves
  solver.SetStillWater(1.0);
  AddSources(solver, d);
  const double v0 = solver.Volume();
  int n_active = 0;
  for (auto a : d.active) n_active += a ? 1 : 0;
  const double area = n_active * d.dx * d.dy;  // rain falls on active cells only
  double worst = 0;
  for (double t : {250.0, 700.0, 1300.0, 1800.0}) {
    solver.AdvanceTo(t);
    // Independent truth: exact integrals of the piecewise-linear inputs.
    const double expected = Rain().Integral(0, t) * area + Hydrograph().Integral(0, t);
    const double gained = solver.Volume() - v0;
    const double rel = std::abs(gained - expected) / expected;
    worst = std::max(worst, rel);
    std::printf(
        "mass_balance(closed): real=%s t=%.0f s steps=%ld V0=%.6e gained=%.9e expected=%.9e "
        "rel=%.3e ledger_rel=%.3e\n",
        kDouble ? "double" : "float", t, solver.steps(), v0, gained, expected, rel,
        solver.mass_balance().RelativeError());
    EXPECT_NEAR(solver.mass_balance().BoundaryNetOut(), 0.0, 1e-12 * expected);
  }
  // Double: 1e-10 relative (brief); rounding of V - V0 with V ~ 3e4 m3 is
  // ~1e-12 of the gain. Float: as above, each cell's float depth carries
  // ~6e-8 relative rounding per update, and the gain is a difference of two
  // stored volumes: 1e-4.
  EXPECT_LE(worst, kDouble ? 1e-10 : 1e-4);
}

}  // namespace
