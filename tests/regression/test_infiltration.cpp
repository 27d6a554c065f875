// Infiltration (issue #3) against closed-form infiltration curves, the
// mass-balance ledger and a runoff / no-runoff check on a slope.
//
// External truths:
//  - Green-Ampt under ponding (Green & Ampt 1911; Chow, Maidment & Mays 1988,
//    "Applied Hydrology", eq. 4.3.8, shifted to start at F0 at t = 0):
//      Ks t = F - F0 - psi dtheta ln((psi dtheta + F) / (psi dtheta + F0)),
//    solved here by Newton's method.
//  - Horton under ponding (Horton 1940):
//      F(t) = F0 + fc t + (f0 - fc) / k (1 - exp(-k t)).
//  - Conservation of volume with rain, outflow and infiltration.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"

namespace {

namespace fs = floodwarn::solver;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;
constexpr double kFloatEps = 5.96e-8;  // half an ulp of 1 in float

// A flat closed box of 4 x 4 cells of 100 m under 2 m of water: the water
// never runs out (at most ~0.15 m infiltrates in an hour) and stays at rest
// (every cell loses the same depth), so each cell is a ponded soil column.
// Large cells keep the CFL step (5.6 s) above the max_dt of the test.
fs::Domain FlatBox() {
  fs::Domain d;
  d.nx = d.ny = 4;
  d.dx = d.dy = 100.0;
  d.bed.assign(16, 0.0);
  d.manning = {0.03};
  return d;
}

// Cumulative infiltration of Green-Ampt under ponding from F0 at t = 0.
double GreenAmptF(double ks, double s, double f_init, double t) {
  double f = f_init + ks * t + std::sqrt(2.0 * s * ks * t) + 1e-3;  // right of the root
  for (int it = 0; it < 100; ++it) {
    const double g = f - f_init - s * std::log((s + f) / (s + f_init)) - ks * t;
    const double step = g / (f / (s + f));  // G'(F) = F / (S + F)
    f -= step;
    if (std::abs(step) < 1e-15 * f) break;
  }
  return f;
}

double HortonF(double f0, double fc, double k, double t) {
  return fc * t + (f0 - fc) / k * (1.0 - std::exp(-k * t));
}

struct PondedRun {
  std::vector<double> times, numeric;
};

PondedRun RunPonded(const fs::Infiltration& p, double max_dt, const std::vector<double>& times) {
  fs::Options o;
  o.max_dt = max_dt;
  fs::Solver solver(FlatBox(), floodwarn::testing::Checked(o));
  solver.SetStillWater(2.0);
  solver.SetInfiltration(p);
  PondedRun r;
  for (double t : times) {
    solver.AdvanceTo(t);
    const std::vector<double> f = solver.InfiltratedDepth();
    // Every cell is the same column: check they agree, report cell 5.
    for (double v : f) EXPECT_EQ(v, f[5]);
    r.times.push_back(t);
    r.numeric.push_back(f[5]);
  }
  return r;
}

TEST(Infiltration, GreenAmptUnderPondingMatchesTheClosedForm) {
  // A loam (Rawls et al. 1983 via Chow et al. 1988, table 4.3.1, rounded):
  // Ks = 1e-5 m/s (36 mm/h), psi = 0.11 m, dtheta = 0.3.
  const double ks = 1e-5, psi = 0.11, dtheta = 0.3, f_init = 1e-3, s = psi * dtheta;
  fs::Infiltration p;
  p.model = fs::InfiltrationModel::kGreenAmpt;
  p.ks = {ks};
  p.psi = {psi};
  p.dtheta = {dtheta};
  p.initial_f = {f_init};
  const std::vector<double> times = {60, 300, 900, 1800, 3600};
  double err_dt[2] = {0, 0};
  const double dts[2] = {1.0, 0.5};
  for (int r = 0; r < 2; ++r) {
    const PondedRun run = RunPonded(p, dts[r], times);
    for (std::size_t k = 0; k < times.size(); ++k) {
      const double t = times[k];
      const double exact = GreenAmptF(ks, s, f_init, t);
      const double err = run.numeric[k] - exact;
      // Explicit Euler on dF/dt = f(F) with f decreasing in F: the global
      // error obeys e' = f'(F) e + (dt/2) F'' with f' < 0 (damped), so
      // |e(t)| <= dt/2 * integral |F''| = dt/2 * (f(0) - f(t)): first order
      // in dt. Float adds the rounding of F += i: one half-ulp of F per step.
      const double f_rate0 = ks * (1 + s / f_init), f_rate = ks * (1 + s / exact);
      const double tol = 0.5 * dts[r] * (f_rate0 - f_rate) +
                         (kDouble ? 1e-12 : 2.0 * kFloatEps * exact * (t / dts[r]));
      std::printf("green_ampt: dt=%.2f t=%6.0f F=%.9f exact=%.9f err=%.3e bound=%.3e\n", dts[r], t,
                  run.numeric[k], exact, err, tol);
      EXPECT_LE(std::abs(err), tol) << "t=" << t << " dt=" << dts[r];
      // A real match, not just a bound: within 1 % at every time.
      EXPECT_LT(std::abs(err), 1e-2 * exact) << "t=" << t;
    }
    err_dt[r] = std::abs(run.numeric.back() - GreenAmptF(ks, s, f_init, times.back()));
  }
  // First order: halving dt halves the error (double only: float rounding
  // is of the same size as the error at dt = 0.5 s).
  const double ratio = err_dt[0] / err_dt[1];
  std::printf("green_ampt: error ratio dt=1 / dt=0.5 at t=3600 s: %.3f\n", ratio);
  if (kDouble) {
    EXPECT_GT(ratio, 1.8);
    EXPECT_LT(ratio, 2.2);
  }
}

TEST(Infiltration, HortonUnderPondingMatchesTheClosedForm) {
  // f0 = 360 mm/h, fc = 36 mm/h, k = 2e-3 1/s (Horton's typical range).
  const double f0 = 1e-4, fc = 1e-5, k = 2e-3;
  fs::Infiltration p;
  p.model = fs::InfiltrationModel::kHorton;
  p.f0 = {f0};
  p.fc = {fc};
  p.k = {k};
  const std::vector<double> times = {60, 300, 900, 1800, 3600};
  const PondedRun run = RunPonded(p, 1.0, times);
  for (std::size_t n = 0; n < times.size(); ++n) {
    const double t = times[n];
    // The numeric F starts at 0 for Horton (no F0 shift needed).
    const double exact = HortonF(f0, fc, k, t);
    const double err = run.numeric[n] - exact;
    // The capacity is integrated exactly over each step (the step sum
    // telescopes to the closed form), so only rounding remains: in double
    // ~1e-16 relative per step over 3600 steps (1e-12 m leaves a margin of
    // ~100). In float the step's increment contains the difference of two
    // close exponentials, exp(-k t0) - exp(-k t1) ~ k dt exp(-k t), whose
    // relative rounding error is ~eps / (k dt) and has the same sign from
    // step to step: F is then good to ~eps / (k dt) relative; 4x that
    // (here 1.2e-4 relative) is the bound.
    const double dt = 1.0;  // RunPonded's step (max_dt)
    const double tol = kDouble ? 1e-12 : 4.0 * kFloatEps / (k * dt) * exact;
    std::printf("horton: t=%6.0f F=%.12f exact=%.12f err=%.3e tol=%.3e\n", t, run.numeric[n], exact,
                err, tol);
    EXPECT_LE(std::abs(err), tol) << "t=" << t;
  }
}

// A 40 x 8 slope of 5 m cells falling 2 % eastwards, free outflow on the
// east edge, rain for 30 min. It starts dry, where the CFL condition gives no
// step limit: max_dt = 1 s keeps the explicit infiltration step accurate.
fs::Domain Slope() {
  fs::Domain d;
  d.nx = 40;
  d.ny = 8;
  d.dx = d.dy = 5.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i)
      d.bed[d.Index(i, j)] = 10.0 - 0.02 * d.CellX(i) + 0.01 * std::sin(0.7 * j + 0.3 * i);
  d.manning = {0.04};
  return d;
}

