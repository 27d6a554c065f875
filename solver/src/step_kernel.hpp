// The device kernels of one time step (private to the solver library):
//
//  1. BoundaryRowsKernel, "solver::boundary_face_rows": the north-south face
//     rows at the start of every chunk of rows (and the domain's north edge),
//     from the old state.
//  2. StepKernel, "solver::update_chunks": one team per chunk of `chunk_rows`
//     rows. Going north through its rows, a team computes the next face row
//     and the row's east-west faces into scratch, then updates the row in
//     place (fluxes, rain, friction, thin-layer cut-off, max depth) and takes
//     the CFL maximum of the new state on the way. Every face is computed
//     exactly once per step, so results do not depend on the number of
//     threads or on the chunking, and the in-place update needs no second
//     copy of the state.
//
// Inner loops run along a row (contiguous memory) through ParForInner: a
// vectorised loop on the host, TeamVectorRange on a GPU, from one source.
// Included by solver.cpp only.
#pragma once

#include "kokkos_types.hpp"
#include "physics.hpp"
#include "step_layout.hpp"

namespace floodwarn::solver {
// Internal linkage: the kernels run from solver.cpp only, and g++ then
// specialises them for their one call site (0.6 % fewer instructions).
namespace {

// A row of faces in structure-of-arrays form: face k's flux is
// (mass[k], mom_left[k], mom_right[k], tang[k]).
struct FaceRowView {
  const Real* mass;
  const Real* mom_left;
  const Real* mom_right;
  const Real* tang;
  KOKKOS_FORCEINLINE_FUNCTION FaceRowView(const Real* row, int stride)
      : mass(row + kMass * stride),
        mom_left(row + kMomLeft * stride),
        mom_right(row + kMomRight * stride),
        tang(row + kTang * stride) {}
  KOKKOS_FORCEINLINE_FUNCTION FaceFlux operator[](int k) const {
    return FaceFlux{mass[k], mom_left[k], mom_right[k], tang[k]};
  }
};

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
  Kokkos::View<double*, MemSpace> chunk_in;
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

  // A row of cells from padded column ii on.
  struct CellRow {
    const Real *h, *qx, *qy, *z, *a;
  };
  KOKKOS_FORCEINLINE_FUNCTION CellRow RowAt(int jj, int ii) const {
    return CellRow{&h(jj, ii), &qx(jj, ii), &qy(jj, ii), &z(jj, ii), &act(jj, ii)};
  }

