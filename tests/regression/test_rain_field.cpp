// Time-interpolated rain fields (SetRainFrames). External truth: the exact
// time integral of the linearly interpolated field. A closed box keeps every
// drop, so the stored volume gained must equal
//   sum over active cells of area * integral of r_i(t) dt,
// with r_i(t) = A_i before t_a, linear from A_i to B_i over [t_a, t_b], B_i
// after t_b (closed form below).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"

namespace {

namespace fs = floodwarn::solver;

constexpr bool kDouble = std::is_same_v<fs::Real, double>;
constexpr double kMmH = 1e-3 / 3600;  // 1 mm/h in m/s

// A 24 x 16 grid of 5 m cells, gently sloping bed, with a few nodata cells.
fs::Domain MakeDomain() {
  fs::Domain d;
  d.nx = 24;
  d.ny = 16;
  d.dx = 5.0;
  d.dy = 5.0;
  d.bed.resize(static_cast<std::size_t>(d.nx) * d.ny);
  d.active.assign(d.bed.size(), 1);
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i) d.bed[d.Index(i, j)] = 1.0 - 0.002 * i * d.dx + 0.001 * j;
  for (int k = 0; k < 7; ++k) {
    const int i = (k * 5 + 2) % d.nx, j = (k * 3 + 1) % d.ny;
    d.active[d.Index(i, j)] = 0;
    d.bed[d.Index(i, j)] = std::numeric_limits<double>::quiet_NaN();
  }
  d.manning = {0.03};
  return d;
}

// Two frames: A a west-east ramp, B a north-south ramp (m/s).
std::vector<double> FrameA(const fs::Domain& d) {
  std::vector<double> r(d.bed.size());
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i) r[d.Index(i, j)] = (10.0 + 2.0 * i) * kMmH;
  return r;
}
std::vector<double> FrameB(const fs::Domain& d) {
  std::vector<double> r(d.bed.size());
  for (int j = 0; j < d.ny; ++j)
    for (int i = 0; i < d.nx; ++i) r[d.Index(i, j)] = (80.0 - 3.0 * j) * kMmH;
  return r;
}

// Closed form: integral over [0, t] of the clamped linear interpolation.
double ExpectedGain(const fs::Domain& d, double ta, double tb, double t) {
  const auto a = FrameA(d), b = FrameB(d);
  double sum = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!d.active[k]) continue;
    // Rate at time s: a + (b - a) * w(s), w = clamp((s - ta) / (tb - ta), 0, 1).
    double v = a[k] * std::min(t, ta);
    if (t > ta) {
      const double s = std::min(t, tb) - ta;
      v += a[k] * s + (b[k] - a[k]) * s * s / (2 * (tb - ta));
    }
    if (t > tb) v += b[k] * (t - tb);
    sum += v * d.dx * d.dy;
  }
  return sum;
}

fs::Options Opts() {
  fs::Options o;
  o.max_dt = 5.0;  // dry start: bound the first steps
  return o;
}

TEST(RainField, TwoFramesClosedBoxGetsTimeIntegratedVolume) {
  const fs::Domain d = MakeDomain();
  fs::Solver solver(d, floodwarn::testing::Checked(Opts()));  // walls everywhere
  const double ta = 120.0, tb = 780.0;
  solver.SetRainFrames(FrameA(d), ta, FrameB(d), tb);
  const double v0 = solver.Volume();
  double worst = 0, worst_ledger = 0;
  for (double t : {60.0, 300.0, 780.0, 1000.0}) {
    solver.AdvanceTo(t);
    const double expected = ExpectedGain(d, ta, tb, t);
    const double gained = solver.Volume() - v0;
    const double rel = std::abs(gained - expected) / expected;
    const double rel_ledger = std::abs(solver.mass_balance().rain_in - expected) / expected;
    worst = std::max(worst, rel);
    worst_ledger = std::max(worst_ledger, rel_ledger);
    std::printf(
        "rain_frames: real=%s t=%.0f steps=%ld gained=%.12e expected=%.12e rel=%.3e "
        "ledger_rel=%.3e\n",
        kDouble ? "double" : "float", t, solver.steps(), gained, expected, rel, rel_ledger);
  }
  // Double: 1e-10 relative (brief); the step-mean weights are exact for the
  // linear interpolant, leaving rounding (~1e-13). Float: ~6e-8 per update
  // over a few hundred steps: 1e-4.
  EXPECT_LE(worst, kDouble ? 1e-10 : 1e-4);
  EXPECT_LE(worst_ledger, kDouble ? 1e-10 : 1e-4);
}

TEST(RainField, UniformFramesMatchSetRainUniform) {
  const fs::Domain d = MakeDomain();
  const double r = 42.0 * kMmH;
  fs::Solver uni(d, floodwarn::testing::Checked(Opts()));
  uni.SetRainUniform(fs::TimeSeries::Constant(r));
  fs::Solver frames(d, floodwarn::testing::Checked(Opts()));
  const std::vector<double> f(d.bed.size(), r);
  frames.SetRainFrames(f, 0.0, f, 600.0);
  uni.AdvanceTo(900.0);
  frames.AdvanceTo(900.0);
  ASSERT_EQ(uni.steps(), frames.steps());
  const fs::HostState a = uni.Download(), b = frames.Download();
  double worst = 0;
  for (std::size_t k = 0; k < a.h.size(); ++k)
    worst = std::max(worst, std::abs(a.h[k] - b.h[k]) / std::max(1e-3, std::abs(a.h[k])));
  // 1e-12 relative (brief): (wa * r + wb * r) * dt vs r * dt differ by rounding only.
  EXPECT_LE(worst, kDouble ? 1e-12 : 1e-5);
  // The ledgers: double rounding only (1e-12); in float the uniform ledger
  // books Real(r * dt) per step and the frame ledger Real(r) * dt, which
  // differ by the float rounding of one of them (~6e-8 relative): 1e-6.
  EXPECT_NEAR(uni.mass_balance().rain_in, frames.mass_balance().rain_in,
              (kDouble ? 1e-12 : 1e-6) * uni.mass_balance().rain_in);
}

TEST(RainField, SetRainFramesRejectsBadInput) {
  const fs::Domain d = MakeDomain();
  fs::Solver solver(d, floodwarn::testing::Checked());
  const auto a = FrameA(d);
  EXPECT_THROW(solver.SetRainFrames(a, 10.0, a, 10.0), std::invalid_argument);
  auto neg = a;
  neg[3] = -1e-6;
  EXPECT_THROW(solver.SetRainFrames(a, 0.0, neg, 10.0), std::invalid_argument);
  auto gap = a;
  gap[5] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(solver.SetRainFrames(gap, 0.0, a, 10.0), std::invalid_argument);
  EXPECT_THROW(solver.SetRainFrames(a, 0.0, std::vector<double>(3, 0.0), 10.0),
               std::invalid_argument);
}

}  // namespace
