// Analytic solutions of the shallow-water equations used as external truth by
// the regression tests (label `regression`) and checked themselves by
// tests/unit/test_analytic.cpp.
//
//  - Dam breaks on a flat frictionless bed (1D Riemann problems with still
//    water on both sides): Ritter (1892) for a dry bed downstream and Stoker
//    (1957) for a wet bed. Formulas as in Delestre et al. (2013), SWASHES,
//    J. Numer. Meth. Fluids 72, 269-300, §4.1.1-4.1.2, and Toro (2001),
//    Shock-capturing methods for free-surface shallow flows, ch. 4-5.
//  - Thacker (1981) planar surface in a paraboloid, J. Fluid Mech. 107,
//    499-508, as given in SWASHES §4.2.2 (moving shoreline, frictionless).
//
// Plain double-precision host code with no dependency on the solver.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace floodwarn::testing::analytic {

inline constexpr double kPi = 3.14159265358979323846;

// Dam break at x = x0 at t = 0: still water of depth h_left for x < x0 and
// h_right >= 0 for x > x0, flat frictionless bed, gravity g. h_right == 0 is
// Ritter's dry-bed solution; h_right > 0 is Stoker's (rarefaction to the
// left, a shock to the right, a constant middle state between them).
class DamBreak {
 public:
  DamBreak(double h_left, double h_right, double x0, double g = 9.81)
      : g_(g), h_left_(h_left), h_right_(h_right), x0_(x0) {
    if (!(h_left > 0) || !(h_right >= 0) || !(h_right < h_left) || !(g > 0)) {
      throw std::invalid_argument("DamBreak: need g > 0 and h_left > h_right >= 0");
    }
    c_left_ = std::sqrt(g_ * h_left_);
    if (h_right_ == 0) {
      // Ritter: the "middle state" degenerates to the dry front moving at 2 c_left.
      h_mid_ = 0;
      u_mid_ = 2 * c_left_;
      shock_speed_ = 2 * c_left_;
    } else {
      h_mid_ = SolveMiddleDepth();
      u_mid_ = 2 * (c_left_ - std::sqrt(g_ * h_mid_));       // left Riemann invariant u + 2c
      shock_speed_ = h_mid_ * u_mid_ / (h_mid_ - h_right_);  // Rankine-Hugoniot, mass
    }
  }

  double g() const { return g_; }
  double h_left() const { return h_left_; }
  double h_right() const { return h_right_; }
  double x0() const { return x0_; }
  double c_left() const { return c_left_; }
  // Middle state between the rarefaction and the shock (Stoker); 0 for Ritter.
  double h_mid() const { return h_mid_; }
  double u_mid() const { return u_mid_; }
  // Speed of the shock (Stoker) or of the dry front (Ritter, 2 c_left).
  double shock_speed() const { return shock_speed_; }
  // Speed of the tail of the rarefaction: u_mid - c_mid (Stoker), 2 c_left (Ritter).
  double tail_speed() const {
    return h_right_ == 0 ? 2 * c_left_ : u_mid_ - std::sqrt(g_ * h_mid_);
  }

  // Depth (m) at (x, t), t > 0 (t == 0 gives the initial state).
  double Depth(double x, double t) const {
    const double xi = x - x0_;
    if (t <= 0) return xi < 0 ? h_left_ : h_right_;
    if (xi <= -c_left_ * t) return h_left_;
    if (xi <= tail_speed() * t) {
      const double r = 2 * c_left_ - xi / t;
      return r * r / (9 * g_);
    }
    if (xi <= shock_speed_ * t) return h_mid_;
    return h_right_;
  }

  // Velocity (m/s) at (x, t); 0 where dry.
  double Velocity(double x, double t) const {
    const double xi = x - x0_;
    if (t <= 0) return 0;
    if (xi <= -c_left_ * t) return 0;
    if (xi <= tail_speed() * t) return 2.0 / 3.0 * (xi / t + c_left_);
    if (xi <= shock_speed_ * t) return h_right_ == 0 ? 0 : u_mid_;
    return 0;
  }

  // The x positions where the solution is not smooth at time t, ascending:
  // rarefaction head, rarefaction tail, shock (or dry front for Ritter).
  std::vector<double> Breakpoints(double t) const {
    if (h_right_ == 0) return {x0_ - c_left_ * t, x0_ + 2 * c_left_ * t};
    return {x0_ - c_left_ * t, x0_ + tail_speed() * t, x0_ + shock_speed_ * t};
  }

