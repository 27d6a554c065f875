// Unit tests of the analytic solutions in tests/regression/analytic.hpp: a
// regression test is only as good as its reference, so each formula is checked
// against the conservation laws it must satisfy, independently of the solver.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "analytic.hpp"

namespace {

using floodwarn::testing::analytic::DamBreak;
using floodwarn::testing::analytic::ThackerPlanar;

constexpr double kG = 9.81;

// Integral of f over [x0, x1] split at the given breakpoints; composite
// Simpson on each smooth piece, which is exact for the piecewise constant and
// quadratic dam-break profiles (so the check tests the formulas, not the
// quadrature).
double IntegratePiecewise(const std::function<double(double)>& f, double x0, double x1,
                          std::vector<double> breaks) {
  breaks.push_back(x0);
  breaks.push_back(x1);
  std::sort(breaks.begin(), breaks.end());
  double sum = 0;
  for (std::size_t k = 0; k + 1 < breaks.size(); ++k) {
    const double a = std::max(x0, breaks[k]), b = std::min(x1, breaks[k + 1]);
    if (b <= a) continue;
    const int n = 64;  // even
    const double hstep = (b - a) / n;
    // Evaluate just inside the piece so a jump at its ends is not sampled.
    const double inset = 1e-12 * (b - a);
    double s = f(a + inset) + f(b - inset);
    for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * f(a + i * hstep);
    sum += s * hstep / 3;
  }
  return sum;
}

// Depths of the Stoker tests: the range of h_right/h_left used by the
// regression tests and beyond (weak to strong shocks).
const std::vector<double> kRightDepths = {1e-3, 0.01, 0.1, 0.25, 0.5, 0.9};

TEST(AnalyticStoker, MiddleStateSolvesShockRelation) {
  for (double hr : kRightDepths) {
    DamBreak d(1.0, hr, 0.0, kG);
    EXPECT_GT(d.h_mid(), hr);
    EXPECT_LT(d.h_mid(), 1.0);
    // The residual of the root: Newton/bisection to machine precision; 1e-12 m/s
    // leaves room for the rounding of the two square roots.
    EXPECT_LE(std::abs(d.ShockRelation(d.h_mid())), 1e-12) << "h_right=" << hr;
  }
}

TEST(AnalyticStoker, MiddleStateMatchesIndependentBisection) {
  // The same middle state from Toro's (2001, §5.3) depth function
  // f_L(h) + f_R(h) + (u_R - u_L) = 0 solved by plain bisection, 200 halvings.
  for (double hr : kRightDepths) {
    const double hl = 1.0;
    auto fk = [](double h, double hk) {
      return h <= hk ? 2 * (std::sqrt(kG * h) - std::sqrt(kG * hk))
                     : (h - hk) * std::sqrt(0.5 * kG * (h + hk) / (h * hk));
    };
    double lo = 0, hi = hl;
    for (int i = 0; i < 200; ++i) {
      const double m = 0.5 * (lo + hi);
      (fk(m, hl) + fk(m, hr) > 0 ? hi : lo) = m;
    }
    DamBreak d(hl, hr, 0.0, kG);
    EXPECT_NEAR(d.h_mid(), 0.5 * (lo + hi), 1e-14) << "h_right=" << hr;
  }
}

TEST(AnalyticStoker, RankineHugoniotAcrossTheShock) {
  for (double hr : kRightDepths) {
    DamBreak d(1.0, hr, 0.0, kG);
    const double s = d.shock_speed();
    const double hm = d.h_mid(), um = d.u_mid();
    // Mass: [h] s = [h u]; momentum: [h u] s = [h u^2 + g h^2 / 2] (Toro 2001 §3.1).
    const double mass_jump = (hm - hr) * s - (hm * um - 0);
    const double mom_jump =
        (hm * um - 0) * s - (hm * um * um + 0.5 * kG * hm * hm - 0.5 * kG * hr * hr);
    // Relative to the size of the fluxes: rounding only.
    EXPECT_LE(std::abs(mass_jump), 1e-13 * hm * std::abs(s)) << "h_right=" << hr;
    EXPECT_LE(std::abs(mom_jump), 1e-13 * kG * hm * hm) << "h_right=" << hr;
    // Lax entropy condition: characteristics run into the shock.
    EXPECT_GT(s, std::sqrt(kG * hr));
    EXPECT_LT(s, um + std::sqrt(kG * hm));
    EXPECT_GT(s, um - std::sqrt(kG * hm));
  }
}

TEST(AnalyticStoker, RiemannInvariantAcrossTheRarefaction) {
  for (double hr : kRightDepths) {
    DamBreak d(1.0, hr, 0.0, kG);
    const double cl = std::sqrt(kG * 1.0);
    EXPECT_NEAR(d.u_mid() + 2 * std::sqrt(kG * d.h_mid()), 2 * cl, 1e-13);
    // Inside the fan u + 2c is constant and u - c = x / t (it is a C- fan).
    const double t = 0.7;
    const auto br = d.Breakpoints(t);
    for (int k = 1; k < 10; ++k) {
      const double x = br[0] + (br[1] - br[0]) * k / 10.0;
      const double h = d.Depth(x, t), u = d.Velocity(x, t);
      EXPECT_NEAR(u + 2 * std::sqrt(kG * h), 2 * cl, 1e-12);
      EXPECT_NEAR(u - std::sqrt(kG * h), x / t, 1e-12);
    }
    // The fan joins the plateau continuously at its tail.
    EXPECT_NEAR(d.Depth(br[1] - 1e-12, t), d.h_mid(), 1e-10);
    EXPECT_NEAR(d.Depth(br[0] + 1e-12, t), 1.0, 1e-10);
  }
}

TEST(AnalyticDamBreak, ConservesMass) {
  // Water is only redistributed: the integral of h over a window that
  // contains all the waves equals its initial value.
  for (double hr : {0.0, 0.1, 0.25, 0.5}) {
    DamBreak d(1.0, hr, 10.0, kG);
    for (double t : {0.1, 0.5, 1.0}) {
      const double x0 = 0.0, x1 = 30.0;
      const double m =
          IntegratePiecewise([&](double x) { return d.Depth(x, t); }, x0, x1, d.Breakpoints(t));
      const double m0 = 10.0 * 1.0 + 20.0 * hr;
      EXPECT_NEAR(m, m0, 1e-12 * m0) << "h_right=" << hr << " t=" << t;
      // Momentum: the integral of h u grows at the rate of the net pressure
      // force g (h_l^2 - h_r^2) / 2 (no friction, flat bed).
      const double p = IntegratePiecewise(
          [&](double x) { return d.Depth(x, t) * d.Velocity(x, t); }, x0, x1, d.Breakpoints(t));
      EXPECT_NEAR(p, 0.5 * kG * (1.0 - hr * hr) * t, 1e-12 * kG * t) << "h_right=" << hr;
    }
  }
}

TEST(AnalyticRitter, Profile) {
  DamBreak d(1.0, 0.0, 0.0, kG);
  const double c0 = std::sqrt(kG);
  const double t = 1.0;
  EXPECT_EQ(d.Depth(-c0 * t - 1e-9, t), 1.0);
  EXPECT_EQ(d.Depth(2 * c0 * t + 1e-9, t), 0.0);
  // At the dam site the depth is 4/9 h_left and the velocity 2/3 c0 (Ritter).
  EXPECT_NEAR(d.Depth(0.0, t), 4.0 / 9.0, 1e-15);
  EXPECT_NEAR(d.Velocity(0.0, t), 2.0 / 3.0 * c0, 1e-15);
}

TEST(AnalyticThacker, SatisfiesShallowWaterEquations) {
  // Residuals of the 2D SWE in conservative form with bed slope source,
  //   h_t + (hu)_x + (hv)_y = 0
  //   (hu)_t + (hu^2 + g h^2/2)_x + (huv)_y = -g h z_x   (and likewise for hv),
  // by centred differences (step e) at wet points away from the shoreline.
  // h is quadratic in space so the spatial differences are exact but for
  // rounding; time differences err by e^2 omega^3 / 6 ~ 1e-8 (relative).
  ThackerPlanar th;
  const double e = 1e-4;
  auto h = [&](double x, double y, double t) { return th.Depth(x, y, t); };
  for (double t : {0.0, 0.3, 1.1, 2.0, 3.7}) {
    for (double dx : {-0.5, 0.0, 0.4}) {
      for (double dy : {-0.3, 0.0, 0.5}) {
        const double x = th.CentreX(t) + dx, y = th.CentreY(t) + dy;
        ASSERT_GT(h(x, y, t), 0.01);
        const double u = th.U(t), v = th.V(t);
        const double ht = (h(x, y, t + e) - h(x, y, t - e)) / (2 * e);
        const double hx = (h(x + e, y, t) - h(x - e, y, t)) / (2 * e);
        const double hy = (h(x, y + e, t) - h(x, y - e, t)) / (2 * e);
        const double mass = ht + u * hx + v * hy;
        auto qx = [&](double xx, double yy, double tt) { return h(xx, yy, tt) * th.U(tt); };
        auto fxx = [&](double xx, double yy) {
          const double hh = h(xx, yy, t);
          return hh * u * u + 0.5 * kG * hh * hh;
        };
        const double zx = (th.Bed(x + e, y) - th.Bed(x - e, y)) / (2 * e);
        const double zy = (th.Bed(x, y + e) - th.Bed(x, y - e)) / (2 * e);
        const double mom_x = (qx(x, y, t + e) - qx(x, y, t - e)) / (2 * e) +
                             (fxx(x + e, y) - fxx(x - e, y)) / (2 * e) + u * v * hy +
                             kG * h(x, y, t) * zx;
        auto qy = [&](double xx, double yy, double tt) { return h(xx, yy, tt) * th.V(tt); };
        auto fyy = [&](double xx, double yy) {
          const double hh = h(xx, yy, t);
          return hh * v * v + 0.5 * kG * hh * hh;
        };
        const double mom_y = (qy(x, y, t + e) - qy(x, y, t - e)) / (2 * e) + u * v * hx +
                             (fyy(x, y + e) - fyy(x, y - e)) / (2 * e) + kG * h(x, y, t) * zy;
        // Scales: h_t ~ 2 eta omega h0 / a ~ 0.14 m/s; g h z_x ~ 0.2 m2/s2.
        EXPECT_LE(std::abs(mass), 1e-8) << "t=" << t << " x=" << x << " y=" << y;
        EXPECT_LE(std::abs(mom_x), 1e-8) << "t=" << t << " x=" << x << " y=" << y;
        EXPECT_LE(std::abs(mom_y), 1e-8) << "t=" << t << " x=" << x << " y=" << y;
      }
    }
  }
}

TEST(AnalyticThacker, VolumeAndShorelineStayInTheBowl) {
  ThackerPlanar th;
  // The wet disc of radius a stays inside the domain at all times.
  EXPECT_LE(th.L / 2 + th.eta + th.a, th.L);
  EXPECT_NEAR(th.Period(), 2 * floodwarn::testing::analytic::kPi / std::sqrt(2 * kG * th.h0) * th.a,
              1e-15);
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const double tt = t * th.Period();
    // Midpoint rule on a fine grid; the kink at the shoreline limits it to
    // ~1e-6 relative at n = 2000.
    const int n = 2000;
    const double d = th.L / n;
    double vol = 0;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < n; ++i) vol += th.Depth((i + 0.5) * d, (j + 0.5) * d, tt) * d * d;
    }
    EXPECT_NEAR(vol, th.Volume(), 1e-5 * th.Volume()) << "t=" << tt;
    // Depth vanishes on the circle of radius a around the moving centre.
    for (int k = 0; k < 8; ++k) {
      const double ang = k * floodwarn::testing::analytic::kPi / 4;
      const double xs = th.CentreX(tt) + th.a * std::cos(ang);
      const double ys = th.CentreY(tt) + th.a * std::sin(ang);
      EXPECT_NEAR(th.Surface(xs, ys, tt), th.Bed(xs, ys), 1e-15);
    }
  }
}

}  // namespace
