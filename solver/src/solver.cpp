// Solver implementation. The time step is two kernels over the grid:
//
//  1. "solver::boundary_face_rows": the north-south face rows at the start of
//     every chunk of rows (and the domain's north edge), from the old state.
//  2. "solver::update_chunks": one team per chunk of `chunk_rows` rows. Going
//     north through its rows, a team computes the next face row and the row's
//     east-west faces into scratch, then updates the row in place (fluxes,
//     rain, friction, thin-layer cut-off, max depth) and takes the CFL maximum
//     of the new state on the way. Every face is computed exactly once per
//     step, so results do not depend on the number of threads or on the
//     chunking, and the in-place update needs no second copy of the state.
//
// Inner loops run along a row (contiguous memory) so that the compiler
// vectorises them on the host; on a GPU the same loops are TeamVectorRange.
#include "floodwarn/solver/solver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "floodwarn/solver/physics.hpp"

namespace floodwarn::solver {

bool Domain::CellOf(double x, double y, int& i, int& j) const {
  const double fi = std::floor((x - x_west) / dx);
  const double fj = std::floor((y - y_south) / dy);
  if (!(fi >= 0 && fi < nx && fj >= 0 && fj < ny)) return false;
  i = static_cast<int>(fi);
  j = static_cast<int>(fj);
  return true;
}

double MassBalance::RelativeError() const {
  const double scale =
      std::max({std::abs(initial_volume), std::abs(volume), std::abs(rain_in), std::abs(inflow_in),
                std::abs(boundary_net_out), std::abs(infiltration_out)});
  return scale > 0 ? std::abs(Error()) / scale : 0.0;
}

namespace {

using TeamPolicy = Kokkos::TeamPolicy<ExecSpace>;
using TeamMember = TeamPolicy::member_type;
using ScratchRow = Kokkos::View<Real*, ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
using FaceRows = Kokkos::View<Real***, Kokkos::LayoutRight, MemSpace>;  // [row][component][i]

enum HaloKind : int { kHaloWall = 0, kHaloOutflow = 1, kHaloLevel = 2, kHaloInflow = 3 };

struct RowMax {
  Real metric;  // max of (|u|+c)/dx + (|v|+c)/dy
  Real speed;   // max of max(|u|, |v|)
  Real depth;   // max of h
};

// Kokkos reducer for RowMax (component-wise maximum).
struct RowMaxReducer {
  using reducer = RowMaxReducer;
  using value_type = RowMax;
  using result_view_type = Kokkos::View<value_type, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  value_type& value;
  KOKKOS_INLINE_FUNCTION explicit RowMaxReducer(value_type& v) : value(v) {}
  KOKKOS_INLINE_FUNCTION void join(value_type& dst, const value_type& src) const {
    dst.metric = src.metric > dst.metric ? src.metric : dst.metric;
    dst.speed = src.speed > dst.speed ? src.speed : dst.speed;
    dst.depth = src.depth > dst.depth ? src.depth : dst.depth;
  }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& dst, const volatile value_type& src) const {
    dst.metric = src.metric > dst.metric ? src.metric : dst.metric;
    dst.speed = src.speed > dst.speed ? src.speed : dst.speed;
    dst.depth = src.depth > dst.depth ? src.depth : dst.depth;
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const { v = RowMax{0, 0, 0}; }
  KOKKOS_INLINE_FUNCTION value_type& reference() const { return value; }
  KOKKOS_INLINE_FUNCTION result_view_type view() const { return result_view_type(&value); }
  KOKKOS_INLINE_FUNCTION bool references_scalar() const { return true; }
};

// The conservation check's tolerance for a clamp, in ulps of the sum of the
// magnitudes of the terms of a cell's update (see UpdateRow).
constexpr Real kConservationUlps = 4;

// Components of a face row in scratch / FaceRows.
enum FaceComponent { kMass = 0, kMomLeft = 1, kMomRight = 2, kTang = 3, kComponents = 4 };

struct StepKernel {
  // State, padded with one halo cell on each side: (jj, ii) = (j + 1, i + 1).
  Field2D h, qx, qy, z, act, gn2, hmax, rain, rain_b;
  Field2D vmax, arrival;  // max speed, arrival time (only with track_extremes)
  // Conservation check (only with Options::check_conservation): per cell the
  // depth at the start of the step, the depth the fluxes and sources give
  // before any clamp, the clamp's change beyond round-off, and the outflow of
  // the step over the depth at its start.
  Field2D chk_h0, chk_raw, chk_excess, chk_ratio;
  FaceRows ybnd;  // precomputed face rows at chunk starts and the north edge
  Kokkos::View<int*, MemSpace> halo_kind, halo_seg;
  Kokkos::View<Real*, MemSpace> seg_value;
  Kokkos::View<Real*, MemSpace> chunk_metric, chunk_speed, chunk_depth;
  Kokkos::View<double*, MemSpace> chunk_out;
  int nx, ny, chunk_rows;
  Real g, dry, dt, rdx, rdy, inv_dx, inv_dy, rain_dt;
  Real rain_wa, rain_wb;  // step-mean weights of the two rain frames (field path)
  Real t_new, arrival_depth;
  bool rain_field, track, check;

  // Reals of team scratch: two face rows, one row of east-west faces and
  // three rows for the CFL reduction.
  static KOKKOS_INLINE_FUNCTION int ScratchSize(int nx) {
    return 2 * kComponents * nx + kComponents * (nx + 1) + 3 * nx;
  }

  static KOKKOS_FORCEINLINE_FUNCTION void StoreFace(Real* out, int stride, int k,
                                                    const FaceFlux& f) {
    out[kMass * stride + k] = f.mass;
    out[kMomLeft * stride + k] = f.mom_left;
    out[kMomRight * stride + k] = f.mom_right;
    out[kTang * stride + k] = f.tang;
  }

  struct Ptrs {
    const Real *h, *qx, *qy, *z, *a;
  };
  KOKKOS_FORCEINLINE_FUNCTION Ptrs RowPtrs(int jj, int ii) const {
    return Ptrs{&h(jj, ii), &qx(jj, ii), &qy(jj, ii), &z(jj, ii), &act(jj, ii)};
  }

  // n faces between cells L[k] and R[k] (k in [0, n)), written to out[c * stride + k].
  // Scalars and pointers are locals so that the loop if-converts and vectorises.
  KOKKOS_FORCEINLINE_FUNCTION void FaceRow(const TeamMember& member, int n, int stride,
                                           const Ptrs L, const Ptrs R, bool normal_is_x,
                                           Real* out) const {
    const Real g = this->g, dry = this->dry;
    const Real* const lqn = normal_is_x ? L.qx : L.qy;
    const Real* const lqt = normal_is_x ? L.qy : L.qx;
    const Real* const rqn = normal_is_x ? R.qx : R.qy;
    const Real* const rqt = normal_is_x ? R.qy : R.qx;
    if constexpr (kHostKernels) {
      // The loop calls the force-inlined functions itself, not a lambda: once
      // the kernel grew, g++ stopped inlining a lambda here, the loop called
      // it once per face and did not vectorise (half the speed).
      (void)member;
#pragma GCC ivdep
      for (int k = 0; k < n; ++k)
        StoreFace(out, stride, k,
                  ComputeFaceFlux(g, dry, L.h[k], lqn[k], lqt[k], L.z[k], L.a[k], R.h[k], rqn[k],
                                  rqt[k], R.z[k], R.a[k]));
    } else {
      Kokkos::parallel_for(Kokkos::TeamVectorRange(member, n), [=](int k) {
        StoreFace(out, stride, k,
                  ComputeFaceFlux(g, dry, L.h[k], lqn[k], lqt[k], L.z[k], L.a[k], R.h[k], rqn[k],
                                  rqt[k], R.z[k], R.a[k]));
      });
    }
  }

  // An inflow edge face passes exactly the prescribed unit discharge q into
  // the cell with interior depth h_in: mass sign*q, normal momentum
  // q^2/h_b + g/2 (h_b^2 - h_in^2) (own pressure dropped) with h_b the
  // larger of h_in and the critical depth of q. sign = +1 when the interior
  // cell is on the right (west/south edges), -1 otherwise.
  // The bed-slope force from this face is the hydrostatic reconstruction
  // against the halo's extrapolated bed z_out: g/2 (h_in^2 - h_in*^2).
  KOKKOS_INLINE_FUNCTION FaceFlux InflowFace(Real q, Real h_in, Real z_in, Real z_out,
                                             Real sign) const {
    const Real hc = Cbrt(q * q / g);
    const Real hb = h_in > hc ? h_in : hc;
    const Real hbs = hb > dry ? hb : Real(1);
    const Real d = h_in + z_in - (z_in > z_out ? z_in : z_out);
    const Real hs = d > Real(0) ? d : Real(0);
    const Real mom = (hb > dry ? q * q / hbs : Real(0)) + Real(0.5) * g * (hb * hb - hs * hs);
    FaceFlux f;
    f.mass = sign * q;
    f.mom_left = mom;
    f.mom_right = mom;
    f.tang = Real(0);
    return f;
  }

  // Whether edge cell k (halo order: west j, east j, south i, north i) is an inflow.
  KOKKOS_INLINE_FUNCTION bool IsInflow(int k) const { return halo_kind(k) == kHaloInflow; }

  // North-south faces of face row k (between interior rows k-1 and k, i.e.
  // padded rows k and k+1), column i.
  KOKKOS_FORCEINLINE_FUNCTION FaceFlux YFace(int k, int i) const {
    const int ii = i + 1;
    return ComputeFaceFlux(g, dry, h(k, ii), qy(k, ii), qx(k, ii), z(k, ii), act(k, ii),
                           h(k + 1, ii), qy(k + 1, ii), qx(k + 1, ii), z(k + 1, ii),
                           act(k + 1, ii));
  }
  // East-west face f (between padded columns f and f+1) of interior row j.
  KOKKOS_FORCEINLINE_FUNCTION FaceFlux XFace(int j, int f) const {
    const int jj = j + 1;
    return ComputeFaceFlux(g, dry, h(jj, f), qx(jj, f), qy(jj, f), z(jj, f), act(jj, f),
                           h(jj, f + 1), qx(jj, f + 1), qy(jj, f + 1), z(jj, f + 1),
                           act(jj, f + 1));
  }

