// Unit tests of the per-face and per-cell physics, called directly on the host.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "physics.hpp"

using floodwarn::solver::ComputeFaceFlux;
using floodwarn::solver::FaceFlux;
using floodwarn::solver::FrictionFactor;
using floodwarn::solver::InvCbrt;
using floodwarn::solver::Real;

namespace {
constexpr Real kG = Real(9.81);
constexpr Real kDry = Real(1e-6);
constexpr bool kDouble = std::is_same_v<Real, double>;
const double kRel = kDouble ? 1e-13 : 1e-5;  // rounding of a few operations in Real
}  // namespace

// Consistency: equal states on a flat bed give the physical flux
// F = (hu, hu^2 + g h^2/2, huv); the own-cell pressure g h^2/2 is dropped from
// both momentum sides by construction (it cancels in the cell update).
TEST(FaceFlux, ConsistentWithPhysicalFlux) {
  const Real h = 1.3, u = 0.7, v = -0.4;
  const FaceFlux f = ComputeFaceFlux(kG, kDry, h, h * u, h * v, 0.2, 1, h, h * u, h * v, 0.2, 1);
  EXPECT_NEAR(f.mass, h * u, kRel);
  EXPECT_NEAR(f.mom_left, h * u * u, kRel);
  EXPECT_NEAR(f.mom_right, h * u * u, kRel);
  EXPECT_NEAR(f.tang, h * u * v, kRel);
}

// Supersonic flow to the right: the flux is the left state's flux.
TEST(FaceFlux, SupersonicUpwinding) {
  const Real hl = 0.5, ul = 8.0, hr = 0.4, ur = 7.0;  // Froude > 3 on both sides
  const FaceFlux f = ComputeFaceFlux(kG, kDry, hl, hl * ul, 0, 0, 1, hr, hr * ur, 0, 0, 1);
  EXPECT_NEAR(f.mass, hl * ul, kRel * 10);
  // Cell L sees hl ul^2 (+ its own pressure, dropped); cell R additionally
  // sees the pressure difference g/2 (hl^2 - hr^2) against its own.
  EXPECT_NEAR(f.mom_left, hl * ul * ul, kRel * 100);
  EXPECT_NEAR(f.mom_right, hl * ul * ul - 0.5 * kG * (hr * hr - hl * hl), kRel * 100);
}

// Lake at rest over a step: zero mass flux and momentum fluxes that exactly
// balance the bed slope (both sides see zero after dropping own pressure).
TEST(FaceFlux, LakeAtRestIsExactlyBalanced) {
  const Real eta = 2.0;
  const Real zl = 0.3, zr = 1.1;
  const FaceFlux f = ComputeFaceFlux(kG, kDry, eta - zl, 0, 0, zl, 1, eta - zr, 0, 0, zr, 1);
  EXPECT_EQ(f.mass, Real(0));
  EXPECT_EQ(f.mom_left, Real(0));
  EXPECT_EQ(f.mom_right, Real(0));
  EXPECT_EQ(f.tang, Real(0));
  // Emerged step (the right bed is above the lake): still no flux, no force.
  const FaceFlux g = ComputeFaceFlux(kG, kDry, 1.0, 0, 0, 0, 1, 0, 0, 0, 1.5, 1);
  EXPECT_EQ(g.mass, Real(0));
  EXPECT_EQ(g.mom_left, Real(0));
}

// Issue #17: still water at a staircase shore whose momentum friction had
// decayed to a subnormal (-4.8e-314 m2/s in the valley case) next to a dry,
// higher cell. Both reconstructed depths are zero and the wave-speed sum is
// subnormal: 1/den overflowed, 0 * inf made the mass flux NaN, and the update
// emptied the wet cell. Every flux must be finite and carry nothing.
TEST(FaceFlux, SubnormalMomentumAtADryShoreGivesNoFlux) {
  const Real q = std::numeric_limits<Real>::min() / Real(1e6);  // a subnormal
  ASSERT_GT(q, Real(0));
  ASSERT_LT(q, std::numeric_limits<Real>::min());
  const Real zd = Real(0.0664), zw = Real(-0.3075), hw = Real(0.3075);
  for (const Real sign : {Real(1), Real(-1)}) {
    SCOPED_TRACE(sign);
    // Dry cell west (left), wet cell east (right), and the mirror image.
    const FaceFlux a = ComputeFaceFlux(kG, kDry, 0, 0, 0, zd, 1, hw, sign * q, 0, zw, 1);
    const FaceFlux b = ComputeFaceFlux(kG, kDry, hw, sign * q, 0, zw, 1, 0, 0, 0, zd, 1);
    for (const FaceFlux& f : {a, b}) {
      EXPECT_TRUE(std::isfinite(f.mass) && std::isfinite(f.mom_left) &&
                  std::isfinite(f.mom_right) && std::isfinite(f.tang));
      EXPECT_EQ(f.mass, Real(0));
    }
  }
}