fs::MassBalance RunSlope(const fs::Infiltration& p, double rain_m_per_s, double t_end,
                         std::vector<double>* infiltrated = nullptr) {
  const fs::Domain d = Slope();
  fs::Options o;
  o.max_dt = 1.0;
  fs::Solver solver(d, floodwarn::testing::Checked(o));
  fs::BoundarySegment out;
  out.edge = fs::Edge::kEast;
  out.kind = fs::BoundaryKind::kOutflow;
  solver.SetBoundaries({out});
  solver.SetRainUniform(fs::TimeSeries({0.0}, {rain_m_per_s}));
  solver.SetInfiltration(p);
  solver.AdvanceTo(t_end);
  if (infiltrated) *infiltrated = solver.InfiltratedDepth();
  return solver.mass_balance();
}

fs::Infiltration LoamGreenAmpt() {
  fs::Infiltration p;
  p.model = fs::InfiltrationModel::kGreenAmpt;
  p.ks = {1e-5};  // 36 mm/h
  p.psi = {0.11};
  p.dtheta = {0.3};
  return p;
}

TEST(Infiltration, RainBelowKsDoesNotRunOffRainAboveDoes) {
  const double ks = 1e-5;
  {
    // Half of Ks: the capacity f >= Ks always exceeds the rain, so each
    // step's rain infiltrates within the step and nothing flows.
    const fs::MassBalance mb = RunSlope(LoamGreenAmpt(), 0.5 * ks, 1800);
    std::printf("slope(rain = Ks/2): rain=%.6e infiltrated=%.6e out=%.6e V=%.6e\n", mb.rain_in,
                mb.infiltration_out, mb.BoundaryNetOut(), mb.volume);
    EXPECT_GT(mb.rain_in, 0.0);
    EXPECT_EQ(mb.BoundaryNetOut(), 0.0);
    EXPECT_NEAR(mb.infiltration_out, mb.rain_in, 1e-12 * mb.rain_in);
  }
  {
    // Five times Ks: ponding after t_p = Ks S / (r (r - Ks)) ~ 200 s
    // (Mein & Larson 1973), then runoff reaches the outlet.
    const fs::MassBalance mb = RunSlope(LoamGreenAmpt(), 5 * ks, 1800);
    std::printf("slope(rain = 5 Ks): rain=%.6e infiltrated=%.6e out=%.6e V=%.6e\n", mb.rain_in,
                mb.infiltration_out, mb.BoundaryNetOut(), mb.volume);
    EXPECT_GT(mb.BoundaryNetOut(), 0.1 * mb.rain_in);
    EXPECT_GT(mb.infiltration_out, 0.2 * mb.rain_in);
    EXPECT_LT(mb.infiltration_out, 0.8 * mb.rain_in);
  }
  {
    // Horton: rain below fc never runs off either.
    fs::Infiltration h;
    h.model = fs::InfiltrationModel::kHorton;
    h.f0 = {1e-4};
    h.fc = {2e-5};
    h.k = {2e-3};
    const fs::MassBalance mb = RunSlope(h, 1.5e-5, 1800);
    EXPECT_EQ(mb.BoundaryNetOut(), 0.0);
    EXPECT_NEAR(mb.infiltration_out, mb.rain_in, 1e-12 * mb.rain_in);
  }
}