  KOKKOS_FUNCTION void operator()(const TeamMember& member) const {
    const int c = member.league_rank();
    const int j0 = c * chunk_rows;
    const int j1 = (j0 + chunk_rows < ny) ? j0 + chunk_rows : ny;
    const int nchunks = static_cast<int>(chunk_metric.extent(0));

    ScratchRow scratch(member.team_scratch(1), ScratchSize(nx));
    Real* const ybuf = scratch.data();
    Real* const xbuf = ybuf + 2 * kComponents * nx;
    Real* const rbuf = xbuf + kComponents * (nx + 1);
    const int xs = nx + 1;  // stride of xbuf components

    const Real* bot = &ybnd(c, 0, 0);
    double outflow = 0.0;
    RowMax acc{0, 0, 0};

    // Outflow through the south / north domain edges (face rows 0 and ny).
    if (c == 0) {
      double s = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, nx),
          [&](int i, double& v) { v -= static_cast<double>(ybnd(0, kMass, i)); }, s);
      outflow += s * static_cast<double>(dt) / static_cast<double>(inv_dx);
    }
    if (c == nchunks - 1) {
      double s = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, nx),
          [&](int i, double& v) { v += static_cast<double>(ybnd(nchunks, kMass, i)); }, s);
      outflow += s * static_cast<double>(dt) / static_cast<double>(inv_dx);
    }

    for (int j = j0; j < j1; ++j) {
      const Real* top;
      if (j + 1 == j1) {
        top = &ybnd(c + 1, 0, 0);
      } else {
        Real* out = ybuf + ((j + 1) & 1) * kComponents * nx;
        const int k = j + 1;
        FaceRow(member, nx, nx, RowPtrs(k, 1), RowPtrs(k + 1, 1), /*normal_is_x=*/false, out);
        top = out;
      }
      FaceRow(member, nx + 1, xs, RowPtrs(j + 1, 0), RowPtrs(j + 1, 1), /*normal_is_x=*/true, xbuf);
      member.team_barrier();
      Kokkos::single(Kokkos::PerTeam(member), [&]() {
        if (IsInflow(j) && act(j + 1, 1) != Real(0))
          StoreFace(
              xbuf, xs, 0,
              InflowFace(seg_value(halo_seg(j)), h(j + 1, 1), z(j + 1, 1), z(j + 1, 0), Real(1)));
        if (IsInflow(ny + j) && act(j + 1, nx) != Real(0))
          StoreFace(xbuf, xs, nx,
                    InflowFace(seg_value(halo_seg(ny + j)), h(j + 1, nx), z(j + 1, nx),
                               z(j + 1, nx + 1), Real(-1)));
      });
      member.team_barrier();

      // Outflow through the west and east domain edges of this row (every
      // team member keeps the same running sum).
      outflow +=
          (static_cast<double>(xbuf[kMass * xs + nx]) - static_cast<double>(xbuf[kMass * xs + 0])) *
          static_cast<double>(dt) / static_cast<double>(inv_dy);

      const RowMax rm = check ? UpdateRowAs<true>(member, j, bot, top, xbuf, rbuf)
                              : UpdateRowAs<false>(member, j, bot, top, xbuf, rbuf);
      acc.metric = rm.metric > acc.metric ? rm.metric : acc.metric;
      acc.speed = rm.speed > acc.speed ? rm.speed : acc.speed;
      acc.depth = rm.depth > acc.depth ? rm.depth : acc.depth;
      member.team_barrier();
      bot = top;
    }
    Kokkos::single(Kokkos::PerTeam(member), [&]() {
      chunk_metric(c) = acc.metric;
      chunk_speed(c) = acc.speed;
      chunk_depth(c) = acc.depth;
      chunk_out(c) = outflow;
    });
  }

  // UpdateRow for the run-time flags (rain field, extremes), compiled once per combination.
  template <bool kCheck>
  KOKKOS_FORCEINLINE_FUNCTION RowMax UpdateRowAs(const TeamMember& member, int j, const Real* bot,
                                                 const Real* top, const Real* xbuf,
                                                 Real* red) const {
    return rain_field ? (track ? UpdateRow<true, true, kCheck>(member, j, bot, top, xbuf, red)
                               : UpdateRow<true, false, kCheck>(member, j, bot, top, xbuf, red))
                      : (track ? UpdateRow<false, true, kCheck>(member, j, bot, top, xbuf, red)
                               : UpdateRow<false, false, kCheck>(member, j, bot, top, xbuf, red));
  }

  template <bool kRainField, bool kTrack, bool kCheck>
  KOKKOS_FORCEINLINE_FUNCTION RowMax UpdateRow(const TeamMember& member, int j, const Real* bot,
                                               const Real* top, const Real* xbuf, Real* red) const {
    const int jj = j + 1;
    const int xs = nx + 1;
    Real* const hr = &h(jj, 1);
    Real* const qxr = &qx(jj, 1);
    Real* const qyr = &qy(jj, 1);
    Real* const hmr = &hmax(jj, 1);
    const Real* const ar = &act(jj, 1);
    const Real* const gr = &gn2(jj, 1);
    const Real* const rr = kRainField ? &rain(jj, 1) : nullptr;
    const Real* const rb = kRainField ? &rain_b(jj, 1) : nullptr;
    Real* const vmr = kTrack ? &vmax(jj, 1) : nullptr;
    Real* const tar = kTrack ? &arrival(jj, 1) : nullptr;
    Real* const ch0 = kCheck ? &chk_h0(jj, 1) : nullptr;
    Real* const craw = kCheck ? &chk_raw(jj, 1) : nullptr;
    const Real* const xm = xbuf + kMass * xs;
    const Real* const xl = xbuf + kMomLeft * xs;
    const Real* const xr = xbuf + kMomRight * xs;
    const Real* const xt = xbuf + kTang * xs;
    const Real* const bm = bot + kMass * nx;
    const Real* const br = bot + kMomRight * nx;
    const Real* const bt = bot + kTang * nx;
    const Real* const tm = top + kMass * nx;
    const Real* const tl = top + kMomLeft * nx;
    const Real* const tt = top + kTang * nx;
    const Real inf = kRealMax;
    // Scalars as locals: loads through `this` inside the loop may alias the
    // stores and keep the loop from being if-converted.
    const Real dt = this->dt, rdx = this->rdx, rdy = this->rdy, dry = this->dry, g = this->g;
    const Real inv_dx = this->inv_dx, inv_dy = this->inv_dy, rain_dt = this->rain_dt;
    const Real rain_wa = this->rain_wa, rain_wb = this->rain_wb;
    const Real t_new = this->t_new, arrival_depth = this->arrival_depth;

    auto cell = [=](int i) FLOODWARN_INLINE_LAMBDA -> RowMax {
      const Real a = ar[i];
      Real src = rain_dt;
      if constexpr (kRainField) src = (rain_wa * rr[i] + rain_wb * rb[i]) * dt;
      const Real h0 = hr[i];
      Real hn = h0 + rdx * (xm[i] - xm[i + 1]) + rdy * (bm[i] - tm[i]) + src * a;
      const Real raw = hn;
      Real qxn = qxr[i] + rdx * (xr[i] - xl[i + 1]) + rdy * (bt[i] - tt[i]);
      Real qyn = qyr[i] + rdx * (xt[i] - xt[i + 1]) + rdy * (br[i] - tl[i]);
      // Round-off below zero becomes a dry cell; NaN stays NaN, so that the
      // CFL reduction reports a blow-up instead of a cell silently emptied.
      hn = (hn > Real(0) || hn != hn) ? hn : Real(0);
      const bool wet = hn > dry && a != Real(0);
      const Real hs = wet ? hn : Real(1);
      const Real qabs = Sqrt(qxn * qxn + qyn * qyn);
      const Real fr = FrictionFactorAbs(gr[i] * dt, hs, qabs);
      qxn = wet ? qxn * fr : Real(0);
      qyn = wet ? qyn * fr : Real(0);
      hn = a != Real(0) ? hn : Real(0);
      if constexpr (kCheck) {  // the rest of the check runs in CheckRow
        ch0[i] = h0;
        craw[i] = raw;
      }
      hr[i] = hn;
      qxr[i] = qxn;
      qyr[i] = qyn;
      hmr[i] = hn > hmr[i] ? hn : hmr[i];
      // CFL metric of the new state: 1/h = (h^(-1/3))^3 with the inverse cube
      // root already known in FrictionFactor would need a second call; a
      // division is cheaper than recomputing it.
      const Real inv_hs = Real(1) / hs;  // unconditional: a guarded division blocks if-conversion
      const Real inv_h = wet ? inv_hs : Real(0);
      const Real ua = Abs(qxn) * inv_h;
      const Real va = Abs(qyn) * inv_h;
      const Real c = Sqrt(g * hn);
      Real metric = (ua + c) * inv_dx + (va + c) * inv_dy;
      metric = metric == metric ? metric : inf;  // NaN -> blow-up
      const Real sp = ua > va ? ua : va;
      const Real spd = sp == sp ? sp : inf;
      if constexpr (kTrack) {
        const Real speed = qabs * fr * inv_h;  // |q| after friction, no second sqrt
        vmr[i] = speed > vmr[i] ? speed : vmr[i];
        const Real ta = tar[i];
        tar[i] = (ta != ta && hn > arrival_depth) ? t_new : ta;  // NaN until first wet
      }
      const Real dep = hn == hn ? hn : inf;
      return RowMax{metric, spd, dep};
    };

    RowMax r{0, 0, 0};
    if constexpr (kHostKernels) {
      // The row is updated by a plain loop that writes its CFL values into
      // scratch, then reduced: a max-reduction inside the update loop keeps
      // g++ 12 from vectorising it.
      (void)member;
      Real* const m0 = red;
      Real* const m1 = red + nx;
      Real* const m2 = red + 2 * nx;
#pragma GCC ivdep
      for (int i = 0; i < nx; ++i) {
        const RowMax v = cell(i);
        m0[i] = v.metric;
        m1[i] = v.speed;
        m2[i] = v.depth;
      }
      Real r0 = 0, r1 = 0, r2 = 0;
#pragma omp simd reduction(max : r0, r1, r2)
      for (int i = 0; i < nx; ++i) {
        r0 = m0[i] > r0 ? m0[i] : r0;
        r1 = m1[i] > r1 ? m1[i] : r1;
        r2 = m2[i] > r2 ? m2[i] : r2;
      }
      r = RowMax{r0, r1, r2};
    } else {
      (void)red;
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, nx),
          [&](int i, RowMax& a) {
            const RowMax v = cell(i);
            a.metric = v.metric > a.metric ? v.metric : a.metric;
            a.speed = v.speed > a.speed ? v.speed : a.speed;
            a.depth = v.depth > a.depth ? v.depth : a.depth;
          },
          RowMaxReducer(r));
    }
    if constexpr (kCheck) CheckRow<kRainField>(member, j, bot, top, xbuf);
    return r;
  }

  // The conservation check of row j after its update (a loop of its own: in
  // the update loop it kept g++ from if-converting and vectorising). Per
  // cell: what the clamps changed beyond the round-off of the update's sum
  // (each of its four additions rounds by at most half an ulp of a partial
  // sum no larger than the sum of the magnitudes of the terms), NaN counting
  // as infinitely far beyond it; and the step's outflow over the depth at its
  // start, for cells deeper than the dry depth (positivity needs <= 1,
  // whatever flows in).
  template <bool kRainField>
  KOKKOS_FORCEINLINE_FUNCTION void CheckRow(const TeamMember& member, int j, const Real* bot,
                                            const Real* top, const Real* xbuf) const {
    const int jj = j + 1;
    const Real* const hr = &h(jj, 1);
    const Real* const ar = &act(jj, 1);
    const Real* const rr = kRainField ? &rain(jj, 1) : nullptr;
    const Real* const rb = kRainField ? &rain_b(jj, 1) : nullptr;
    const Real* const ch0 = &chk_h0(jj, 1);
    const Real* const craw = &chk_raw(jj, 1);
    Real* const cexc = &chk_excess(jj, 1);
    Real* const crat = &chk_ratio(jj, 1);
    const Real* const xm = xbuf + kMass * (nx + 1);
    const Real* const bm = bot + kMass * nx;
    const Real* const tm = top + kMass * nx;
    const Real dt = this->dt, rdx = this->rdx, rdy = this->rdy, dry = this->dry;
    const Real rain_dt = this->rain_dt, rain_wa = this->rain_wa, rain_wb = this->rain_wb;
    auto cell = [=](int i) FLOODWARN_INLINE_LAMBDA {
      Real src = rain_dt;
      if constexpr (kRainField) src = (rain_wa * rr[i] + rain_wb * rb[i]) * dt;
      const Real h0 = ch0[i], raw = craw[i];
      const Real mag = h0 + rdx * (Abs(xm[i]) + Abs(xm[i + 1])) + rdy * (Abs(bm[i]) + Abs(tm[i])) +
                       Abs(src * ar[i]);
      const Real excess = Abs(hr[i] - raw) - kConservationUlps * kEpsilon * mag;
      cexc[i] = raw == raw ? excess : kRealMax;
      const Real out = rdx * (Max0(xm[i + 1]) + Max0(-xm[i])) + rdy * (Max0(tm[i]) + Max0(-bm[i]));
      const Real ratio = out / (h0 > dry ? h0 : Real(1));  // unconditional: see inv_hs
      crat[i] = h0 > dry ? ratio : Real(0);
    };
    if constexpr (kHostKernels) {
      (void)member;
#pragma GCC ivdep
      for (int i = 0; i < nx; ++i) cell(i);
    } else {
      member.team_barrier();
      Kokkos::parallel_for(Kokkos::TeamVectorRange(member, nx), cell);
    }
  }
};

