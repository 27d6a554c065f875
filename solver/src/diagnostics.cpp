// What the solver says when something goes wrong: the conservation check
// (a clamp beyond round-off, a cell losing more than it held) and the
// blow-up report, each naming the time, the cell and the amounts.
#include "floodwarn/solver/solver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "solver_impl.hpp"

namespace floodwarn::solver {

const ConservationReport& Solver::conservation_report() const { return impl_->conservation; }

namespace {

// Per row: the largest clamp excess and outflow ratio with their columns, the
// sum of every clamp's change and of the violating ones, the violations.
void ReduceCheckRows(const Field2D& raw, const Field2D& h, const Field2D& start,
                     const Field2D& excess, const Field2D& ratio,
                     const Kokkos::View<RowCheck*, MemSpace>& rows, int nx, int ny) {
  const Real ratio_limit = Real(1) + kConservationUlps * kEpsilon;
  Kokkos::parallel_for(
      "solver::conservation_check", Kokkos::RangePolicy<ExecSpace>(0, ny), KOKKOS_LAMBDA(int j) {
        RowCheck r{Real(0), Real(0), -1, Real(0), -1, 0.0, 0.0, 0};
        for (int i = 0; i < nx; ++i) {
          const Real e = excess(j + 1, i + 1), q = ratio(j + 1, i + 1), d0 = start(j + 1, i + 1);
          const double change =
              static_cast<double>(h(j + 1, i + 1)) - static_cast<double>(raw(j + 1, i + 1));
          const double finite_change = change == change ? change : 0.0;
          r.clamped += finite_change;
          if (e > Real(0) || q > ratio_limit) {
            r.violation += finite_change;
            r.violations += 1;
          }
          if (e > r.excess || (e == kRealMax && e == r.excess && d0 > r.excess_h0)) {
            r.excess = e;
            r.excess_h0 = d0;
            r.excess_i = i;
          }
          if (q > r.ratio) {
            r.ratio = q;
            r.ratio_i = i;
          }
        }
        rows(j) = r;
      });
}

}  // namespace

// Reduces the per-cell check fields the update kernel wrote (one row per
// thread, rows combined on the host in order, so the report does not depend
// on the thread count), then stops or counts a violation: a clamp that changed
// a depth beyond round-off (or a non-finite flux), or a step that took more
// water out of a cell than it held at the start (the time step's positivity
// requirement, docs/SOLVER.md "Positivity").
void Solver::Impl::CheckConservation(double dt) {
  ReduceCheckRows(chk_raw, h, chk_h0, chk_excess, chk_ratio, chk_rows, nx, ny);
  auto rh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), chk_rows);
  const double area = dom.dx * dom.dy;
  const double t_end = t + dt;
  ConservationReport& rep = conservation;
  rep.steps_checked += 1;
  // The worst clamp of the step, and the largest outflow ratio of the step.
  int ci = -1, cj = -1, ri = -1, rj = -1;
  Real worst_excess = 0, worst_h0 = 0, worst_ratio = 0;
  long step_violations = 0;
  for (int j = 0; j < ny; ++j) {
    const RowCheck& r = rh(j);
    rep.clamped_volume += r.clamped * area;
    rep.violation_volume += r.violation * area;
    step_violations += r.violations;
    if (r.excess > worst_excess ||
        (r.excess == kRealMax && worst_excess == kRealMax && r.excess_h0 > worst_h0)) {
      worst_excess = r.excess;
      worst_h0 = r.excess_h0;
      ci = r.excess_i;
      cj = j;
    }
    if (r.ratio > worst_ratio) {
      worst_ratio = r.ratio;
      ri = r.ratio_i;
      rj = j;
    }
  }
  rep.violations += step_violations;
  if (static_cast<double>(worst_ratio) > rep.max_outflow_ratio) {
    rep.max_outflow_ratio = static_cast<double>(worst_ratio);
    rep.max_outflow_ratio_time = t_end;
    rep.max_outflow_ratio_i = ri;
    rep.max_outflow_ratio_j = rj;
  }
  if (step_violations == 0) return;

  const bool clamp = ci >= 0;  // a clamp violation names its cell first
  const int wi = clamp ? ci : ri, wj = clamp ? cj : rj;
  auto at = [&](const Field2D& f) {
    Real v = 0;
    Kokkos::deep_copy(v, Kokkos::subview(f, wj + 1, wi + 1));
    return static_cast<double>(v);
  };
  const double h0 = at(chk_h0), hr = at(chk_raw), hn = at(h);
  std::string what;
  if (!std::isfinite(hr)) {
    what = fmt::format(
        "its face fluxes are not finite (depth {:.9g} m at the start of the step, {:.9g} m "
        "written): {:.6g} m3 would vanish",
        h0, hn, h0 * area);
  } else if (clamp) {
    what = fmt::format(
        "its face fluxes and sources take the depth from {:.9g} m to {:.9g} m, the update "
        "wrote {:.9g} m: a clamp {} {:.6g} m3 (round-off allows {:.3g} m3)",
        h0, hr, hn, hn > hr ? "added" : "removed", std::abs(hn - hr) * area,
        (std::abs(hn - hr) - static_cast<double>(worst_excess)) * area);
  } else {
    what = fmt::format(
        "the step took {:.6g} times the water the cell held at its start ({:.9g} m) out through "
        "its faces: the time step is too long for positivity there",
        static_cast<double>(worst_ratio), h0);
  }
  const std::string msg = fmt::format(
      "conservation check failed at t = {:.9g} s (step {}, dt = {:.6g} s): cell (i={}, j={}) at "
      "x = {:.3f}, y = {:.3f} (bed {:.6g} m): {}; {} cell(s) violated in this step",
      t_end, steps + 1, dt, wi, wj, dom.CellX(wi), dom.CellY(wj), dom.bed[dom.Index(wi, wj)], what,
      step_violations);
  if (rep.first_violation.empty()) rep.first_violation = msg;
  if (opt.check_conservation == ConservationCheck::kStop) throw ConservationError(msg);
}