TEST(Infiltration, LedgerClosesWithRainOutflowAndInfiltration) {
  // Per-cell Green-Ampt parameters (a raster in a scenario): Ks varies
  // across the slope, so part of it ponds and runs off.
  const fs::Domain d = Slope();
  fs::Infiltration p = LoamGreenAmpt();
  p.ks.resize(d.bed.size());
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i) p.ks[d.Index(i, j)] = (i % 3 == 0 ? 2e-5 : 2e-6) + 1e-7 * j;
  std::vector<double> f;
  const fs::MassBalance mb = RunSlope(p, 3e-5, 1500, &f);
  // Independent of the ledger: the infiltrated volume from the state F.
  double from_state = 0;
  for (double v : f) from_state += (v - 1e-3) * d.dx * d.dy;
  std::printf(
      "ledger: real=%s rain=%.9e infiltrated=%.9e (state %.9e) out=%.9e V=%.9e err=%.3e "
      "rel=%.3e\n",
      kDouble ? "double" : "float", mb.rain_in, mb.infiltration_out, from_state,
      mb.BoundaryNetOut(), mb.volume, mb.Error(), mb.RelativeError());
  EXPECT_GT(mb.infiltration_out, 0.1 * mb.rain_in);
  EXPECT_GT(mb.BoundaryNetOut(), 0.1 * mb.rain_in);
  // Double: conservative update, ledger in double: rounding only (1e-10
  // leaves orders of margin, as in test_mass_balance). Float: the depths
  // and F are float, ~6e-8 relative per update over ~1e3 steps: 1e-4.
  const double tol = kDouble ? 1e-10 : 1e-4;
  EXPECT_LE(mb.RelativeError(), tol);
  EXPECT_NEAR(from_state, mb.infiltration_out, tol * mb.infiltration_out);
}