// The north-south face rows at the start of every chunk and the domain's
// north edge (one team per row), with the inflow faces of the south and north
// edges. Same face function as inside the chunks, so the same bits.
struct BoundaryRowsKernel {
  StepKernel k;
  KOKKOS_FUNCTION void operator()(const TeamMember& member) const {
    const int b = member.league_rank();
    const int nx = k.nx, ny = k.ny;
    const int row = b * k.chunk_rows < ny ? b * k.chunk_rows : ny;
    Real* const out = &k.ybnd(b, 0, 0);
    k.FaceRow(member, nx, nx, k.RowPtrs(row, 1), k.RowPtrs(row + 1, 1), /*normal_is_x=*/false, out);
    if (row != 0 && row != ny) return;
    member.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(member, nx), [&](int i) {
      if (row == 0 && k.IsInflow(2 * ny + i) && k.act(1, i + 1) != Real(0))
        StepKernel::StoreFace(out, nx, i,
                              k.InflowFace(k.seg_value(k.halo_seg(2 * ny + i)), k.h(1, i + 1),
                                           k.z(1, i + 1), k.z(0, i + 1), Real(1)));
      if (row == ny && k.IsInflow(2 * ny + nx + i) && k.act(ny, i + 1) != Real(0))
        StepKernel::StoreFace(out, nx, i,
                              k.InflowFace(k.seg_value(k.halo_seg(2 * ny + nx + i)), k.h(ny, i + 1),
                                           k.z(ny, i + 1), k.z(ny + 1, i + 1), Real(-1)));
    });
  }
};

// Infiltration over rows [0, ny) (unpadded parameter/state fields (j, i),
// padded h/q/act (j + 1, i + 1)). Per cell: capacity over the step `cap`,
// infiltrated depth i = min(h, cap), h -= i, F += i; the discharge is scaled
// by h_new / h_old (the water leaves with its momentum, so the velocity and
// the CFL bound from the update stay valid) and zeroed below the dry depth.
// row_sum(j) gets the depth removed from row j, summed in double in column
// order, so that the ledger is reduced on the host in a fixed order.
// Green-Ampt (kHorton = false): pa = Ks, pb = psi * dtheta, explicit in time.
// Horton: pa = f0 - fc, pb = fc, pc = k, integrated exactly over the step.
template <bool kHorton>
void InfiltrateRows(int ny, int nx, Real dt, Real dry, const Field2D& h, const Field2D& qx,
                    const Field2D& qy, const Field2D& act, const Field2D& pa, const Field2D& pb,
                    const Field2D& pc, const Field2D& cum, const Field2D& tp,
                    const Kokkos::View<double*, MemSpace>& row_sum) {
  Kokkos::parallel_for(
      "solver::infiltration", Kokkos::RangePolicy<ExecSpace>(0, ny), KOKKOS_LAMBDA(int j) {
        double row = 0;
        for (int i = 0; i < nx; ++i) {
          const int jj = j + 1, ii = i + 1;
          const Real h0 = h(jj, ii);
          Real cap;
          if constexpr (kHorton) {
            const Real k = pc(j, i);
            const Real ks = k > Real(0) ? k : Real(1);
            const Real frac = k > Real(0) ? -Expm1(-k * dt) / ks : dt;  // integral of exp over dt
            cap = pb(j, i) * dt + pa(j, i) * Exp(-k * tp(j, i)) * frac;
            tp(j, i) += h0 > Real(0) ? dt : Real(0);
          } else {
            cap = pa(j, i) * (Real(1) + pb(j, i) / cum(j, i)) * dt;
          }
          Real inf = h0 < cap ? h0 : cap;
          inf = act(jj, ii) != Real(0) ? inf : Real(0);
          const Real h1 = h0 - inf;
          const Real removed = h0 - h1;
          const Real hs = h0 > Real(0) ? h0 : Real(1);
          const Real scale = h1 > dry ? h1 / hs : Real(0);
          h(jj, ii) = h1;
          qx(jj, ii) *= scale;
          qy(jj, ii) *= scale;
          cum(j, i) += removed;
          row += static_cast<double>(removed);
        }
        row_sum(j) = row;
      });
}

}  // namespace

// One row's share of the conservation check (reduced on the host in row order).
struct RowCheck {
  // Largest clamp change beyond round-off in the row (m; kRealMax for a
  // non-finite update, then the one with the most water), and its column.
  Real excess;
  Real excess_h0;
  int excess_i;
  Real ratio;  // largest outflow / depth at the start of the step, and its column
  int ratio_i;
  double clamped;    // sum of every clamp's change (m)
  double violation;  // sum of the clamp changes of the violating cells (m)
  int violations;
};

struct Solver::Impl {
  Domain dom;
  Options opt;
  int nx = 0, ny = 0, nchunks = 0;
  Field2D h, qx, qy, z, act, gn2, hmax, rain;
  Field2D vmax, arrival;
  Field2D chk_h0, chk_raw, chk_excess, chk_ratio;  // see StepKernel
  Kokkos::View<RowCheck*, MemSpace> chk_rows;
  ConservationReport conservation;
  FaceRows ybnd;
  Kokkos::View<Real*, MemSpace> chunk_metric, chunk_speed, chunk_depth;
  Kokkos::View<double*, MemSpace> chunk_out;

  // Halo cells: kind and level segment per edge cell. Order: west j, east j,
  // south i, north i.
  Kokkos::View<int*, MemSpace> halo_kind, halo_seg;
  // Level and inflow segments: series, and the value of this step in
  // seg_value (level in m, or unit discharge in m2/s into the domain).
  Kokkos::View<Real*, MemSpace> seg_value;
  std::vector<TimeSeries> seg_series;
  std::vector<double> seg_inflow_width;  // m of active edge; 0 for a level segment

