// Issue #17: water must never vanish, and if it ever does the run says where.
// External truth: conservation of volume (walls everywhere, no sources: the
// stored volume is constant), and the shared valley case whose ledger did not
// close (../shared/validation/valley_dam_break_20m/README.md).
//
// What was learnt there: still water at a staircase shore whose momentum had
// decayed to a subnormal number (~1e-314 m2/s) next to a dry, higher cell
// made the face's wave-speed sum subnormal; 1/den overflowed, 0 * inf made the
// mass flux NaN, and the update's clamp turned the NaN depth into a dry cell.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "checked.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/solver.hpp"
#include "test_support.hpp"

namespace {

namespace fs = floodwarn::solver;
namespace sc = floodwarn::scenario;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;
// The solver's documented ledger tolerance (docs/SOLVER.md, "Mass balance").
constexpr double kLedgerTolerance = kDouble ? 1e-12 : 1e-5;

// A sea at level 0 south-east of a diagonal staircase shore (the bed rises by
// 0.1 m per cell to the north and to the west), and a reservoir 3 m deep in
// the north-west corner that breaks at t = 0: a flood far from the shore.
// 48 x 32 cells of 20 m, Manning n = 0.033, walls on every edge.
struct ShoreCase {
  fs::Domain domain;
  fs::HostState state;
  int shore_i = 20, shore_j = 9;  // still, with dry cells west and north of it
};

ShoreCase MakeShoreCase() {
  ShoreCase c;
  fs::Domain& d = c.domain;
  d.nx = 48;
  d.ny = 32;
  d.dx = d.dy = 20.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i) d.bed[d.Index(i, j)] = 0.1 * (j - i + 10);
  d.manning = {0.033};
  const std::size_t n = d.bed.size();
  c.state.h.assign(n, 0.0);
  c.state.hu.assign(n, 0.0);
  c.state.hv.assign(n, 0.0);
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const std::size_t k = d.Index(i, j);
      c.state.h[k] = std::max(0.0, -d.bed[k]);   // the sea
      if (i < 6 && j >= 26) c.state.h[k] = 3.0;  // the reservoir
    }
  }
  const std::size_t shore = d.Index(c.shore_i, c.shore_j);
  // The staircase: the shore cell is wet, its west and north neighbours dry.
  EXPECT_GT(c.state.h[shore], 0.05);
  EXPECT_EQ(c.state.h[d.Index(c.shore_i - 1, c.shore_j)], 0.0);
  EXPECT_EQ(c.state.h[d.Index(c.shore_i, c.shore_j + 1)], 0.0);
  // Momentum decayed to a subnormal number, pointing at the dry cell.
  c.state.hu[shore] = -std::numeric_limits<fs::Real>::min() / 1e6;
  EXPECT_NE(static_cast<fs::Real>(c.state.hu[shore]), fs::Real(0));
  return c;
}

// The still shore cell keeps its water while the flood runs elsewhere, and the
// ledger closes. Before the fix the cell was emptied in the first step (about
// 40 m3 gone) and the check stopped the run there.
TEST(Conservation, StillSeaAtAStaircaseShoreKeepsItsWater) {
  const ShoreCase c = MakeShoreCase();
  fs::Solver s(c.domain, floodwarn::testing::Checked());
  s.SetState(c.state);
  const double shore_depth = c.state.h[c.domain.Index(c.shore_i, c.shore_j)];
  const double v0 = s.Volume();
  ASSERT_NO_THROW(s.AdvanceTo(60.0));
  EXPECT_GT(s.steps(), 50);
  const double after = s.DepthAt({{c.shore_i, c.shore_j}})[0];
  EXPECT_NEAR(after, shore_depth, kDouble ? 1e-12 : 1e-6) << "the still shore cell lost water";
  EXPECT_LE(std::abs(s.Volume() - v0) / v0, kLedgerTolerance);
  EXPECT_LE(s.mass_balance().RelativeError(), kLedgerTolerance);
  const fs::ConservationReport& r = s.conservation_report();
  EXPECT_EQ(r.violations, 0) << r.first_violation;
  EXPECT_EQ(r.steps_checked, s.steps());
  // Positivity's requirement of the time step held in every cell, with room.
  EXPECT_GT(r.max_outflow_ratio, 0.0);
  EXPECT_LT(r.max_outflow_ratio, 0.5);
}

