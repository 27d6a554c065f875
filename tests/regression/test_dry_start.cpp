// Issue #15: sources into a dry domain. With no wet cell the state sets no
// CFL limit; before the fix the first step took the whole interval, and a
// point inflow's water landed in one cell (depths of tens of metres where
// about half a metre is right). External truth: the same run with a small
// max_dt (0.02 s, far below any CFL step here), whose peaks converge; and
// conservation of the inflow volume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"

namespace {

namespace fs = floodwarn::solver;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;
// The solver's documented ledger tolerance (docs/SOLVER.md, "Mass balance"):
// 1e-10 in double, max(1e-4, 1e-6 sqrt(steps)) in float.
double LedgerTolerance(long steps) {
  return kDouble ? 1e-10 : std::max(1e-4, 1e-6 * std::sqrt(static_cast<double>(steps)));
}

// 40 x 40 cells of 2 m, dry, sloping 0.5 % to the east, Manning 0.03, walls.
fs::Domain Plane() {
  fs::Domain d;
  d.nx = d.ny = 40;
  d.dx = d.dy = 2.0;
  d.bed.resize(1600);
  for (int j = 0; j < 40; ++j)
    for (int i = 0; i < 40; ++i) d.bed[d.Index(i, j)] = 1.0 - 0.005 * d.CellX(i);
  d.manning = {0.03};
  return d;
}

struct Peak {
  double max_depth = 0, volume = 0;
  long steps = 0;
};

template <typename Setup>
Peak RunPlane(double max_dt, double end, const Setup& setup) {
  fs::Options o = floodwarn::testing::Checked();
  o.max_dt = max_dt;
  fs::Solver s(Plane(), o);
  setup(s);
  s.AdvanceTo(end);
  Peak p;
  const auto m = s.MaxDepth();
  p.max_depth = *std::max_element(m.begin(), m.end());
  p.volume = s.Volume();
  p.steps = s.steps();
  EXPECT_LT(s.mass_balance().RelativeError(), LedgerTolerance(s.steps()));
  return p;
}

// A point inflow of 2 m3/s for 120 s into the dry plane: 240 m3.
TEST(DryStart, PointInflowGivesTheSamePeakAsSmallSteps) {
  auto setup = [](fs::Solver& s) {
    s.AddPointInflow({"pipe", 21.0, 41.0, fs::TimeSeries({0, 120, 121}, {2, 2, 0}, "q")});
  };
  const Peak fine = RunPlane(0.02, 180.0, setup);
  const Peak dflt = RunPlane(0.0, 180.0, setup);
  std::printf("point inflow: max depth %.4f m (max_dt 0.02 s: %.4f m), steps %ld vs %ld\n",
              dflt.max_depth, fine.max_depth, dflt.steps, fine.steps);
  EXPECT_NEAR(dflt.volume, 241.0,
              241.0 * (kDouble ? 1e-9 : 1e-5));  // 2 m3/s for 120 s, then 1 s down to 0
  EXPECT_NEAR(dflt.max_depth, fine.max_depth, 0.01 * fine.max_depth);  // measured <= 0.2 %
  EXPECT_LT(dflt.max_depth, 2.0);  // before the fix: 2 m3/s x 120 s in one 4 m2 cell
}

// 200 mm/h of rain for 10 min on the dry plane.
TEST(DryStart, HeavyRainGivesTheSamePeakAsSmallSteps) {
  auto setup = [](fs::Solver& s) {
    const double r = 200e-3 / 3600.0;
    s.SetRainUniform(fs::TimeSeries({0, 600, 601}, {r, r, 0}, "rain"));
  };
  const Peak fine = RunPlane(0.02, 900.0, setup);
  const Peak dflt = RunPlane(0.0, 900.0, setup);
  std::printf("heavy rain: max depth %.4f m (max_dt 0.02 s: %.4f m), steps %ld vs %ld\n",
              dflt.max_depth, fine.max_depth, dflt.steps, fine.steps);
  EXPECT_NEAR(dflt.max_depth, fine.max_depth, 0.01 * fine.max_depth);  // measured <= 0.2 %
}

// An inflow boundary of 3 m3/s on the dry west edge.
TEST(DryStart, InflowBoundaryGivesTheSamePeakAsSmallSteps) {
  auto setup = [](fs::Solver& s) {
    fs::BoundarySegment b;
    b.edge = fs::Edge::kWest;
    b.kind = fs::BoundaryKind::kInflow;
    b.from = 30.0;
    b.to = 50.0;
    b.series = fs::TimeSeries({0, 300}, {3, 3}, "q");
    b.name = "river";
    s.SetBoundaries({b});
  };
  const Peak fine = RunPlane(0.02, 300.0, setup);
  const Peak dflt = RunPlane(0.0, 300.0, setup);
  std::printf("inflow boundary: max depth %.4f m (max_dt 0.02 s: %.4f m), steps %ld vs %ld\n",
              dflt.max_depth, fine.max_depth, dflt.steps, fine.steps);
  EXPECT_NEAR(dflt.max_depth, fine.max_depth, 0.01 * fine.max_depth);  // measured <= 0.2 %
}

}  // namespace