  // Mass sources: cells (padded index) with the source they belong to and
  // the share of that source's discharge.
  struct SourceCells {
    Kokkos::View<int*, MemSpace> jj, ii, src;
    Kokkos::View<Real*, MemSpace> share;
    Kokkos::View<Real*, MemSpace> depth_rate;  // per source: volume / cell area / step
  } sources;
  std::vector<TimeSeries> source_series;  // m3/s per source
  struct SourceCell {
    int jj, ii, src;
    double share;
  };
  std::vector<SourceCell> source_cells_host;
  std::vector<PointInflow> point_inflows;

  TimeSeries rain_series;
  bool rain_is_field = false;
  // Rain frames: field A (`rain`) at rain_t_a, field B (`rain_b`) at rain_t_b,
  // linear in time between them and clamped outside. SetRainField makes B
  // alias A with rain_t_b = rain_t_a.
  Field2D rain_b;
  double rain_t_a = 0, rain_t_b = 0;
  double rain_vol_a = 0, rain_vol_b = 0;  // sum(Real(rate) * area) over active cells, m3/s
  double active_area = 0;

  double t = 0;
  long steps = 0;
  double last_dt = 0;
  Real metric = 0;
  bool metric_valid = false;
  double last_max_speed = 0;
  MassBalance mb;

  // Infiltration (views allocated only when a model is set): parameters and
  // state on the unpadded grid (j, i), per-row infiltrated depth sums.
  InfiltrationModel infil_model = InfiltrationModel::kNone;
  Field2D infil_a, infil_b, infil_c, infil_cum, infil_time;
  Kokkos::View<double*, MemSpace> infil_rows;
  std::vector<double> infil_initial;  // F0 per cell [j * nx + i]
  void ResetInfiltrationState();
  double Infiltrate(double dt);  // volume infiltrated in this step (m3)
  KernelTimes times;
  Kokkos::Timer timer;
  // With profile_kernels: fence and add the time since the last mark.
  void Mark(double KernelTimes::*slot) {
    if (!opt.profile_kernels) return;
    Kokkos::fence();
    times.*slot += timer.seconds();
    timer.reset();
  }

  void Allocate();
  void UploadDomain();
  void ComputeMetric();
  std::vector<double> Unpad(const Field2D& view) const;
  void FillHalos(double t_mid);
  void RebuildSources();
  [[noreturn]] void ReportBlowUp(Real max_speed, Real max_depth);
  void CheckConservation(double dt);
};

void Solver::Impl::Allocate() {
  const int px = nx + 2, py = ny + 2;
  h = Field2D("solver::h", py, px);
  qx = Field2D("solver::qx", py, px);
  qy = Field2D("solver::qy", py, px);
  z = Field2D("solver::z", py, px);
  act = Field2D("solver::active", py, px);
  gn2 = Field2D("solver::g_n2", py, px);
  hmax = Field2D("solver::max_depth", py, px);
  rain = Field2D("solver::rain_rate", 1, 1);
  rain_b = rain;
  vmax = Field2D("solver::max_speed", opt.track_extremes ? py : 1, opt.track_extremes ? px : 1);
  arrival =
      Field2D("solver::arrival_time", opt.track_extremes ? py : 1, opt.track_extremes ? px : 1);
  const bool check = opt.check_conservation != ConservationCheck::kOff;
  chk_h0 = Field2D("solver::check_h0", check ? py : 1, check ? px : 1);
  chk_raw = Field2D("solver::check_raw", check ? py : 1, check ? px : 1);
  chk_excess = Field2D("solver::check_excess", check ? py : 1, check ? px : 1);
  chk_ratio = Field2D("solver::check_ratio", check ? py : 1, check ? px : 1);
  chk_rows = Kokkos::View<RowCheck*, MemSpace>("solver::check_rows", check ? ny : 0);
  nchunks = (ny + opt.chunk_rows - 1) / opt.chunk_rows;
  ybnd = FaceRows("solver::boundary_face_rows", nchunks + 1, kComponents, nx);
  chunk_metric = Kokkos::View<Real*, MemSpace>("solver::chunk_metric", nchunks);
  chunk_speed = Kokkos::View<Real*, MemSpace>("solver::chunk_speed", nchunks);
  chunk_depth = Kokkos::View<Real*, MemSpace>("solver::chunk_depth", nchunks);
  chunk_out = Kokkos::View<double*, MemSpace>("solver::chunk_outflow", nchunks);
  const int nh = 2 * ny + 2 * nx;
  halo_kind = Kokkos::View<int*, MemSpace>("solver::halo_kind", nh);
  halo_seg = Kokkos::View<int*, MemSpace>("solver::halo_segment", nh);
  seg_value = Kokkos::View<Real*, MemSpace>("solver::segment_value", 1);
}

void Solver::Impl::UploadDomain() {
  auto zh = Kokkos::create_mirror_view(z);
  auto ah = Kokkos::create_mirror_view(act);
  auto gh = Kokkos::create_mirror_view(gn2);
  Kokkos::deep_copy(zh, Real(0));
  Kokkos::deep_copy(ah, Real(0));
  Kokkos::deep_copy(gh, Real(0));
  active_area = 0;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const std::size_t k = dom.Index(i, j);
      const bool a = dom.active.empty() || dom.active[k] != 0;
      const double n = dom.manning.empty()       ? 0.0
                       : dom.manning.size() == 1 ? dom.manning[0]
                                                 : dom.manning[k];
      zh(j + 1, i + 1) = a ? static_cast<Real>(dom.bed[k]) : Real(0);
      ah(j + 1, i + 1) = a ? Real(1) : Real(0);
      gh(j + 1, i + 1) = static_cast<Real>(opt.gravity * n * n);
      if (a) active_area += dom.dx * dom.dy;
    }
  }
  Kokkos::deep_copy(z, zh);
  Kokkos::deep_copy(act, ah);
  Kokkos::deep_copy(gn2, gh);
}

Solver::Solver(Domain domain, Options options) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (domain.nx < 1 || domain.ny < 1)
    throw std::invalid_argument(
        fmt::format("solver domain: nx and ny must be >= 1, got {} x {}", domain.nx, domain.ny));
  const std::size_t n = static_cast<std::size_t>(domain.nx) * domain.ny;
  if (!(domain.dx > 0) || !(domain.dy > 0))
    throw std::invalid_argument("solver domain: dx and dy must be > 0");
  if (domain.bed.size() != n)
    throw std::invalid_argument(
        fmt::format("solver domain: bed has {} values, expected nx*ny = {}", domain.bed.size(), n));
  if (!domain.active.empty() && domain.active.size() != n)
    throw std::invalid_argument(fmt::format(
        "solver domain: active mask has {} values, expected nx*ny = {}", domain.active.size(), n));
  if (domain.manning.size() != 0 && domain.manning.size() != 1 && domain.manning.size() != n)
    throw std::invalid_argument(
        fmt::format("solver domain: manning has {} values, expected 1 or nx*ny = {}",
                    domain.manning.size(), n));
  for (std::size_t k = 0; k < domain.manning.size(); ++k) {
    if (!(domain.manning[k] >= 0) || !std::isfinite(domain.manning[k]))
      throw std::invalid_argument(
          fmt::format("solver domain: Manning n must be finite and >= 0, got {} at cell {}",
                      domain.manning[k], k));
  }
  for (std::size_t k = 0; k < n; ++k) {
    const bool a = domain.active.empty() || domain.active[k] != 0;
    if (a && !std::isfinite(domain.bed[k]))
      throw std::invalid_argument(
          fmt::format("solver domain: bed elevation is not finite in active cell (i={}, j={})",
                      k % domain.nx, k / domain.nx));
  }
  if (!(options.cfl > 0 && options.cfl <= 1))
    throw std::invalid_argument("solver options: cfl must be in (0, 1]");
  if (options.chunk_rows < 1)
    throw std::invalid_argument("solver options: chunk_rows must be >= 1");
  s.dom = std::move(domain);
  s.opt = options;
  s.nx = s.dom.nx;
  s.ny = s.dom.ny;
  s.Allocate();
  s.UploadDomain();
  SetBoundaries({});
  SetState(HostState{std::vector<double>(n, 0.0), {}, {}});
}

Solver::~Solver() = default;

const Domain& Solver::domain() const { return impl_->dom; }
const Options& Solver::options() const { return impl_->opt; }
double Solver::time() const { return impl_->t; }
void Solver::set_time(double t) { impl_->t = t; }
long Solver::steps() const { return impl_->steps; }
double Solver::last_dt() const { return impl_->last_dt; }
double Solver::max_wave_speed() const { return impl_->last_max_speed; }