  // n faces between cells L[k] and R[k] (k in [0, n)), written to out[c * stride + k].
  // Scalars and pointers are locals so that the loop if-converts and vectorises.
  KOKKOS_FORCEINLINE_FUNCTION void FaceRow(const TeamMember& member, int n, int stride,
                                           const CellRow left, const CellRow right,
                                           bool normal_is_x, Real* out) const {
    const Real g = this->g, dry = this->dry;
    const Real* const lqn = normal_is_x ? left.qx : left.qy;
    const Real* const lqt = normal_is_x ? left.qy : left.qx;
    const Real* const rqn = normal_is_x ? right.qx : right.qy;
    const Real* const rqt = normal_is_x ? right.qy : right.qx;
    ParForInner(member, n, [=](int k) FLOODWARN_INLINE_LAMBDA {
      StoreFace(out, stride, k,
                ComputeFaceFlux(g, dry, left.h[k], lqn[k], lqt[k], left.z[k], left.a[k], right.h[k],
                                rqn[k], rqt[k], right.z[k], right.a[k]));
    });
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
    // Water leaving and entering through the domain's edges, each summed on
    // its own (MassBalance::boundary_out / boundary_in).
    double outflow = 0.0, inflow = 0.0;
    Max3 acc{0, 0, 0};

    // The south / north domain edges (face rows 0 and ny); a face's mass flux
    // is positive northwards.
    const double dt_dx = static_cast<double>(dt) / static_cast<double>(inv_dx);
    auto edge_row = [&](int row, double sign_out) {
      double out = 0, in = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, nx),
          [&](int i, double& v) {
            const double f = sign_out * static_cast<double>(ybnd(row, kMass, i));
            v += f > 0 ? f : 0.0;
          },
          out);
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, nx),
          [&](int i, double& v) {
            const double f = sign_out * static_cast<double>(ybnd(row, kMass, i));
            v += f < 0 ? -f : 0.0;
          },
          in);
      outflow += out * dt_dx;
      inflow += in * dt_dx;
    };
    if (c == 0) edge_row(0, -1.0);
    if (c == nchunks - 1) edge_row(nchunks, 1.0);

    for (int j = j0; j < j1; ++j) {
      const Real* top;
      if (j + 1 == j1) {
        top = &ybnd(c + 1, 0, 0);
      } else {
        Real* out = ybuf + ((j + 1) & 1) * kComponents * nx;
        const int k = j + 1;
        FaceRow(member, nx, nx, RowAt(k, 1), RowAt(k + 1, 1), /*normal_is_x=*/false, out);
        top = out;
      }
      FaceRow(member, nx + 1, xs, RowAt(j + 1, 0), RowAt(j + 1, 1), /*normal_is_x=*/true, xbuf);
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

      // The west and east domain edges of this row (every team member keeps
      // the same running sums); a face's mass flux is positive eastwards.
      {
        const double dt_dy = static_cast<double>(dt) / static_cast<double>(inv_dy);
        const double west = static_cast<double>(xbuf[kMass * xs + 0]) * dt_dy;
        const double east = static_cast<double>(xbuf[kMass * xs + nx]) * dt_dy;
        outflow += (east > 0 ? east : 0.0) + (west < 0 ? -west : 0.0);
        inflow += (east < 0 ? -east : 0.0) + (west > 0 ? west : 0.0);
      }

      const Max3 rm = check ? UpdateRowAs<true>(member, j, bot, top, xbuf, rbuf)
                            : UpdateRowAs<false>(member, j, bot, top, xbuf, rbuf);
      acc.a = rm.a > acc.a ? rm.a : acc.a;
      acc.b = rm.b > acc.b ? rm.b : acc.b;
      acc.c = rm.c > acc.c ? rm.c : acc.c;
      member.team_barrier();
      bot = top;
    }
    Kokkos::single(Kokkos::PerTeam(member), [&]() {
      chunk_metric(c) = acc.a;
      chunk_speed(c) = acc.b;
      chunk_depth(c) = acc.c;
      chunk_out(c) = outflow;
      chunk_in(c) = inflow;
    });
  }

  // UpdateRow for the run-time flags (rain field, extremes), compiled once per combination.
  template <bool kCheck>
  KOKKOS_FORCEINLINE_FUNCTION Max3 UpdateRowAs(const TeamMember& member, int j, const Real* bot,
                                               const Real* top, const Real* xbuf, Real* red) const {
    return rain_field ? (track ? UpdateRow<true, true, kCheck>(member, j, bot, top, xbuf, red)
                               : UpdateRow<true, false, kCheck>(member, j, bot, top, xbuf, red))
                      : (track ? UpdateRow<false, true, kCheck>(member, j, bot, top, xbuf, red)
                               : UpdateRow<false, false, kCheck>(member, j, bot, top, xbuf, red));
  }

  // The finite-volume update of interior row j, in place, between its south
  // face row `bot`, its north face row `top` and its east-west faces `xbuf`.
  // Returns the row's maxima of the CFL metric (|u|+c)/dx + (|v|+c)/dy, of
  // max(|u|, |v|) and of h, each of the new state (NaN as the largest Real).
  template <bool kRainField, bool kTrack, bool kCheck>
  KOKKOS_FORCEINLINE_FUNCTION Max3 UpdateRow(const TeamMember& member, int j, const Real* bot,
                                             const Real* top, const Real* xbuf, Real* red) const {
    const int jj = j + 1;
    Real* const h_row = &h(jj, 1);
    Real* const qx_row = &qx(jj, 1);
    Real* const qy_row = &qy(jj, 1);
    Real* const hmax_row = &hmax(jj, 1);
    const Real* const active = &act(jj, 1);
    const Real* const g_n2 = &gn2(jj, 1);
    const Real* const rain_a = kRainField ? &rain(jj, 1) : nullptr;
    const Real* const rain_b_row = kRainField ? &rain_b(jj, 1) : nullptr;
    Real* const vmax_row = kTrack ? &vmax(jj, 1) : nullptr;
    Real* const arrival_row = kTrack ? &arrival(jj, 1) : nullptr;
    Real* const check_h0 = kCheck ? &chk_h0(jj, 1) : nullptr;
    Real* const check_raw = kCheck ? &chk_raw(jj, 1) : nullptr;
    // Face i of the x row is the west face of cell i, face i + 1 its east face.
    const FaceRowView x_faces(xbuf, nx + 1), south_faces(bot, nx), north_faces(top, nx);
    Real* const metric_row = red;
    Real* const speed_row = red + nx;
    Real* const depth_row = red + 2 * nx;
    // Scalars as locals: loads through `this` inside the loop may alias the
    // stores and keep the loop from being if-converted.
    const Real dt = this->dt, rdx = this->rdx, rdy = this->rdy, dry = this->dry, g = this->g;
    const Real inv_dx = this->inv_dx, inv_dy = this->inv_dy, rain_dt = this->rain_dt;
    const Real rain_wa = this->rain_wa, rain_wb = this->rain_wb;
    const Real t_new = this->t_new, arrival_depth = this->arrival_depth;

    ParForInner(member, nx, [=](int i) FLOODWARN_INLINE_LAMBDA {
      const Real a = active[i];
      const FaceFlux w = x_faces[i], e = x_faces[i + 1], s = south_faces[i], n = north_faces[i];
      Real rain_depth = rain_dt;  // rain over the step (m)
      if constexpr (kRainField) rain_depth = (rain_wa * rain_a[i] + rain_wb * rain_b_row[i]) * dt;

      // U_new = U - dt/dx (F_e - F_w) - dt/dy (G_n - G_s) + sources. A cell
      // takes the normal-momentum flux of its side of a face: mom_right from
      // its west and south faces, mom_left from its east and north faces
      // (they differ by the hydrostatic-reconstruction pressure terms).
      const Real h0 = h_row[i];
      Real hn = h0 - rdx * (e.mass - w.mass) - rdy * (n.mass - s.mass) + rain_depth * a;
      const Real raw = hn;
      Real qxn = qx_row[i] - rdx * (e.mom_left - w.mom_right) - rdy * (n.tang - s.tang);
      Real qyn = qy_row[i] - rdx * (e.tang - w.tang) - rdy * (n.mom_left - s.mom_right);

      // Round-off below zero becomes a dry cell; NaN stays NaN, so that the
      // CFL reduction reports a blow-up instead of a cell silently emptied.
      hn = (hn > Real(0) || hn != hn) ? hn : Real(0);
      const bool wet = hn > dry && a != Real(0);
      const Real hs = wet ? hn : Real(1);
      // Semi-implicit Manning friction; no velocity in thin layers.
      const Real qabs = Sqrt(qxn * qxn + qyn * qyn);
      const Real fr = FrictionFactorAbs(g_n2[i] * dt, hs, qabs);
      qxn = wet ? qxn * fr : Real(0);
      qyn = wet ? qyn * fr : Real(0);
      hn = a != Real(0) ? hn : Real(0);
      if constexpr (kCheck) {  // the rest of the check runs in CheckRow
        check_h0[i] = h0;
        check_raw[i] = raw;
      }
      h_row[i] = hn;
      qx_row[i] = qxn;
      qy_row[i] = qyn;
      hmax_row[i] = hn > hmax_row[i] ? hn : hmax_row[i];

      // CFL metric of the new state. A division is cheaper than a second
      // inverse cube root; unconditional, since a guarded division blocks
      // if-conversion.
      const Real inv_hs = Real(1) / hs;
      const Real inv_h = wet ? inv_hs : Real(0);
      const Real ua = Abs(qxn) * inv_h;
      const Real va = Abs(qyn) * inv_h;
      const Real c = Sqrt(g * hn);
      const Real metric = (ua + c) * inv_dx + (va + c) * inv_dy;
      const Real speed = ua > va ? ua : va;
      metric_row[i] = metric == metric ? metric : kRealMax;  // NaN -> blow-up
      speed_row[i] = speed == speed ? speed : kRealMax;
      depth_row[i] = hn == hn ? hn : kRealMax;
      if constexpr (kTrack) {
        const Real v_abs = qabs * fr * inv_h;  // |q| after friction, no second sqrt
        vmax_row[i] = v_abs > vmax_row[i] ? v_abs : vmax_row[i];
        const Real ta = arrival_row[i];
        arrival_row[i] = (ta != ta && hn > arrival_depth) ? t_new : ta;  // NaN until first wet
      }
    });
    const Max3 r = InnerMax3(member, nx, metric_row, speed_row, depth_row);
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
    const Real* const h_row = &h(jj, 1);
    const Real* const active = &act(jj, 1);
    const Real* const rain_a = kRainField ? &rain(jj, 1) : nullptr;
    const Real* const rain_b_row = kRainField ? &rain_b(jj, 1) : nullptr;
    const Real* const check_h0 = &chk_h0(jj, 1);
    const Real* const check_raw = &chk_raw(jj, 1);
    Real* const check_excess = &chk_excess(jj, 1);
    Real* const check_ratio = &chk_ratio(jj, 1);
    const Real* const x_mass = xbuf + kMass * (nx + 1);
    const Real* const south_mass = bot + kMass * nx;
    const Real* const north_mass = top + kMass * nx;
    const Real dt = this->dt, rdx = this->rdx, rdy = this->rdy, dry = this->dry;
    const Real rain_dt = this->rain_dt, rain_wa = this->rain_wa, rain_wb = this->rain_wb;
    if constexpr (!kHostKernels) member.team_barrier();
    ParForInner(member, nx, [=](int i) FLOODWARN_INLINE_LAMBDA {
      Real rain_depth = rain_dt;
      if constexpr (kRainField) rain_depth = (rain_wa * rain_a[i] + rain_wb * rain_b_row[i]) * dt;
      const Real fw = x_mass[i], fe = x_mass[i + 1], gs = south_mass[i], gn = north_mass[i];
      const Real h0 = check_h0[i], raw = check_raw[i];
      const Real magnitude =
          h0 + rdx * (Abs(fw) + Abs(fe)) + rdy * (Abs(gs) + Abs(gn)) + Abs(rain_depth * active[i]);
      const Real excess = Abs(h_row[i] - raw) - kConservationUlps * kEpsilon * magnitude;
      check_excess[i] = raw == raw ? excess : kRealMax;
      const Real out = rdx * (Max0(fe) + Max0(-fw)) + rdy * (Max0(gn) + Max0(-gs));
      const Real ratio = out / (h0 > dry ? h0 : Real(1));  // unconditional: see inv_hs
      check_ratio[i] = h0 > dry ? ratio : Real(0);
    });
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
    k.FaceRow(member, nx, nx, k.RowAt(row, 1), k.RowAt(row + 1, 1), /*normal_is_x=*/false, out);
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

}  // namespace
}  // namespace floodwarn::solver