void Solver::Impl::ReportBlowUp(Real max_speed, Real max_depth) {
  auto hh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), h);
  auto qxh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), qx);
  auto qyh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), qy);
  // The worst cell of the whole grid: the first non-finite one in row order,
  // else the one furthest beyond the bounds.
  int bi = -1, bj = -1;
  double worst = -1;
  bool found_nan = false;
  for (int j = 0; j < ny && !found_nan; ++j) {
    for (int i = 0; i < nx; ++i) {
      const double hv = hh(j + 1, i + 1);
      const double u = hv > opt.dry_depth ? qxh(j + 1, i + 1) / hv : 0.0;
      const double v = hv > opt.dry_depth ? qyh(j + 1, i + 1) / hv : 0.0;
      const bool nan = !std::isfinite(hv) || !std::isfinite(u) || !std::isfinite(v);
      const double score = nan ? std::numeric_limits<double>::infinity()
                               : std::max(std::max(std::abs(u), std::abs(v)) / opt.max_speed_bound,
                                          hv / opt.max_depth_bound);
      if (score > worst) {
        worst = score;
        bi = i;
        bj = j;
      }
      if (nan) {
        found_nan = true;
        break;
      }
    }
  }
  const double hv = hh(bj + 1, bi + 1);
  const double u = hv > opt.dry_depth ? qxh(bj + 1, bi + 1) / hv : 0.0;
  const double v = hv > opt.dry_depth ? qyh(bj + 1, bi + 1) / hv : 0.0;
  throw BlowUpError(fmt::format(
      "solver blow-up at t = {:.6g} s (step {}, dt = {:.3g} s): cell (i={}, j={}) at x = {:.3f}, "
      "y = {:.3f}: h = {:.6g} m, u = {:.6g} m/s, v = {:.6g} m/s, bed = {:.6g} m "
      "(max speed {:.6g} m/s, max depth {:.6g} m; bounds {} m/s, {} m)",
      t, steps, last_dt, bi, bj, dom.CellX(bi), dom.CellY(bj), hv, u, v, dom.bed[dom.Index(bi, bj)],
      static_cast<double>(max_speed), static_cast<double>(max_depth), opt.max_speed_bound,
      opt.max_depth_bound));
}

}  // namespace floodwarn::solver