// The check changes nothing it checks: the same steps with it off give the
// same bits.
TEST(Conservation, CheckDoesNotChangeTheResult) {
  const ShoreCase c = MakeShoreCase();
  fs::Solver checked(c.domain, floodwarn::testing::Checked());
  fs::Solver plain(c.domain);
  checked.SetState(c.state);
  plain.SetState(c.state);
  checked.AdvanceTo(30.0);
  plain.AdvanceTo(30.0);
  EXPECT_EQ(checked.steps(), plain.steps());
  const fs::HostState a = checked.Download(), b = plain.Download();
  EXPECT_EQ(a.h, b.h);
  EXPECT_EQ(a.hu, b.hu);
  EXPECT_EQ(a.hv, b.hv);
  EXPECT_EQ(plain.conservation_report().steps_checked, 0);
}

// A step longer than positivity allows (a hot start whose stored CFL metric is
// eight times too small) takes more water out of cells at the flood front
// than they hold. The check names the time, the cell and the amounts: as an
// error (stop), or counted (warn) while the run goes on.
TEST(Conservation, CheckNamesTheCellOfATooLongStep) {
  const ShoreCase c = MakeShoreCase();
  fs::Solver first(c.domain, floodwarn::testing::Checked());
  first.SetState(c.state);
  first.AdvanceTo(20.0);
  fs::SolverState bad = first.Export();
  bad.cfl_metric /= 8.0;

  fs::Solver stop(c.domain, floodwarn::testing::Checked());
  stop.Import(bad);
  try {
    stop.Step(1e9);
    FAIL() << "an eight times too long step passed the check";
  } catch (const fs::ConservationError& e) {
    const std::string m = e.what();
    SCOPED_TRACE(m);
    EXPECT_NE(m.find("conservation check failed at t = "), std::string::npos);
    EXPECT_NE(m.find("cell (i="), std::string::npos);
    EXPECT_NE(m.find("x = "), std::string::npos);
    EXPECT_TRUE(m.find("m3") != std::string::npos ||
                m.find("times the water") != std::string::npos);
  }

  fs::Options warn_opt;
  warn_opt.check_conservation = fs::ConservationCheck::kWarn;
  fs::Solver warn(c.domain, warn_opt);
  warn.Import(bad);
  ASSERT_NO_THROW(warn.Step(1e9));
  ASSERT_NO_THROW(warn.Step(1e9));  // goes on
  const fs::ConservationReport& r = warn.conservation_report();
  EXPECT_GT(r.violations, 0);
  EXPECT_GT(r.max_outflow_ratio, 1.0);
  EXPECT_NE(r.first_violation.find("cell (i="), std::string::npos);
}

// The shared valley: a reservoir behind a dam and a still sea on 20 m cells.
// Run to 2600 s (past the first loss at 2464.7 s in the uninterrupted run;
// the steps before the end are the same) with the check stopping at any
// violation. Before the fix: -130 m3 at 4000 s, -6.9 m3 at 2464.7 s.
TEST(Conservation, ValleyDamBreakClosesItsMassBalance) {
  FLOODWARN_REQUIRE_SHARED(config, "validation/valley_dam_break_20m/scenario.toml");
  sc::ScenarioConfig cfg = sc::LoadScenario(config);
  // The point samples every 40 s are landing times of the steps: keep those
  // before the new end (2600 s is one), so the step sequence is unchanged.
  cfg.end = 2600.0;
  cfg.output_times = {cfg.end};
  cfg.point_times.erase(std::remove_if(cfg.point_times.begin(), cfg.point_times.end(),
                                       [&](double t) { return t > cfg.end; }),
                        cfg.point_times.end());
  ASSERT_EQ(cfg.point_times.back(), cfg.end);
  cfg.output_dir = floodwarn::testing::MakeTempDir("floodwarn_valley") + "/out";
  cfg.options.check_conservation = fs::ConservationCheck::kStop;
  const sc::RunResult r = sc::RunScenario(cfg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.conservation.violations, 0) << r.conservation.first_violation;
  const double rel = r.mass_balance.RelativeError();
  std::printf(
      "valley to %.0f s: %ld steps, mass error %.3g m3 (relative %.3g), clamped %.3g m3, "
      "max outflow ratio %.4f\n",
      cfg.end, r.steps, r.mass_balance.Error(), rel, r.conservation.clamped_volume,
      r.conservation.max_outflow_ratio);
  EXPECT_LE(rel, kLedgerTolerance);
}

}  // namespace