void Solver::SetState(const HostState& st) {
  Impl& s = *impl_;
  const std::size_t n = static_cast<std::size_t>(s.nx) * s.ny;
  if (st.h.size() != n) throw std::invalid_argument("SetState: h must have nx*ny values");
  if (!st.hu.empty() && st.hu.size() != n)
    throw std::invalid_argument("SetState: hu must be empty or have nx*ny values");
  if (!st.hv.empty() && st.hv.size() != n)
    throw std::invalid_argument("SetState: hv must be empty or have nx*ny values");
  auto hh = Kokkos::create_mirror_view(s.h);
  auto qxh = Kokkos::create_mirror_view(s.qx);
  auto qyh = Kokkos::create_mirror_view(s.qy);
  auto ah = Kokkos::create_mirror_view(s.act);
  Kokkos::deep_copy(ah, s.act);
  Kokkos::deep_copy(hh, Real(0));
  Kokkos::deep_copy(qxh, Real(0));
  Kokkos::deep_copy(qyh, Real(0));
  for (int j = 0; j < s.ny; ++j) {
    for (int i = 0; i < s.nx; ++i) {
      const std::size_t k = s.dom.Index(i, j);
      if (ah(j + 1, i + 1) == Real(0)) continue;
      const double hv = st.h[k];
      if (!(hv >= 0) || !std::isfinite(hv))
        throw std::invalid_argument(fmt::format(
            "SetState: depth must be finite and >= 0, got {} at (i={}, j={})", hv, i, j));
      hh(j + 1, i + 1) = static_cast<Real>(hv);
      if (!st.hu.empty()) qxh(j + 1, i + 1) = static_cast<Real>(st.hu[k]);
      if (!st.hv.empty()) qyh(j + 1, i + 1) = static_cast<Real>(st.hv[k]);
    }
  }
  Kokkos::deep_copy(s.h, hh);
  Kokkos::deep_copy(s.qx, qxh);
  Kokkos::deep_copy(s.qy, qyh);
  Kokkos::deep_copy(s.hmax, hh);
  if (s.opt.track_extremes) {
    // Speeds of the initial state, arrival 0 where already wet, NaN elsewhere.
    auto vh = Kokkos::create_mirror_view(s.vmax);
    auto th = Kokkos::create_mirror_view(s.arrival);
    Kokkos::deep_copy(vh, Real(0));
    Kokkos::deep_copy(th, std::numeric_limits<Real>::quiet_NaN());
    for (int j = 0; j < s.ny; ++j) {
      for (int i = 0; i < s.nx; ++i) {
        const double hv = hh(j + 1, i + 1);
        if (hv > s.opt.dry_depth)
          vh(j + 1, i + 1) = static_cast<Real>(std::hypot(static_cast<double>(qxh(j + 1, i + 1)),
                                                          static_cast<double>(qyh(j + 1, i + 1))) /
                                               hv);
        if (hv > s.opt.arrival_depth) th(j + 1, i + 1) = Real(0);
      }
    }
    Kokkos::deep_copy(s.vmax, vh);
    Kokkos::deep_copy(s.arrival, th);
  }
  s.ResetInfiltrationState();
  s.metric_valid = false;
  s.conservation = ConservationReport{};
  s.mb = MassBalance{};
  s.mb.initial_volume = Volume();
  s.mb.volume = s.mb.initial_volume;
}

void Solver::SetStillWater(double wse) {
  const Domain& d = impl_->dom;
  HostState st;
  st.h.assign(static_cast<std::size_t>(d.nx) * d.ny, 0.0);
  for (std::size_t k = 0; k < st.h.size(); ++k)
    st.h[k] = (d.active.empty() || d.active[k]) ? std::max(0.0, wse - d.bed[k]) : 0.0;
  SetState(st);
}

void Solver::SetBoundaries(const std::vector<BoundarySegment>& segments) {
  Impl& s = *impl_;
  const int nx = s.nx, ny = s.ny;
  std::vector<int> kind(2 * nx + 2 * ny, kHaloWall), seg(2 * nx + 2 * ny, 0);
  s.seg_series.clear();
  s.seg_inflow_width.clear();
  for (const auto& b : segments) {
    const bool ew = b.edge == Edge::kWest || b.edge == Edge::kEast;
    const int count = ew ? ny : nx;
    const int base = b.edge == Edge::kWest    ? 0
                     : b.edge == Edge::kEast  ? ny
                     : b.edge == Edge::kSouth ? 2 * ny
                                              : 2 * ny + nx;
    if ((b.kind == BoundaryKind::kLevel || b.kind == BoundaryKind::kInflow) && b.series.empty())
      throw std::invalid_argument(fmt::format("boundary '{}': a {} boundary needs a series", b.name,
                                              b.kind == BoundaryKind::kLevel ? "level" : "inflow"));
    int matched = 0, active = 0;
    const int seg_index = static_cast<int>(s.seg_series.size());
    for (int k = 0; k < count; ++k) {
      const double c = ew ? s.dom.CellY(k) : s.dom.CellX(k);
      if (b.from <= b.to && (c < b.from || c > b.to)) continue;
      ++matched;
      const int i = b.edge == Edge::kWest ? 0 : b.edge == Edge::kEast ? nx - 1 : k;
      const int j = b.edge == Edge::kSouth ? 0 : b.edge == Edge::kNorth ? ny - 1 : k;
      if (s.dom.active.empty() || s.dom.active[s.dom.Index(i, j)]) ++active;
      seg[base + k] = seg_index;
      switch (b.kind) {
        case BoundaryKind::kWall:
          kind[base + k] = kHaloWall;
          break;
        case BoundaryKind::kOutflow:
          kind[base + k] = kHaloOutflow;
          break;
        case BoundaryKind::kLevel:
          kind[base + k] = kHaloLevel;
          break;
        case BoundaryKind::kInflow:
          kind[base + k] = kHaloInflow;
          break;
      }
    }
    if (matched == 0)
      throw std::invalid_argument(
          fmt::format("boundary '{}': the segment [{}, {}] contains no cell centre of its edge",
                      b.name, b.from, b.to));
    if (b.kind == BoundaryKind::kInflow && active == 0)
      throw std::invalid_argument(
          fmt::format("boundary '{}': inflow segment has no active cell next to it", b.name));
    if (b.kind == BoundaryKind::kLevel || b.kind == BoundaryKind::kInflow) {
      s.seg_series.push_back(b.series);
      s.seg_inflow_width.push_back(
          b.kind == BoundaryKind::kInflow ? active * (ew ? s.dom.dy : s.dom.dx) : 0.0);
    }
  }
  auto kh = Kokkos::create_mirror_view(s.halo_kind);
  auto sh = Kokkos::create_mirror_view(s.halo_seg);
  for (std::size_t k = 0; k < kind.size(); ++k) {
    kh(k) = kind[k];
    sh(k) = seg[k];
  }
  Kokkos::deep_copy(s.halo_kind, kh);
  Kokkos::deep_copy(s.halo_seg, sh);
  s.seg_value = Kokkos::View<Real*, MemSpace>("solver::segment_value",
                                              std::max<std::size_t>(1, s.seg_series.size()));
  // Wall halos: inactive, zero state. Others are refreshed every step.
  auto ah = Kokkos::create_mirror_view(s.act);
  Kokkos::deep_copy(ah, s.act);
  for (int j = 0; j < ny; ++j) {
    ah(j + 1, 0) = Real(0);
    ah(j + 1, nx + 1) = Real(0);
  }
  for (int i = 0; i < nx; ++i) {
    ah(0, i + 1) = Real(0);
    ah(ny + 1, i + 1) = Real(0);
  }
  Kokkos::deep_copy(s.act, ah);
  s.RebuildSources();
  s.metric_valid = false;
}

void Solver::AddPointInflow(const PointInflow& inflow) {
  Impl& s = *impl_;
  int i = 0, j = 0;
  if (!s.dom.CellOf(inflow.x, inflow.y, i, j))
    throw std::invalid_argument(fmt::format("inflow '{}': point ({}, {}) is outside the grid",
                                            inflow.name, inflow.x, inflow.y));
  if (!s.dom.active.empty() && !s.dom.active[s.dom.Index(i, j)])
    throw std::invalid_argument(
        fmt::format("inflow '{}': point ({}, {}) lies in an inactive (nodata) cell", inflow.name,
                    inflow.x, inflow.y));
  if (inflow.discharge.empty())
    throw std::invalid_argument(fmt::format("inflow '{}': discharge series is empty", inflow.name));
  s.point_inflows.push_back(inflow);
  s.RebuildSources();
}

void Solver::Impl::RebuildSources() {
  source_series.clear();
  source_cells_host.clear();
  for (const auto& p : point_inflows) {
    int i = 0, j = 0;
    dom.CellOf(p.x, p.y, i, j);
    source_cells_host.push_back({j + 1, i + 1, static_cast<int>(source_series.size()), 1.0});
    source_series.push_back(p.discharge);
  }
  const int n = static_cast<int>(source_cells_host.size());
  sources.jj = Kokkos::View<int*, MemSpace>("solver::source_jj", n);
  sources.ii = Kokkos::View<int*, MemSpace>("solver::source_ii", n);
  sources.src = Kokkos::View<int*, MemSpace>("solver::source_index", n);
  sources.share = Kokkos::View<Real*, MemSpace>("solver::source_share", n);
  sources.depth_rate = Kokkos::View<Real*, MemSpace>(
      "solver::source_depth", std::max<std::size_t>(1, source_series.size()));
  auto jj = Kokkos::create_mirror_view(sources.jj);
  auto ii = Kokkos::create_mirror_view(sources.ii);
  auto sr = Kokkos::create_mirror_view(sources.src);
  auto sh = Kokkos::create_mirror_view(sources.share);
  for (int k = 0; k < n; ++k) {
    jj(k) = source_cells_host[k].jj;
    ii(k) = source_cells_host[k].ii;
    sr(k) = source_cells_host[k].src;
    sh(k) = static_cast<Real>(source_cells_host[k].share);
  }
  Kokkos::deep_copy(sources.jj, jj);
  Kokkos::deep_copy(sources.ii, ii);
  Kokkos::deep_copy(sources.src, sr);
  Kokkos::deep_copy(sources.share, sh);
}

void Solver::SetRainUniform(const TimeSeries& rate) {
  for (double v : rate.values())
    if (v < 0) throw std::invalid_argument("SetRainUniform: rain rate must be >= 0");
  impl_->rain_series = rate;
  impl_->rain_is_field = false;
}