// Issue #17: nothing leaves an empty cell. An empty cell next to a deeper cell
// behind a bed step whose reconstructed depth is thinner than the dry depth
// but moving away slower than its dry-bed speed: with the dry-bed speed of the
// empty side (0) as the right wave speed, HLL returned the moving side's flux
// h* u > 0 out of the empty cell, and the clamp then created that water.
// Exactly nothing: even round-off out of an empty cell is water created.
TEST(FaceFlux, NothingLeavesAnEmptyCell) {
  const Real hr = Real(0.5), zr = Real(-0.4999995), ur = Real(1e-3);  // h* = 5e-7 m < dry
  const FaceFlux f = ComputeFaceFlux(kG, kDry, 0, 0, 0, 0, 1, hr, hr * ur, 0, zr, 1);
  EXPECT_LE(f.mass, Real(0)) << "water left the empty (west) cell";
  const FaceFlux m = ComputeFaceFlux(kG, kDry, hr, -hr * ur, 0, zr, 1, 0, 0, 0, 0, 1);
  EXPECT_GE(m.mass, Real(0)) << "water left the empty (east) cell";
}

// Mirror symmetry: swapping left and right and reversing the normal velocity
// negates the mass flux and swaps the momentum sides.
TEST(FaceFlux, MirrorSymmetry) {
  const Real hl = 1.0, ul = 0.3, hr = 0.6, ur = -0.2;
  const FaceFlux a = ComputeFaceFlux(kG, kDry, hl, hl * ul, 0.1, 0, 1, hr, hr * ur, 0.2, 0, 1);
  const FaceFlux b = ComputeFaceFlux(kG, kDry, hr, -hr * ur, 0.2, 0, 1, hl, -hl * ul, 0.1, 0, 1);
  EXPECT_NEAR(a.mass, -b.mass, kRel);
  EXPECT_NEAR(a.mom_left, b.mom_right, kRel);
  EXPECT_NEAR(a.mom_right, b.mom_left, kRel);
}

// A wall (inactive neighbour) lets no mass through, and water running into it
// is pushed back: the momentum flux exceeds the still-water value (zero here).
TEST(FaceFlux, WallReflects) {
  const Real h = 1.0, u = 1.5;
  const FaceFlux f = ComputeFaceFlux(kG, kDry, h, h * u, 0, 0, 1, 0, 0, 0, 0, 0);
  EXPECT_EQ(f.mass, Real(0));
  EXPECT_GT(f.mom_left, Real(0.5));
  const FaceFlux r = ComputeFaceFlux(kG, kDry, 0, 0, 0, 0, 0, h, -h * u, 0, 0, 1);
  EXPECT_EQ(r.mass, Real(0));
  EXPECT_NEAR(r.mom_right, f.mom_left, kRel);  // pushes R back east as hard
}

// Dry on both sides: nothing moves, and no NaN from 0/0.
TEST(FaceFlux, DryDryIsZero) {
  const FaceFlux f = ComputeFaceFlux(kG, kDry, 0, 0, 0, 1, 1, 0, 0, 0, 2, 1);
  EXPECT_EQ(f.mass, Real(0));
  EXPECT_EQ(f.mom_left, Real(0));
  EXPECT_EQ(f.mom_right, Real(0));
  EXPECT_EQ(f.tang, Real(0));
}

// A wet cell next to a dry one spills water into it (dam-break front).
TEST(FaceFlux, WetDryFrontMovesIntoDry) {
  const FaceFlux f = ComputeFaceFlux(kG, kDry, 1.0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
  EXPECT_GT(f.mass, Real(0));
  EXPECT_TRUE(std::isfinite(static_cast<double>(f.mom_left)));
}

TEST(InvCbrt, AccurateOverTheDepthRange) {
  const double tol = kDouble ? 1e-14 : 2e-6;
  for (double h = 1e-7; h < 1e4; h *= 1.37) {
    const double exact = 1.0 / std::cbrt(h);
    EXPECT_NEAR(static_cast<double>(InvCbrt(static_cast<Real>(h))) / exact, 1.0, tol) << h;
  }
}

TEST(Friction, MatchesSemiImplicitManning) {
  const Real n = 0.03, h = 0.2, qx = 0.3, qy = -0.4, dt = 0.5;
  const Real gn2dt = kG * n * n * dt;
  const double expected =
      1.0 / (1.0 + gn2dt * std::sqrt(0.09 + 0.16) / std::pow(static_cast<double>(h), 7.0 / 3.0));
  EXPECT_NEAR(FrictionFactor(gn2dt, h, qx, qy), expected, kDouble ? 1e-13 : 1e-6);
  // Only ever damps, never reverses, even for a huge step on a thin layer.
  const Real f = FrictionFactor(kG * n * n * Real(1e3), Real(1e-5), Real(1), Real(0));
  EXPECT_GT(f, Real(0));
  EXPECT_LT(f, Real(1e-6));
}
