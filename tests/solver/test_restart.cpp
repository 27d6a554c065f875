// Hot start: a run split by Export/Import ends bit-identical to the
// uninterrupted run (the external truth here is the uninterrupted run
// itself: a rerun of a past event must reproduce what was said at the time).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "floodwarn/solver/solver.hpp"

namespace fs = floodwarn::solver;

namespace {

fs::Domain MakeDomain() {
  fs::Domain d;
  d.nx = 48;
  d.ny = 36;
  d.dx = d.dy = 2.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  d.active.assign(d.bed.size(), 1);
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i)
      d.bed[d.Index(i, j)] = 1.0 - 0.01 * i + 0.2 * std::sin(0.3 * j) * std::cos(0.2 * i);
  for (int j = 10; j < 14; ++j)
    for (int i = 20; i < 25; ++i) d.active[d.Index(i, j)] = 0;  // a building
  d.manning = {0.03};
  return d;
}

// Rain, a point inflow, an inflow edge, a level edge and an outflow edge.
void Configure(fs::Solver& s, const fs::Domain& d) {
  s.SetRainUniform(fs::TimeSeries({0, 20, 60}, {0, 40e-3 / 3600 * 10, 0}));
  fs::PointInflow p;
  p.name = "culvert";
  p.x = d.CellX(5);
  p.y = d.CellY(30);
  p.discharge = fs::TimeSeries({0, 30, 80}, {0.5, 2.0, 0.2});
  s.AddPointInflow(p);
  std::vector<fs::BoundarySegment> b(3);
  b[0].edge = fs::Edge::kWest;
  b[0].kind = fs::BoundaryKind::kInflow;
  b[0].series = fs::TimeSeries({0, 40}, {1.0, 3.0});
  b[0].from = 10;
  b[0].to = 30;
  b[1].edge = fs::Edge::kEast;
  b[1].kind = fs::BoundaryKind::kOutflow;
  b[2].edge = fs::Edge::kSouth;
  b[2].kind = fs::BoundaryKind::kLevel;
  b[2].series = fs::TimeSeries({0, 100}, {1.1, 0.9});
  s.SetBoundaries(b);
}

fs::HostState Initial(const fs::Domain& d) {
  fs::HostState st;
  st.h.assign(d.bed.size(), 0.0);
  for (std::size_t k = 0; k < st.h.size(); ++k) st.h[k] = std::max(0.0, 1.05 - d.bed[k]);
  return st;
}

bool BitEqual(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST(Restart, SplitRunIsBitIdenticalToUninterruptedRun) {
  const fs::Domain d = MakeDomain();
  fs::Solver full(d);
  Configure(full, d);
  full.SetState(Initial(d));
  full.AdvanceTo(37.5);  // a checkpoint time in the middle of the event
  const fs::SolverState mid = full.Export();
  full.AdvanceTo(90.0);
  const fs::SolverState end_full = full.Export();

  fs::Solver resumed(d);
  Configure(resumed, d);
  resumed.Import(mid);
  EXPECT_EQ(resumed.time(), 37.5);
  resumed.AdvanceTo(90.0);
  const fs::SolverState end_resumed = resumed.Export();

  EXPECT_EQ(end_resumed.steps, end_full.steps);
  EXPECT_EQ(end_resumed.time, end_full.time);
  EXPECT_TRUE(BitEqual(end_resumed.h, end_full.h));
  EXPECT_TRUE(BitEqual(end_resumed.hu, end_full.hu));
  EXPECT_TRUE(BitEqual(end_resumed.hv, end_full.hv));
  EXPECT_TRUE(BitEqual(end_resumed.max_depth, end_full.max_depth));
  EXPECT_TRUE(BitEqual(end_resumed.max_speed, end_full.max_speed));
  EXPECT_TRUE(BitEqual(end_resumed.arrival_time, end_full.arrival_time));
  EXPECT_EQ(end_resumed.mass_balance.rain_in, end_full.mass_balance.rain_in);
  EXPECT_EQ(end_resumed.mass_balance.inflow_in, end_full.mass_balance.inflow_in);
  EXPECT_EQ(end_resumed.mass_balance.BoundaryNetOut(), end_full.mass_balance.BoundaryNetOut());
  EXPECT_EQ(end_resumed.mass_balance.initial_volume, end_full.mass_balance.initial_volume);
  // The run did something: water moved and the ledger is closed.
  EXPECT_GT(end_full.mass_balance.inflow_in, 0.0);
  EXPECT_LT(end_full.mass_balance.RelativeError(), 1e-10 * (sizeof(fs::Real) == 8 ? 1 : 1e6));
}

TEST(Restart, ImportRejectsAnotherDomainSize) {
  const fs::Domain d = MakeDomain();
  fs::Solver s(d);
  fs::SolverState st = s.Export();
  st.h.pop_back();
  EXPECT_THROW(s.Import(st), std::invalid_argument);
}
