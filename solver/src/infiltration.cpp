// Infiltration into the ground (Green-Ampt or Horton), per active cell after
// the flux update and the sources of each step.
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

// Infiltration over rows [0, ny) (unpadded parameter/state fields (j, i),
// padded h/q/act (j + 1, i + 1)), one row per work item. Per cell: capacity
// over the step `cap`, infiltrated depth i = min(h, cap), h -= i, F += i; the
// discharge is scaled by h_new / h_old (the water leaves with its momentum,
// so the velocity and the CFL bound from the update stay valid) and zeroed
// below the dry depth. row_sum(j) gets the depth removed from row j, summed
// in double in column order, so that the ledger is reduced on the host in a
// fixed order.
// Green-Ampt (kHorton = false): pa = Ks, pb = psi * dtheta, explicit in time.
// Horton: pa = f0 - fc, pb = fc, pc = k, integrated exactly over the step.
// A functor rather than a lambda: a GPU lambda may not first-capture a view
// inside `if constexpr`.
template <bool kHorton>
struct InfiltrationKernel {
  int nx;
  Real dt, dry;
  Field2D h, qx, qy, act, pa, pb, pc, cum, tp;
  Kokkos::View<double*, MemSpace> row_sum;

  KOKKOS_FUNCTION void operator()(int j) const {
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
  }
};

template <bool kHorton>
void InfiltrateRows(const InfiltrationKernel<kHorton>& kernel, int ny) {
  Kokkos::parallel_for("solver::infiltration", Kokkos::RangePolicy<ExecSpace>(0, ny), kernel);
}

}  // namespace

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
    InfiltrateRows(InfiltrationKernel<true>{nx, rdt, dry, h, qx, qy, act, infil_a, infil_b, infil_c,
                                            infil_cum, infil_time, infil_rows},
                   ny);
  } else {
    InfiltrateRows(InfiltrationKernel<false>{nx, rdt, dry, h, qx, qy, act, infil_a, infil_b,
                                             infil_c, infil_cum, infil_time, infil_rows},
                   ny);
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

}  // namespace floodwarn::solver