  // Mean depth over [xa, xb] at time t: Simpson's rule on each smooth piece,
  // exact because every piece is constant or quadratic in x. This is the
  // reference a finite-volume cell average is compared with.
  double CellAverage(double xa, double xb, double t) const {
    std::vector<double> cuts = {xa, xb};
    if (t > 0) {
      for (double b : Breakpoints(t)) {
        if (b > xa && b < xb) cuts.push_back(b);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    double sum = 0;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      const double a = cuts[k], b = cuts[k + 1];
      // Ends taken just inside the piece, so a jump there is not sampled.
      const double in = 1e-12 * (b - a);
      sum += (b - a) / 6 * (Depth(a + in, t) + 4 * Depth(0.5 * (a + b), t) + Depth(b - in, t));
    }
    return sum / (xb - xa);
  }

  // Stoker's middle depth: the root in (h_right, h_left) of
  //   f(h) = 2 (c_left - sqrt(g h)) - (h - h_right) sqrt(g (h + h_right) / (2 h h_right)),
  // i.e. the velocity behind the rarefaction (left Riemann invariant) equals
  // the velocity behind the shock (Rankine-Hugoniot, Toro 2001 §5.3). f is
  // strictly decreasing, f(h_right) > 0 > f(h_left): safeguarded Newton with a
  // bisection fallback, to machine precision.
  double ShockRelation(double h) const {
    return 2 * (c_left_ - std::sqrt(g_ * h)) -
           (h - h_right_) * std::sqrt(g_ * (h + h_right_) / (2 * h * h_right_));
  }

 private:
  double SolveMiddleDepth() const {
    double lo = h_right_, hi = h_left_;
    double h = 0.5 * (lo + hi);
    for (int iter = 0; iter < 200; ++iter) {
      const double f = ShockRelation(h);
      if (f > 0) {
        lo = h;
      } else {
        hi = h;
      }
      // Derivative by a centred difference is enough to accelerate; the
      // bracket keeps the iteration safe.
      const double eps = 1e-7 * h;
      const double df = (ShockRelation(h + eps) - ShockRelation(h - eps)) / (2 * eps);
      double next = df < 0 ? h - f / df : 0.5 * (lo + hi);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (std::abs(next - h) <= 4 * std::numeric_limits<double>::epsilon() * h ||
          hi - lo <= 4 * std::numeric_limits<double>::epsilon() * hi) {
        return next;
      }
      h = next;
    }
    return h;
  }

  double g_, h_left_, h_right_, x0_;
  double c_left_ = 0, h_mid_ = 0, u_mid_ = 0, shock_speed_ = 0;
};

// Thacker's planar surface in a paraboloid (SWASHES §4.2.2). Square domain
// [0, L]^2, bed z = -h0 (1 - r^2 / a^2) with r the distance to the centre
// (L/2, L/2). The free surface stays a plane and the velocity is uniform:
//   u = -eta omega sin(omega t),  v = eta omega cos(omega t),  omega = sqrt(2 g h0) / a,
//   h = eta h0 / a^2 (2 X cos(omega t) + 2 Y sin(omega t) - eta) - z   where positive,
// with X = x - L/2, Y = y - L/2. Equivalently h = h0/a^2 (a^2 - |P - P_c(t)|^2): the wet
// region is a disc of radius a whose centre P_c = (L/2, L/2) + eta (cos, sin)(omega t)
// circles the bowl. SWASHES' parameters: L = 4, a = 1, h0 = 0.1, eta = 0.5 (its r0 = 0.8
// belongs to the radially symmetric case and does not enter this solution).
struct ThackerPlanar {
  double g = 9.81;
  double L = 4.0;
  double a = 1.0;
  double h0 = 0.1;
  double eta = 0.5;

  double Omega() const { return std::sqrt(2 * g * h0) / a; }
  double Period() const { return 2 * kPi / Omega(); }
  double Bed(double x, double y) const {
    const double X = x - L / 2, Y = y - L / 2;
    return -h0 * (1 - (X * X + Y * Y) / (a * a));
  }
  // Water-surface plane (m); the water level only where Depth > 0.
  double Surface(double x, double y, double t) const {
    const double w = Omega() * t;
    return eta * h0 / (a * a) *
           (2 * (x - L / 2) * std::cos(w) + 2 * (y - L / 2) * std::sin(w) - eta);
  }
  double Depth(double x, double y, double t) const {
    return std::max(0.0, Surface(x, y, t) - Bed(x, y));
  }
  double U(double t) const { return -eta * Omega() * std::sin(Omega() * t); }
  double V(double t) const { return eta * Omega() * std::cos(Omega() * t); }
  // Centre of the wet disc.
  double CentreX(double t) const { return L / 2 + eta * std::cos(Omega() * t); }
  double CentreY(double t) const { return L / 2 + eta * std::sin(Omega() * t); }
  // Water volume (m3): integral of h0/a^2 (a^2 - rho^2) over the disc of radius a.
  double Volume() const { return kPi * h0 * a * a / 2; }
};

}  // namespace floodwarn::testing::analytic