bool BitEqual(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(Infiltration, SplitRunIsBitIdentical) {
  for (const auto model : {fs::InfiltrationModel::kGreenAmpt, fs::InfiltrationModel::kHorton}) {
    fs::Infiltration p = LoamGreenAmpt();
    p.model = model;
    p.f0 = {1e-4};
    p.fc = {1e-5};
    p.k = {2e-3};
    auto make = [&](fs::Solver& s) {
      fs::BoundarySegment out;
      out.edge = fs::Edge::kEast;
      out.kind = fs::BoundaryKind::kOutflow;
      s.SetBoundaries({out});
      s.SetRainUniform(fs::TimeSeries({0.0, 600.0}, {8e-5, 0.0}));
      s.SetInfiltration(p);
    };
    fs::Options o;
    o.max_dt = 1.0;
    fs::Solver full(Slope(), floodwarn::testing::Checked(o));
    make(full);
    full.AdvanceTo(300);
    const fs::SolverState mid = full.Export();
    full.AdvanceTo(700);
    const fs::SolverState a = full.Export();
    fs::Solver resumed(Slope(), floodwarn::testing::Checked(o));
    make(resumed);
    resumed.Import(mid);
    resumed.AdvanceTo(700);
    const fs::SolverState b = resumed.Export();
    EXPECT_EQ(a.steps, b.steps);
    EXPECT_TRUE(BitEqual(a.h, b.h));
    EXPECT_TRUE(BitEqual(a.hu, b.hu));
    EXPECT_TRUE(BitEqual(a.infiltrated_depth, b.infiltrated_depth));
    EXPECT_TRUE(BitEqual(a.infiltration_time, b.infiltration_time));
    EXPECT_EQ(a.mass_balance.infiltration_out, b.mass_balance.infiltration_out);
    EXPECT_EQ(a.infiltration_time.empty(), model == fs::InfiltrationModel::kGreenAmpt);
    EXPECT_GT(a.mass_balance.infiltration_out, 0.0);
    // A state without infiltration is refused by a solver with it.
    fs::SolverState bad = mid;
    bad.infiltrated_depth.clear();
    EXPECT_THROW(resumed.Import(bad), std::invalid_argument);
  }
}

TEST(Infiltration, RejectsBadParameters) {
  fs::Solver s(FlatBox(), floodwarn::testing::Checked());
  fs::Infiltration p = LoamGreenAmpt();
  p.ks = {-1e-5};
  EXPECT_THROW(s.SetInfiltration(p), std::invalid_argument);
  p = LoamGreenAmpt();
  p.initial_f = {0.0};
  EXPECT_THROW(s.SetInfiltration(p), std::invalid_argument);
  p = LoamGreenAmpt();
  p.psi = {0.1, 0.2};  // neither 1 nor nx*ny
  EXPECT_THROW(s.SetInfiltration(p), std::invalid_argument);
  fs::Infiltration h;
  h.model = fs::InfiltrationModel::kHorton;
  h.f0 = {1e-5};
  h.fc = {2e-5};  // fc > f0
  h.k = {1e-3};
  EXPECT_THROW(s.SetInfiltration(h), std::invalid_argument);
  h.fc = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(s.SetInfiltration(h), std::invalid_argument);
}

}  // namespace