namespace {

// Copies a per-cell rate field (nx*ny, m/s) into a padded view; returns the
// volume rate over active cells accumulated from the same Real values the
// kernel adds.
double FillRainField(const Domain& dom, const std::vector<double>& rate, const char* what,
                     Field2D& view) {
  const std::size_t n = static_cast<std::size_t>(dom.nx) * dom.ny;
  if (rate.size() != n) throw std::invalid_argument(fmt::format("{}: need nx*ny rates", what));
  if (view.extent(0) != static_cast<std::size_t>(dom.ny + 2))
    view = Field2D("solver::rain_rate", dom.ny + 2, dom.nx + 2);
  auto rh = Kokkos::create_mirror_view(view);
  Kokkos::deep_copy(rh, Real(0));
  double vol_rate = 0;
  for (int j = 0; j < dom.ny; ++j) {
    for (int i = 0; i < dom.nx; ++i) {
      const double r = rate[dom.Index(i, j)];
      if (!(r >= 0) || !std::isfinite(r))
        throw std::invalid_argument(
            fmt::format("{}: rate must be finite and >= 0, got {} at (i={}, j={})", what, r, i, j));
      const bool a = dom.active.empty() || dom.active[dom.Index(i, j)];
      rh(j + 1, i + 1) = static_cast<Real>(r);
      if (a) vol_rate += static_cast<double>(static_cast<Real>(r)) * dom.dx * dom.dy;
    }
  }
  Kokkos::deep_copy(view, rh);
  return vol_rate;
}

// Weight of frame B averaged over [t0, t1] for w(t) = clamp((t - ta) / (tb - ta), 0, 1);
// tb <= ta means frame A only.
double RainWeightB(double ta, double tb, double t0, double t1) {
  if (!(tb > ta)) return 0.0;
  const double mean = TimeSeries({ta, tb}, {0.0, 1.0}, "rain frames").Mean(t0, t1);
  return std::min(1.0, std::max(0.0, mean));
}

}  // namespace

void Solver::SetRainField(const std::vector<double>& rate) {
  Impl& s = *impl_;
  s.rain_vol_a = FillRainField(s.dom, rate, "SetRainField", s.rain);
  s.rain_b = s.rain;
  s.rain_vol_b = s.rain_vol_a;
  s.rain_t_a = s.rain_t_b = 0;
  s.rain_is_field = true;
}

void Solver::SetRainFrames(const std::vector<double>& rate_a, double t_a,
                           const std::vector<double>& rate_b, double t_b) {
  Impl& s = *impl_;
  if (!std::isfinite(t_a) || !std::isfinite(t_b) || !(t_b > t_a))
    throw std::invalid_argument(
        fmt::format("SetRainFrames: need finite frame times t_a < t_b, got {} and {}", t_a, t_b));
  // Give B its own storage if it still aliases A (after SetRainField).
  if (s.rain_b.data() == s.rain.data()) s.rain_b = Field2D("solver::rain_rate_b", 1, 1);
  const double va = FillRainField(s.dom, rate_a, "SetRainFrames (frame a)", s.rain);
  const double vb = FillRainField(s.dom, rate_b, "SetRainFrames (frame b)", s.rain_b);
  s.rain_vol_a = va;
  s.rain_vol_b = vb;
  s.rain_t_a = t_a;
  s.rain_t_b = t_b;
  s.rain_is_field = true;
}

double Solver::Volume() const {
  const Impl& s = *impl_;
  const Field2D h = s.h, act = s.act;
  const int nx = s.nx;
  double v = 0;
  Kokkos::parallel_reduce(
      "solver::volume", Kokkos::RangePolicy<ExecSpace>(0, s.ny),
      KOKKOS_LAMBDA(int j, double& acc) {
        double row = 0;
        for (int i = 1; i <= nx; ++i) row += static_cast<double>(h(j + 1, i) * act(j + 1, i));
        acc += row;
      },
      v);
  return v * s.dom.dx * s.dom.dy;
}

const MassBalance& Solver::mass_balance() const {
  impl_->mb.volume = Volume();
  return impl_->mb;
}

void Solver::Impl::ComputeMetric() {
  const Field2D h = this->h, qx = this->qx, qy = this->qy, act = this->act;
  const int nx = this->nx;
  const Real g = static_cast<Real>(opt.gravity), dry = static_cast<Real>(opt.dry_depth);
  const Real inv_dx = static_cast<Real>(1.0 / dom.dx), inv_dy = static_cast<Real>(1.0 / dom.dy);
  Real m = 0;
  Kokkos::parallel_reduce(
      "solver::initial_cfl", Kokkos::RangePolicy<ExecSpace>(0, ny),
      KOKKOS_LAMBDA(int j, Real& acc) {
        for (int i = 1; i <= nx; ++i) {
          const Real mm = CellCflMetric(g, dry, h(j + 1, i), qx(j + 1, i), qy(j + 1, i),
                                        act(j + 1, i), inv_dx, inv_dy);
          acc = mm > acc ? mm : acc;
        }
      },
      Kokkos::Max<Real>(m));
  metric = m;
  metric_valid = true;
}

void Solver::Impl::FillHalos(double t_mid) {
  // Segment values for this step, taken at its mid-point.
  if (!seg_series.empty()) {
    auto vh = Kokkos::create_mirror_view(seg_value);
    for (std::size_t k = 0; k < seg_series.size(); ++k) {
      const double v = seg_series[k].At(t_mid);
      vh(k) = static_cast<Real>(seg_inflow_width[k] > 0 ? v / seg_inflow_width[k] : v);
    }
    Kokkos::deep_copy(seg_value, vh);
  }
  const Field2D h = this->h, qx = this->qx, qy = this->qy, z = this->z, act = this->act;
  const auto kind = halo_kind;
  const auto seg = halo_seg;
  const auto value = seg_value;
  const int nx = this->nx, ny = this->ny;
  const Real dry = static_cast<Real>(opt.dry_depth);
  Kokkos::parallel_for(
      "solver::fill_halos", Kokkos::RangePolicy<ExecSpace>(0, 2 * nx + 2 * ny),
      KOKKOS_LAMBDA(int k) {
        const int kd = kind(k);
        if (kd == kHaloWall) return;
        // Halo cell (hj, hi), its interior neighbour (ij, ii) and the next
        // interior cell (kj, ki), padded indices.
        int hj, hi, ij, ii, kj, ki;
        if (k < ny) {
          hj = ij = kj = k + 1;
          hi = 0;
          ii = 1;
          ki = nx > 1 ? 2 : 1;
        } else if (k < 2 * ny) {
          hj = ij = kj = k - ny + 1;
          hi = nx + 1;
          ii = nx;
          ki = nx > 1 ? nx - 1 : nx;
        } else if (k < 2 * ny + nx) {
          hi = ii = ki = k - 2 * ny + 1;
          hj = 0;
          ij = 1;
          kj = ny > 1 ? 2 : 1;
        } else {
          hi = ii = ki = k - 2 * ny - nx + 1;
          hj = ny + 1;
          ij = ny;
          kj = ny > 1 ? ny - 1 : ny;
        }
        const Real hin = h(ij, ii);
        const Real a = act(ij, ii);
        // The bed is extrapolated linearly into the halo, so that the first
        // cell feels the slope force from its edge face as inner cells do
        // (hydrostatic reconstruction), and a zero-gradient depth there is
        // normal-depth flow.
        const Real zi = z(ij, ii);
        z(hj, hi) = act(kj, ki) != Real(0) ? Real(2) * zi - z(kj, ki) : zi;
        if (kd == kHaloInflow) return;  // its faces are set in the kernels
        act(hj, hi) = a;
        if (a == Real(0)) {
          // Next to an inactive cell the halo is a dry wall too: a face
          // between two walls must carry nothing (the ledger counts it).
          h(hj, hi) = Real(0);
          qx(hj, hi) = Real(0);
          qy(hj, hi) = Real(0);
        } else if (kd == kHaloOutflow) {
          h(hj, hi) = hin;
          qx(hj, hi) = qx(ij, ii);
          qy(hj, hi) = qy(ij, ii);
        } else if (kd == kHaloLevel) {  // depth from the level, velocity from the interior
          const Real d = value(seg(k)) - z(hj, hi);
          const Real hb = d > Real(0) ? d : Real(0);
          const Real s = hin > dry ? hb / hin : Real(0);
          h(hj, hi) = hb;
          qx(hj, hi) = qx(ij, ii) * s;
          qy(hj, hi) = qy(ij, ii) * s;
        }
      });
}

// Reduces the per-cell check fields the update kernel wrote (one row per
// thread, rows combined on the host in order, so the report does not depend
// on the thread count), then stops or counts a violation: a clamp that changed
// a depth beyond round-off (or a non-finite flux), or a step that took more
// water out of a cell than it held at the start (the time step's positivity
// requirement, docs/SOLVER.md "Positivity").
void Solver::Impl::CheckConservation(double dt) {
  const Field2D raw = chk_raw, h = this->h, start = chk_h0, excess = chk_excess, ratio = chk_ratio;
  const auto rows = chk_rows;
  const int nx = this->nx;
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
  auto rh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), rows);
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

