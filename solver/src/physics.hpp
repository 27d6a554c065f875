// Per-face and per-cell physics as small pure functions, shared by the kernels
// and called directly by unit tests on the host.
//
// Conventions: a face separates a "left" cell L and a "right" cell R along the
// face normal n (x for east-west faces, y for north-south faces). States are
// depth h, normal discharge qn = h u_n, tangential discharge qt = h u_t, bed z
// and an activity flag a (1 inside the domain, 0 for a wall cell).
#pragma once

#include <cstdint>
#include <cstring>

#include "kokkos_types.hpp"

namespace floodwarn::solver {

// Fluxes through one face, per unit face length.
//   mass       h u_n                                     (m2/s)
//   mom_left   normal-momentum flux as seen by cell L    (m3/s2)
//   mom_right  normal-momentum flux as seen by cell R
//   tang       tangential-momentum flux h u_n u_t        (m3/s2)
// mom_left/mom_right already contain the hydrostatic-reconstruction pressure
// correction (Audusse et al. 2004) MINUS each cell's own pressure g h^2 / 2.
// That own-cell term is the same on the cell's two opposite faces and cancels
// exactly in the update, so it is never added: the lake at rest then gives
// exactly zero momentum change, bit for bit.
struct FaceFlux {
  Real mass;
  Real mom_left;
  Real mom_right;
  Real tang;
};

// Wave speeds (m/s) at or below this are no waves: a face whose fastest
// signal is slower carries no flux. Every flux term is then below 1e-60 in
// magnitude (c <= 1e-30 m/s means a depth below 1e-61 m), and 1 / speed stays
// finite in float and double.
inline constexpr Real kTinyWaveSpeed = Real(1e-30);

// HLL flux for (h, h u_n) with the contact wave for the tangential momentum
// upwinded by the sign of the mass flux (HLLC with S* = F_h / h_HLL), on the
// hydrostatically reconstructed states h* = max(0, h + z - max(zL, zR)).
// Wave speeds: Toro (2001) two-rarefaction estimates, with the dry-bed speeds
// u -+ 2c when one side is dry. Wall cells (a == 0) mirror the other side
// (reflective wall). Branch-free so that a row of faces vectorises.
KOKKOS_FORCEINLINE_FUNCTION FaceFlux ComputeFaceFlux(Real g, Real dry, Real hL, Real qnL, Real qtL,
                                                     Real zL, Real aL, Real hR, Real qnR, Real qtR,
                                                     Real zR, Real aR) {
  const bool wall_l = aL == Real(0);
  const bool wall_r = aR == Real(0);
  const Real hl = wall_l ? hR : hL;
  const Real qnl = wall_l ? -qnR : qnL;
  const Real qtl = wall_l ? qtR : qtL;
  const Real zl = wall_l ? zR : zL;
  const Real hr = wall_r ? hL : hR;
  const Real qnr = wall_r ? -qnL : qnR;
  const Real qtr = wall_r ? qtL : qtR;
  const Real zr = wall_r ? zL : zR;

  // Desingularised velocities: no velocity in layers thinner than `dry`.
  const Real inv_hl = Real(1) / (hl > dry ? hl : Real(1));
  const Real inv_hr = Real(1) / (hr > dry ? hr : Real(1));
  const Real ul = hl > dry ? qnl * inv_hl : Real(0);
  const Real vl = hl > dry ? qtl * inv_hl : Real(0);
  const Real ur = hr > dry ? qnr * inv_hr : Real(0);
  const Real vr = hr > dry ? qtr * inv_hr : Real(0);

  // Hydrostatic reconstruction.
  const Real zf = zl > zr ? zl : zr;
  const Real dl = hl + zl - zf;
  const Real dr = hr + zr - zf;
  const Real hls = dl > Real(0) ? dl : Real(0);
  const Real hrs = dr > Real(0) ? dr : Real(0);

  const Real cl = Sqrt(g * hls);
  const Real cr = Sqrt(g * hrs);
  const Real us = Real(0.5) * (ul + ur) + cl - cr;
  const Real cs_raw = Real(0.5) * (cl + cr) + Real(0.25) * (ul - ur);
  const Real cs = cs_raw > Real(0) ? cs_raw : Real(0);
  const Real sl_wet = (ul - cl) < (us - cs) ? (ul - cl) : (us - cs);
  const Real sr_wet = (ur + cr) > (us + cs) ? (ur + cr) : (us + cs);
  // Dry-bed speeds when a side's reconstructed depth is at most `dry`, but
  // never inside the other side's velocity: with sl <= ul and sr >= ur the HLL
  // state between the waves is never negative, so no face takes more water
  // than its cells hold. (A reconstructed side thinner than `dry` can still
  // move, with the velocity of a deeper cell behind a bed step; without the
  // bound a dry cell lost water it did not have, issue #17.)
  const Real sl_dry = ur - Real(2) * cr;
  const Real sr_dry = ul + Real(2) * cl;
  // (The wet speeds already satisfy both bounds: sl_wet <= ul - cl, sr_wet >= ur + cr.)
  const Real sl_any = hls > dry ? sl_wet : sl_dry;
  const Real sr_any = hrs > dry ? sr_wet : sr_dry;
  const Real sl = sl_any < ul ? sl_any : ul;
  const Real sr = sr_any > ur ? sr_any : ur;
  // Clamping the speeds at zero folds the supersonic cases into one formula:
  // sl >= 0 gives the left flux, sr <= 0 the right flux.
  const Real slm = sl < Real(0) ? sl : Real(0);
  const Real srp = sr > Real(0) ? sr : Real(0);
  // No waves (den <= kTinyWaveSpeed): no flux. The bound, not den > 0, is
  // what keeps 1/den finite: a subnormal den (still water whose momentum
  // friction has decayed to ~1e-314 next to a dry cell) overflows 1/den to
  // inf, and 0 * inf made the mass flux NaN (issue #17).
  const Real den = srp - slm;
  const bool waves = den > kTinyWaveSpeed;
  const Real inv_den = Real(1) / (waves ? den : Real(1));
  const Real inv = waves ? inv_den : Real(0);

  // HLL, F = (sr F_L - sl F_R + sl sr (U_R - U_L)) / (sr - sl), written as
  // F = (sr (F_L - sl U_L) - sl (F_R - sr U_R)) / (sr - sl): for the mass,
  // sr h*_L (u_L - sl) >= 0 leaves L and -sl h*_R (u_R - sr) <= 0 enters it
  // (sl <= u_L, sr >= u_R). What leaves a side is a product with its own
  // reconstructed depth, so an empty side gives exactly nothing, also in
  // floating point (the expanded form left round-off of the other side's
  // flux, which the update then clamped into water; issue #17).
  const Real ql = hls * ul;
  const Real qr = hrs * ur;
  const Real wl = ul - slm, wr = ur - srp;
  const Real mass = (srp * hls * wl - slm * hrs * wr) * inv;
  const Real adv = (srp * ql * wl - slm * qr * wr) * inv;
  const Real dp = Real(0.5) * g * (hrs * hrs - hls * hls);
  FaceFlux f;
  f.mass = mass;
  // Full HLL momentum flux is adv + pL - slm*dp*inv (= adv + pR - srp*dp*inv);
  // adding each side's correction g/2 (h^2 - h*^2) and dropping its own g h^2/2:
  f.mom_left = adv - slm * dp * inv;
  f.mom_right = adv - srp * dp * inv;
  f.tang = mass > Real(0) ? mass * vl : mass * vr;
  return f;
}

// CFL metric of one cell, (|u| + c)/dx + (|v| + c)/dy with c = sqrt(g h),
// no velocity in thin layers or inactive cells: the quantity whose maximum
// sets the time step. (The update kernel computes the same expression
// inline, sharing 1/h with the max-speed map.)
KOKKOS_FORCEINLINE_FUNCTION Real CellCflMetric(Real g, Real dry, Real h, Real qx, Real qy, Real a,
                                               Real inv_dx, Real inv_dy) {
  const bool wet = h > dry && a != Real(0);
  const Real inv_h = wet ? Real(1) / h : Real(0);
  const Real c = Sqrt(g * h);
  const Real ax = qx < Real(0) ? -qx : qx;
  const Real ay = qy < Real(0) ? -qy : qy;
  return (ax * inv_h + c) * inv_dx + (ay * inv_h + c) * inv_dy;
}

// Approximate h^(-1/3) for h in [1e-30, 1e30] without division, pow or cbrt
// (which do not vectorise): a bit-level first guess on the float
// representation, then Newton steps y <- y (4 - h y^3) / 3, each of which
// roughly squares the relative error (3.5 % -> 2.5e-3 -> 1.2e-5 -> 3e-10 ->
// 1e-16).
KOKKOS_FORCEINLINE_FUNCTION Real InvCbrt(Real h) {
  const float hf = static_cast<float>(h);
  std::int32_t bits;
  std::memcpy(&bits, &hf, sizeof bits);
  bits = std::int32_t(0x54a21d2a) - bits / 3;
  float yf;
  std::memcpy(&yf, &bits, sizeof yf);
  Real y = static_cast<Real>(yf);
  constexpr Real kThird = Real(1) / Real(3);
  // Written out (not a loop) so that the enclosing row loop stays innermost
  // and vectorises.
  y = y * (Real(4) - h * y * y * y) * kThird;
  y = y * (Real(4) - h * y * y * y) * kThird;
  y = y * (Real(4) - h * y * y * y) * kThird;
  if constexpr (sizeof(Real) == 8) y = y * (Real(4) - h * y * y * y) * kThird;
  return y;
}

// Semi-implicit Manning friction: q_new = q / (1 + dt g n^2 |q| h^(-7/3)).
// Implicit in the friction factor, so it only ever damps q and stays stable
// for thin sheet flow on steep slopes at the CFL time step.
// `gn2dt` = g n^2 dt. Returns the factor 1 / (1 + ...).
// `qabs` = |q| = sqrt(qx^2 + qy^2), passed in so that the caller can reuse it
// (|q| after friction is qabs times the factor: both components scale alike).
KOKKOS_FORCEINLINE_FUNCTION Real FrictionFactorAbs(Real gn2dt, Real h, Real qabs) {
  const Real r = InvCbrt(h);                  // h^(-1/3)
  const Real r7 = r * r * r * r * r * r * r;  // h^(-7/3)
  return Real(1) / (Real(1) + gn2dt * qabs * r7);
}
KOKKOS_FORCEINLINE_FUNCTION Real FrictionFactor(Real gn2dt, Real h, Real qx, Real qy) {
  return FrictionFactorAbs(gn2dt, h, Sqrt(qx * qx + qy * qy));
}

}  // namespace floodwarn::solver
