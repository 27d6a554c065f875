// Lake at rest (well-balancedness): still water at 1.0 m over an irregular bed
// with emerged islands must stay exactly still. External truth: the steady
// solution h + z = const, u = v = 0 of the SWE, which the hydrostatic
// reconstruction of Audusse et al. (2004, SIAM J. Sci. Comput. 25, 2050-2065,
// Theorem 2.1) preserves exactly, wet/dry fronts included.
#include <gtest/gtest.h>

#include <algorithm>
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
constexpr double kLevel = 1.0;  // still-water level (m)

// Tolerances. Double: the well-balanced scheme leaves the lake at rest up to
// rounding; a stray ulp per step for 1000 steps would give ~1e-13, so 1e-12 m
// and 1e-10 m/s are the brief's bounds with margin, and anything above them is
// a genuine imbalance (Audusse et al. 2004, Thm 2.1).
// Float: the bed itself is rounded to float (|z| <= 2 m, error <= 1.2e-7 m),
// and the level h + z is only known to ~1 ulp of 1.0 (1.2e-7). A per-step
// rounding imbalance of ~1 ulp in the pressure terms, accumulated as a random
// walk over 1000 steps, stays below sqrt(1000) * 1.2e-7 ~ 4e-6. 1e-5 (about 80
// float ulps of 1.0) for both level and velocity bounds that with margin while
// still catching a real imbalance (which grows like g * dt * slope ~ 1e-2 m/s
// per step).
constexpr double kLevelTol = kDouble ? 1e-12 : 1e-5;     // m
constexpr double kVelocityTol = kDouble ? 1e-10 : 1e-5;  // m/s

// An irregular bed on a 60 x 50 grid of 10 m cells: a gentle tilt, ripples,
// two islands that rise above the water (1.6 m, 1.3 m), one bump that stays
// just submerged (0.97 m), one cell exactly at the waterline and one 1e-9 m
// below it (a film thinner than the dry threshold).
fs::Domain MakeDomain() {
  fs::Domain d;
  d.nx = 60;
  d.ny = 50;
  d.dx = 10.0;
  d.dy = 10.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  struct Bump {
    double x, y, amp, sigma;
  };
  const Bump bumps[] = {{150, 200, 1.6, 40},
                        {420, 300, 1.3, 60},
                        {300, 100, 0.8, 50},
                        {480, 120, 0.6, 30},
                        {100, 420, 0.55, 35}};
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const double x = d.CellX(i), y = d.CellY(j);
      double z = 0.1 + 0.0004 * x - 0.0002 * y + 0.05 * std::sin(0.05 * x) * std::cos(0.07 * y);
      for (const Bump& b : bumps) {
        z += b.amp *
             std::exp(-((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y)) / (2 * b.sigma * b.sigma));
      }
      d.bed[d.Index(i, j)] = z;
    }
  }
  d.bed[d.Index(30, 40)] = kLevel;         // exactly at the waterline: dry
  d.bed[d.Index(31, 40)] = kLevel - 1e-9;  // a 1e-9 m film
  d.bed[d.Index(5, 5)] = kLevel + 0.5;     // a single-cell pillar
  d.manning = {0.03};
  return d;
}

struct Result {
  double max_speed = 0;      // max |u|, |v| over cells deeper than dry_depth (m/s)
  double max_level_err = 0;  // max |h + z - level| over initially wet cells (m)
  double max_thin_q = 0;     // max |hu|, |hv| in films below dry_depth (m2/s)
  int wetted_dry_cells = 0;  // initially dry active cells with h != 0
  int wet_cells = 0;
  double volume_rel_change = 0;
};

Result RunLake(const fs::Domain& domain, int steps) {
  fs::Solver solver(domain, floodwarn::testing::Checked());
  solver.SetStillWater(kLevel);
  const double v0 = solver.Volume();
  for (int k = 0; k < steps; ++k) solver.Step(1e9);
  EXPECT_EQ(solver.steps(), steps);
  const fs::HostState s = solver.Download();
  const double dry = solver.options().dry_depth;
  Result r;
  for (int j = 0; j < domain.ny; ++j) {
    for (int i = 0; i < domain.nx; ++i) {
      const std::size_t c = domain.Index(i, j);
      if (!domain.active.empty() && !domain.active[c]) continue;
      const double z = domain.bed[c];
      const double h = s.h[c];
      if (z >= kLevel) {
        if (h != 0) ++r.wetted_dry_cells;
        continue;
      }
      ++r.wet_cells;
      r.max_level_err = std::max(r.max_level_err, std::abs(h + z - kLevel));
      if (h > dry) {
        r.max_speed = std::max({r.max_speed, std::abs(s.hu[c] / h), std::abs(s.hv[c] / h)});
      } else {
        r.max_thin_q = std::max({r.max_thin_q, std::abs(s.hu[c]), std::abs(s.hv[c])});
      }
    }
  }
  r.volume_rel_change = std::abs(solver.Volume() - v0) / v0;
  std::printf(
      "lake_at_rest: real=%s steps=%d t=%.3f s wet=%d max|u|,|v|=%.3e m/s max|wse-1|=%.3e m "
      "thin-film max|q|=%.3e wetted-dry=%d dV/V=%.3e\n",
      kDouble ? "double" : "float", steps, solver.time(), r.wet_cells, r.max_speed, r.max_level_err,
      r.max_thin_q, r.wetted_dry_cells, r.volume_rel_change);
  return r;
}

void ExpectAtRest(const Result& r) {
  EXPECT_GT(r.wet_cells, 1000);
  EXPECT_LE(r.max_speed, kVelocityTol);
  EXPECT_LE(r.max_level_err, kLevelTol);
  // In films thinner than dry_depth the velocity is undefined; their discharge
  // must still be no larger than kVelocityTol times that depth.
  EXPECT_LE(r.max_thin_q, kVelocityTol * 1e-6);
  // Cells with bed at or above the lake level hold no water, exactly.
  EXPECT_EQ(r.wetted_dry_cells, 0);
  // Closed walls, no sources: the volume is conserved to rounding of the sum.
  EXPECT_LE(r.volume_rel_change, kDouble ? 1e-13 : 1e-6);
}

TEST(LakeAtRest, IrregularBedWithIslands) { ExpectAtRest(RunLake(MakeDomain(), 1000)); }

TEST(LakeAtRest, InactiveCellsInsideTheLake) {
  fs::Domain d = MakeDomain();
  d.active.assign(d.bed.size(), 1);
  // A nodata block in deep water, a nodata ring around part of an island, an
  // L-shaped wall and scattered single nodata cells. Their bed is NaN, which the
  // solver must never read.
  auto deactivate = [&](int i, int j) {
    d.active[d.Index(i, j)] = 0;
    d.bed[d.Index(i, j)] = std::numeric_limits<double>::quiet_NaN();
  };
  for (int j = 20; j < 26; ++j) {
    for (int i = 25; i < 33; ++i) deactivate(i, j);
  }
  for (int i = 10; i < 20; ++i) deactivate(i, 14);
  for (int j = 30; j < 45; ++j) deactivate(50, j);
  for (int i = 40; i < 50; ++i) deactivate(i, 44);
  for (int k = 0; k < 40; ++k) deactivate((k * 37 + 11) % d.nx, (k * 23 + 7) % d.ny);
  ExpectAtRest(RunLake(d, 1000));
}

}  // namespace