double Solver::Step(double dt_limit) {
  Impl& s = *impl_;
  if (!s.metric_valid) s.ComputeMetric();
  double dt = s.metric > 0 ? s.opt.cfl / static_cast<double>(s.metric)
                           : std::numeric_limits<double>::infinity();
  if (s.opt.max_dt > 0) dt = std::min(dt, s.opt.max_dt);
  dt = std::min(dt, dt_limit);
  if (!(dt > 0) || !std::isfinite(dt))
    throw std::invalid_argument(fmt::format(
        "Step: no finite time step (dt_limit = {}, max_dt = {}); give a max_dt or a limit",
        dt_limit, s.opt.max_dt));

  if (s.opt.profile_kernels) {
    Kokkos::fence();
    s.timer.reset();
  }
  s.FillHalos(s.t + 0.5 * dt);
  s.Mark(&KernelTimes::fill_halos);

  // Precomputed face rows at chunk starts and the north edge.
  StepKernel k;
  k.h = s.h;
  k.qx = s.qx;
  k.qy = s.qy;
  k.z = s.z;
  k.act = s.act;
  k.gn2 = s.gn2;
  k.hmax = s.hmax;
  k.rain = s.rain;
  k.rain_b = s.rain_b;
  k.vmax = s.vmax;
  k.arrival = s.arrival;
  k.track = s.opt.track_extremes;
  k.check = s.opt.check_conservation != ConservationCheck::kOff;
  k.chk_h0 = s.chk_h0;
  k.chk_raw = s.chk_raw;
  k.chk_excess = s.chk_excess;
  k.chk_ratio = s.chk_ratio;
  k.t_new = static_cast<Real>(s.t + dt);
  k.arrival_depth = static_cast<Real>(s.opt.arrival_depth);
  k.ybnd = s.ybnd;
  k.halo_kind = s.halo_kind;
  k.halo_seg = s.halo_seg;
  k.seg_value = s.seg_value;
  k.chunk_metric = s.chunk_metric;
  k.chunk_speed = s.chunk_speed;
  k.chunk_depth = s.chunk_depth;
  k.chunk_out = s.chunk_out;
  k.nx = s.nx;
  k.ny = s.ny;
  k.chunk_rows = s.opt.chunk_rows;
  k.g = static_cast<Real>(s.opt.gravity);
  k.dry = static_cast<Real>(s.opt.dry_depth);
  k.dt = static_cast<Real>(dt);
  k.rdx = static_cast<Real>(dt / s.dom.dx);
  k.rdy = static_cast<Real>(dt / s.dom.dy);
  k.inv_dx = static_cast<Real>(1.0 / s.dom.dx);
  k.inv_dy = static_cast<Real>(1.0 / s.dom.dy);
  k.rain_field = s.rain_is_field;
  double rain_rate_mean = 0;
  if (!s.rain_is_field && !s.rain_series.empty())
    rain_rate_mean = s.rain_series.Mean(s.t, s.t + dt);
  k.rain_dt = static_cast<Real>(rain_rate_mean * dt);
  double rain_wb = 0;
  if (s.rain_is_field) rain_wb = RainWeightB(s.rain_t_a, s.rain_t_b, s.t, s.t + dt);
  k.rain_wa = static_cast<Real>(1.0 - rain_wb);
  k.rain_wb = static_cast<Real>(rain_wb);

  {
    const BoundaryRowsKernel rows{k};
    if constexpr (kHostKernels) {
      Kokkos::parallel_for("solver::boundary_face_rows", TeamPolicy(s.nchunks + 1, 1), rows);
    } else {
      Kokkos::parallel_for("solver::boundary_face_rows", TeamPolicy(s.nchunks + 1, Kokkos::AUTO),
                           rows);
    }
    s.Mark(&KernelTimes::boundary_face_rows);
  }
  {
    const std::size_t scratch = ScratchRow::shmem_size(StepKernel::ScratchSize(s.nx));
    if constexpr (kHostKernels) {
      TeamPolicy policy(s.nchunks, 1);
      Kokkos::parallel_for("solver::update_chunks",
                           policy.set_scratch_size(1, Kokkos::PerTeam(scratch)), k);
    } else {
      TeamPolicy policy(s.nchunks, Kokkos::AUTO);
      Kokkos::parallel_for("solver::update_chunks",
                           policy.set_scratch_size(1, Kokkos::PerTeam(scratch)), k);
    }
    s.Mark(&KernelTimes::update_chunks);
  }
  if (k.check) {
    s.CheckConservation(dt);
    s.Mark(&KernelTimes::conservation_check);
  }

  // Point and boundary inflows: a short sequential loop, so that several
  // sources in one cell add up in a fixed order.
  double inflow_volume = 0;
  Real source_metric = 0;
  if (!s.source_series.empty()) {
    auto rate_h = Kokkos::create_mirror_view(s.sources.depth_rate);
    const double area = s.dom.dx * s.dom.dy;
    for (std::size_t q = 0; q < s.source_series.size(); ++q) {
      const double vol = s.source_series[q].Mean(s.t, s.t + dt) * dt;
      if (vol < 0)
        throw std::invalid_argument(fmt::format("inflow discharge is negative at t = {}", s.t));
      rate_h(q) = static_cast<Real>(vol / area);
    }
    // Account exactly what is added (the Real values times the shares).
    for (const auto& c : s.source_cells_host)
      inflow_volume += static_cast<double>(static_cast<Real>(c.share) * rate_h(c.src)) * area;
    Kokkos::deep_copy(s.sources.depth_rate, rate_h);
    const auto src = s.sources;
    const Field2D h = s.h, hmax = s.hmax;
    const int n = static_cast<int>(s.source_cells_host.size());
    const Field2D qx = s.qx, qy = s.qy, act = s.act;
    const Real g = static_cast<Real>(s.opt.gravity), dry = static_cast<Real>(s.opt.dry_depth);
    const Real inv_dx = static_cast<Real>(1.0 / s.dom.dx),
               inv_dy = static_cast<Real>(1.0 / s.dom.dy);
    // Sequential add (fixed order), then the CFL metric of the changed cells
    // so that no extra pass over the grid is needed.
    Kokkos::parallel_reduce(
        "solver::add_sources", Kokkos::RangePolicy<ExecSpace>(0, 1),
        KOKKOS_LAMBDA(int, Real& m) {
          for (int c = 0; c < n; ++c) {
            const int jj = src.jj(c), ii = src.ii(c);
            h(jj, ii) += src.share(c) * src.depth_rate(src.src(c));
            hmax(jj, ii) = h(jj, ii) > hmax(jj, ii) ? h(jj, ii) : hmax(jj, ii);
          }
          for (int c = 0; c < n; ++c) {
            const int jj = src.jj(c), ii = src.ii(c);
            const Real mm = CellCflMetric(g, dry, h(jj, ii), qx(jj, ii), qy(jj, ii), act(jj, ii),
                                          inv_dx, inv_dy);
            m = mm > m ? mm : m;
          }
        },
        Kokkos::Max<Real>(source_metric));
    s.Mark(&KernelTimes::sources);
  }

  double infiltration_volume = 0;
  if (s.infil_model != InfiltrationModel::kNone) {
    infiltration_volume = s.Infiltrate(dt);
    s.Mark(&KernelTimes::infiltration);
  }

  // Reduce the per-chunk results in chunk order (deterministic).
  auto m_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.chunk_metric);
  auto sp_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.chunk_speed);
  auto d_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.chunk_depth);
  auto o_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.chunk_out);
  Real metric = source_metric, speed = 0, depth = 0;
  double out = 0;
  for (int c = 0; c < s.nchunks; ++c) {
    metric = std::max(metric, m_h(c));
    speed = std::max(speed, sp_h(c));
    depth = std::max(depth, d_h(c));
    out += o_h(c);
  }
  s.t += dt;
  s.steps += 1;
  s.last_dt = dt;
  s.mb.boundary_net_out += out;
  s.mb.inflow_in += inflow_volume;
  s.mb.infiltration_out += infiltration_volume;
  if (s.rain_is_field) {
    // The kernel adds (wa * A + wb * B) * dt per cell with Real weights.
    s.mb.rain_in += (static_cast<double>(k.rain_wa) * s.rain_vol_a +
                     static_cast<double>(k.rain_wb) * s.rain_vol_b) *
                    dt;
  } else {
    s.mb.rain_in += static_cast<double>(k.rain_dt) * s.active_area;
  }
  const bool bad = !std::isfinite(static_cast<double>(metric)) ||
                   static_cast<double>(speed) > s.opt.max_speed_bound ||
                   static_cast<double>(depth) > s.opt.max_depth_bound;
  if (bad) s.ReportBlowUp(speed, depth);
  s.metric = metric;
  s.metric_valid = true;
  s.Mark(&KernelTimes::reduce);
  s.last_max_speed = static_cast<double>(metric) > 0 ? static_cast<double>(speed) : 0.0;
  return dt;
}

void Solver::AdvanceTo(double t_end) {
  Impl& s = *impl_;
  while (s.t < t_end) {
    const double remaining = t_end - s.t;
    const double dt = Step(remaining);
    if (dt >= remaining) s.t = t_end;  // land exactly on the requested time
  }
}

SolverState Solver::Export() const {
  const Impl& s = *impl_;
  SolverState st;
  st.time = s.t;
  st.steps = s.steps;
  st.last_dt = s.last_dt;
  st.cfl_metric = static_cast<double>(s.metric);
  st.cfl_metric_valid = s.metric_valid;
  st.mass_balance = mass_balance();
  HostState hs = Download();
  st.h = std::move(hs.h);
  st.hu = std::move(hs.hu);
  st.hv = std::move(hs.hv);
  st.max_depth = MaxDepth();
  st.max_speed = MaxSpeed();
  st.arrival_time = ArrivalTime();
  if (s.infil_model != InfiltrationModel::kNone) {
    st.infiltrated_depth = InfiltratedDepth();
    if (s.infil_model == InfiltrationModel::kHorton) {
      auto th = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.infil_time);
      st.infiltration_time.assign(th.data(), th.data() + th.size());
    }
  }
  return st;
}

void Solver::Import(const SolverState& st) {
  Impl& s = *impl_;
  const std::size_t n = static_cast<std::size_t>(s.nx) * s.ny;
  const std::pair<const char*, const std::vector<double>*> fields[] = {
      {"h", &st.h},
      {"hu", &st.hu},
      {"hv", &st.hv},
      {"max_depth", &st.max_depth},
      {"max_speed", &st.max_speed},
      {"arrival_time", &st.arrival_time}};
  for (const auto& [name, f] : fields)
    if (f->size() != n)
      throw std::invalid_argument(fmt::format(
          "Import: field {} has {} values, the domain has nx*ny = {}", name, f->size(), n));
  const bool ga = s.infil_model == InfiltrationModel::kGreenAmpt;
  const bool horton = s.infil_model == InfiltrationModel::kHorton;
  const std::pair<const char*, std::size_t> infil_fields[] = {
      {"infiltrated_depth", st.infiltrated_depth.size()},
      {"infiltration_time", st.infiltration_time.size()}};
  for (const auto& [name, size] : infil_fields) {
    const bool want = std::string(name) == "infiltrated_depth" ? (ga || horton) : horton;
    if (size != (want ? n : 0))
      throw std::invalid_argument(fmt::format(
          "Import: field {} has {} values; with {} infiltration it must have {}", name, size,
          ga       ? "Green-Ampt"
          : horton ? "Horton"
                   : "no",
          want ? n : 0));
  }
  // Exact copies (no clamping): the values came from a Real state.
  auto put = [&](const Field2D& view, const std::vector<double>& f) {
    if (view.extent(0) != static_cast<std::size_t>(s.ny + 2)) return;  // not tracked
    auto m = Kokkos::create_mirror_view(view);
    Kokkos::deep_copy(m, view);
    for (int j = 0; j < s.ny; ++j)
      for (int i = 0; i < s.nx; ++i) m(j + 1, i + 1) = static_cast<Real>(f[s.dom.Index(i, j)]);
    Kokkos::deep_copy(view, m);
  };
  put(s.h, st.h);
  put(s.qx, st.hu);
  put(s.qy, st.hv);
  put(s.hmax, st.max_depth);
  put(s.vmax, st.max_speed);
  put(s.arrival, st.arrival_time);
  auto put_flat = [&](const Field2D& view, const std::vector<double>& f) {
    auto m = Kokkos::create_mirror_view(view);
    for (std::size_t k = 0; k < n; ++k) m.data()[k] = static_cast<Real>(f[k]);
    Kokkos::deep_copy(view, m);
  };
  if (ga || horton) put_flat(s.infil_cum, st.infiltrated_depth);
  if (horton) put_flat(s.infil_time, st.infiltration_time);
  s.t = st.time;
  s.steps = st.steps;
  s.last_dt = st.last_dt;
  s.metric = static_cast<Real>(st.cfl_metric);
  s.metric_valid = st.cfl_metric_valid;
  s.mb = st.mass_balance;
}

