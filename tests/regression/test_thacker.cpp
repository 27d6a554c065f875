// Thacker's (1981) planar surface oscillating in a paraboloid bowl, with a
// moving shoreline, against its exact solution as given in SWASHES (Delestre
// et al. 2013, §4.2.2): L = 4 m, a = 1 m, h0 = 0.1 m, eta = 0.5, frictionless;
// see analytic.hpp. Compared at T/4, T/2, 3T/4 and T on two grids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <vector>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"
#include "regression/analytic.hpp"

namespace {

namespace fs = floodwarn::solver;
using floodwarn::testing::analytic::ThackerPlanar;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;

struct Sample {
  double t;
  double rel_l1;       // sum |h - h_exact| / sum h_exact over all cells
  double stray_depth;  // max depth in cells the exact water never reaches (m)
  double mass_rel;     // |V - V0| / V0
  double r_wet;        // largest distance from the bowl centre of a cell with h > 1e-6 m
  double r_any;        // same for h > 0
  double edge_depth;   // max depth on the domain's outer ring of cells
};

std::vector<Sample> RunThacker(int n) {
  const ThackerPlanar th;
  fs::Domain d;
  d.nx = n;
  d.ny = n;
  d.dx = th.L / n;
  d.dy = th.L / n;
  d.bed.resize(static_cast<std::size_t>(n) * n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) d.bed[d.Index(i, j)] = th.Bed(d.CellX(i), d.CellY(j));
  }
  fs::Solver solver(
      d, floodwarn::testing::Checked());  // frictionless, walls (the water never reaches them)
  fs::HostState s;
  s.h.resize(d.bed.size());
  s.hu.resize(d.bed.size());
  s.hv.resize(d.bed.size());
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      const std::size_t c = d.Index(i, j);
      s.h[c] = th.Depth(d.CellX(i), d.CellY(j), 0.0);
      s.hu[c] = s.h[c] * th.U(0.0);
      s.hv[c] = s.h[c] * th.V(0.0);
    }
  }
  solver.SetState(s);
  const double v0 = solver.Volume();
  // The exact shoreline never climbs above the bed level at r = eta + a = 1.5 m,
  // z = h0 ((eta + a)^2 / a^2 - 1) = 0.125 m. "stray" is the largest depth in
  // cells lying wholly above it (lowest corner, at r_centre - dx / sqrt(2),
  // higher than 0.125 m): numerical overshoot of the front.
  const double z_shore_max = th.h0 * ((th.eta + th.a) * (th.eta + th.a) / (th.a * th.a) - 1);
  std::vector<Sample> samples;
  for (int q = 1; q <= 4; ++q) {
    const double t = q * th.Period() / 4;
    solver.AdvanceTo(t);
    const fs::HostState out = solver.Download();
    double err = 0, ref = 0, stray = 0, r_wet = 0, r_any = 0, edge = 0;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < n; ++i) {
        const std::size_t c = d.Index(i, j);
        const double x = d.CellX(i), y = d.CellY(j);
        const double he = th.Depth(x, y, t);
        err += std::abs(out.h[c] - he);
        ref += he;
        const double r =
            std::max(0.0, std::hypot(x - th.L / 2, y - th.L / 2) - d.dx / std::sqrt(2.0));
        const double z_cell_min = -th.h0 * (1 - r * r / (th.a * th.a));
        if (z_cell_min > z_shore_max) stray = std::max(stray, out.h[c]);
        const double rc = std::hypot(x - th.L / 2, y - th.L / 2);
        if (out.h[c] > 1e-6) r_wet = std::max(r_wet, rc);
        if (out.h[c] > 0) r_any = std::max(r_any, rc);
        if (i == 0 || j == 0 || i == n - 1 || j == n - 1) edge = std::max(edge, out.h[c]);
      }
    }
    samples.push_back(
        {t, err / ref, stray, std::abs(solver.Volume() - v0) / v0, r_wet, r_any, edge});
    std::printf(
        "thacker: real=%s n=%d dx=%.4f m t=%.4f s (%d/4 T) relL1=%.4e stray=%.2e dV/V=%.2e "
        "r_wet=%.3f r_any=%.3f edge=%.1e steps=%ld\n",
        kDouble ? "double" : "float", n, d.dx, t, q, samples.back().rel_l1, stray,
        samples.back().mass_rel, r_wet, r_any, edge, solver.steps());
  }
  return samples;
}

TEST(Thacker, PlanarSurfaceInParaboloid) {
  const std::vector<Sample> coarse = RunThacker(100);  // dx = 0.04 m
  const std::vector<Sample> fine = RunThacker(200);    // dx = 0.02 m
  for (std::size_t k = 0; k < fine.size(); ++k) {
    // Relative L1 depth error over the wet region, sum |h - h_exact| / sum h_exact.
    // First-order schemes on this case are dominated by the moving shoreline
    // (the front cells are partly wet, and the depth there is a large relative
    // error of a small depth) and by the phase error that numerical diffusion
    // accumulates over the period. We found no published first-order figure
    // for this exact measure to cite, so the external truth checked here is
    // the convergence to the exact solution (below); the bound, 0.18, is ~1.5x
    // the largest value measured on 200 x 200 (0.123 at t = T, double and
    // float, docs/validation/analytic.md): a regression guard.
    EXPECT_LE(fine[k].rel_l1, 0.18) << "t=" << fine[k].t;
    // Converging: halving dx must reduce the error. First order on a
    // solution with a moving wet/dry kink: observed order >= 0.5 (Kuznetsov
    // 1976 bound for monotone schemes, as for the dam breaks).
    const double order = std::log2(coarse[k].rel_l1 / fine[k].rel_l1);
    std::printf("thacker: t=%.4f s observed order %.3f\n", fine[k].t, order);
    EXPECT_GE(order, 0.5) << "t=" << fine[k].t;
    // Water stays in the bowl. The exact wet disc never reaches r = 1.5 m; a
    // first-order front is smeared over a few cells and may lead the exact
    // shoreline by O(dx) (measured: up to 2.4 cells on 200 x 200), so no water
    // at all (h > 0) beyond r = 1.5 m + 3 dx, and the outer ring of cells
    // stays exactly dry. The overshoot depth must shrink with dx (first order).
    for (const auto* run : {&coarse, &fine}) {
      const double dx = run == &coarse ? 0.04 : 0.02;
      EXPECT_LE((*run)[k].r_any, 1.5 + 3 * dx) << "dx=" << dx << " t=" << fine[k].t;
      EXPECT_EQ((*run)[k].edge_depth, 0.0) << "dx=" << dx << " t=" << fine[k].t;
    }
    EXPECT_LE(fine[k].stray_depth, coarse[k].stray_depth) << "t=" << fine[k].t;
    // Closed, frictionless, no sources: volume conserved to rounding of the
    // double sum (double), or to the float rounding of each depth (random,
    // ~6e-8 relative per cell; 1e-5 for the accumulated sum).
    EXPECT_LE(fine[k].mass_rel, kDouble ? 1e-12 : 1e-5) << "t=" << fine[k].t;
  }
}

}  // namespace
