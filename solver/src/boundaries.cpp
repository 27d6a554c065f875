// Boundary segments on the domain's edges: which halo cell holds what
// (SetBoundaries) and the halo cells of each step (FillHalos).
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

namespace {

// The halo cells of the non-wall edge cells (padded indices; order: west j,
// east j, south i, north i): the bed extrapolated linearly, and the state of
// the boundary kind. Inflow halos only get the bed (their faces are set in
// the step kernels).
void FillHaloCells(const Field2D& h, const Field2D& qx, const Field2D& qy, const Field2D& z,
                   const Field2D& act, const Kokkos::View<int*, MemSpace>& kind,
                   const Kokkos::View<int*, MemSpace>& seg,
                   const Kokkos::View<Real*, MemSpace>& value, int nx, int ny, Real dry) {
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

}  // namespace

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
  FillHaloCells(h, qx, qy, z, act, halo_kind, halo_seg, seg_value, nx, ny,
                static_cast<Real>(opt.dry_depth));
}

}  // namespace floodwarn::solver