const ConservationReport& Solver::conservation_report() const { return impl_->conservation; }

KernelTimes Solver::kernel_times() const {
  const Impl& s = *impl_;
  KernelTimes t = s.times;
  auto bytes = [](const auto& v) {
    return v.span() * sizeof(typename std::decay_t<decltype(v)>::value_type);
  };
  t.device_bytes =
      bytes(s.h) + bytes(s.qx) + bytes(s.qy) + bytes(s.z) + bytes(s.act) + bytes(s.gn2) +
      bytes(s.hmax) + bytes(s.rain) + (s.rain_b.data() != s.rain.data() ? bytes(s.rain_b) : 0) +
      bytes(s.vmax) + bytes(s.arrival) + bytes(s.ybnd) + bytes(s.chunk_metric) +
      bytes(s.chunk_speed) + bytes(s.chunk_depth) + bytes(s.chunk_out) + bytes(s.halo_kind) +
      bytes(s.halo_seg) + bytes(s.infil_a) + bytes(s.infil_b) + bytes(s.infil_c) +
      bytes(s.infil_cum) + bytes(s.infil_time) + bytes(s.infil_rows) + bytes(s.chk_h0) +
      bytes(s.chk_raw) + bytes(s.chk_excess) + bytes(s.chk_ratio) + bytes(s.chk_rows);
  return t;
}

std::vector<double> Solver::DepthAt(const std::vector<std::pair<int, int>>& cells) const {
  const Impl& s = *impl_;
  std::vector<double> out;
  out.reserve(cells.size());
  for (const auto& [i, j] : cells) {
    if (i < 0 || i >= s.nx || j < 0 || j >= s.ny)
      throw std::invalid_argument(
          fmt::format("DepthAt: cell (i={}, j={}) is outside the grid", i, j));
    Real v = 0;
    Kokkos::deep_copy(v, Kokkos::subview(s.h, j + 1, i + 1));
    out.push_back(static_cast<double>(v));
  }
  return out;
}

// A padded field's interior as a host vector indexed [j * nx + i].
std::vector<double> Solver::Impl::Unpad(const Field2D& view) const {
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
  std::vector<double> out(static_cast<std::size_t>(nx) * ny);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) out[dom.Index(i, j)] = m(j + 1, i + 1);
  return out;
}

HostState Solver::Download() const {
  const Impl& s = *impl_;
  return HostState{s.Unpad(s.h), s.Unpad(s.qx), s.Unpad(s.qy)};
}

std::vector<double> Solver::MaxSpeed() const {
  const Impl& s = *impl_;
  if (!s.opt.track_extremes) return std::vector<double>(static_cast<std::size_t>(s.nx) * s.ny, 0.0);
  return s.Unpad(s.vmax);
}

std::vector<double> Solver::ArrivalTime() const {
  const Impl& s = *impl_;
  if (!s.opt.track_extremes)
    return std::vector<double>(static_cast<std::size_t>(s.nx) * s.ny,
                               std::numeric_limits<double>::quiet_NaN());
  return s.Unpad(s.arrival);
}

void Solver::SetInfiltration(const Infiltration& p) {
  Impl& s = *impl_;
  const std::size_t n = static_cast<std::size_t>(s.nx) * s.ny;
  if (p.model == InfiltrationModel::kNone) {
    s.infil_model = InfiltrationModel::kNone;
    s.infil_a = s.infil_b = s.infil_c = s.infil_cum = s.infil_time = Field2D();
    s.infil_rows = Kokkos::View<double*, MemSpace>();
    s.infil_initial.clear();
    return;
  }
  const bool horton = p.model == InfiltrationModel::kHorton;
  const std::vector<double> default_f{1e-3};
  const std::vector<double>& f_init = p.initial_f.empty() ? default_f : p.initial_f;
  struct Param {
    const char* name;
    const std::vector<double>* v;
  };
  const std::vector<Param> params =
      horton ? std::vector<Param>{{"f0", &p.f0}, {"fc", &p.fc}, {"k", &p.k}}
             : std::vector<Param>{
                   {"ks", &p.ks}, {"psi", &p.psi}, {"dtheta", &p.dtheta}, {"initial_f", &f_init}};
  for (const auto& [name, v] : params)
    if (v->size() != 1 && v->size() != n)
      throw std::invalid_argument(fmt::format(
          "SetInfiltration: {} has {} values, expected 1 or nx*ny = {}", name, v->size(), n));
  auto at = [](const std::vector<double>& v, std::size_t k) { return v.size() == 1 ? v[0] : v[k]; };
  std::vector<double> a(n, 0.0), b(n, 0.0), c(n, 0.0);
  s.infil_initial.assign(n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    if (!s.dom.active.empty() && !s.dom.active[k]) continue;
    for (const auto& [name, v] : params) {
      const double x = at(*v, k);
      if (!(x >= 0) || !std::isfinite(x))
        throw std::invalid_argument(
            fmt::format("SetInfiltration: {} must be finite and >= 0, got {} at (i={}, j={})", name,
                        x, k % s.nx, k / s.nx));
    }
    if (horton) {
      if (at(p.fc, k) > at(p.f0, k))
        throw std::invalid_argument(
            fmt::format("SetInfiltration: Horton fc ({}) must be <= f0 ({}) at (i={}, j={})",
                        at(p.fc, k), at(p.f0, k), k % s.nx, k / s.nx));
      a[k] = at(p.f0, k) - at(p.fc, k);
      b[k] = at(p.fc, k);
      c[k] = at(p.k, k);
    } else {
      if (!(at(f_init, k) > 0))
        throw std::invalid_argument(fmt::format(
            "SetInfiltration: Green-Ampt initial_f must be > 0 (f = Ks (1 + psi dtheta / F) is "
            "singular at F = 0), got {} at (i={}, j={})",
            at(f_init, k), k % s.nx, k / s.nx));
      a[k] = at(p.ks, k);
      b[k] = at(p.psi, k) * at(p.dtheta, k);
      s.infil_initial[k] = at(f_init, k);
    }
  }
  auto upload = [&](const char* label, const std::vector<double>& v) {
    Field2D f(std::string(label), s.ny, s.nx);
    auto m = Kokkos::create_mirror_view(f);
    for (std::size_t k = 0; k < n; ++k) m.data()[k] = static_cast<Real>(v[k]);
    Kokkos::deep_copy(f, m);
    return f;
  };
  s.infil_a = upload("solver::infiltration_a", a);
  s.infil_b = upload("solver::infiltration_b", b);
  s.infil_c = horton ? upload("solver::infiltration_c", c) : Field2D();
  s.infil_cum = Field2D("solver::infiltrated_depth", s.ny, s.nx);
  s.infil_time = horton ? Field2D("solver::infiltration_time", s.ny, s.nx) : Field2D();
  s.infil_rows = Kokkos::View<double*, MemSpace>("solver::infiltration_rows", s.ny);
  s.infil_model = p.model;
  s.ResetInfiltrationState();
}

void Solver::Impl::ResetInfiltrationState() {
  if (infil_model == InfiltrationModel::kNone) return;
  auto m = Kokkos::create_mirror_view(infil_cum);
  for (std::size_t k = 0; k < infil_initial.size(); ++k)
    m.data()[k] = static_cast<Real>(infil_initial[k]);
  Kokkos::deep_copy(infil_cum, m);
  if (infil_model == InfiltrationModel::kHorton) Kokkos::deep_copy(infil_time, Real(0));
}

double Solver::Impl::Infiltrate(double dt) {
  const Real rdt = static_cast<Real>(dt), dry = static_cast<Real>(opt.dry_depth);
  if (infil_model == InfiltrationModel::kHorton) {
    InfiltrateRows<true>(ny, nx, rdt, dry, h, qx, qy, act, infil_a, infil_b, infil_c, infil_cum,
                         infil_time, infil_rows);
  } else {
    InfiltrateRows<false>(ny, nx, rdt, dry, h, qx, qy, act, infil_a, infil_b, infil_c, infil_cum,
                          infil_time, infil_rows);
  }
  // Rows summed on the host in row order (deterministic).
  auto rows = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), infil_rows);
  double depth = 0;
  for (int j = 0; j < ny; ++j) depth += rows(j);
  return depth * dom.dx * dom.dy;
}

std::vector<double> Solver::InfiltratedDepth() const {
  const Impl& s = *impl_;
  if (s.infil_model == InfiltrationModel::kNone) return {};
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.infil_cum);
  return std::vector<double>(m.data(), m.data() + m.size());
}

std::vector<double> Solver::MaxDepth() const { return impl_->Unpad(impl_->hmax); }

}  // namespace floodwarn::solver
