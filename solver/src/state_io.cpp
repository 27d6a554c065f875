// The state in and out of the device: initial states, downloads of fields,
// exports and imports for checkpoints, and the stored volume.
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

// The extremes start from a state: max depth = the depth, max speed = the
// speed where wet, arrival `t` where deeper than the arrival depth and NaN
// elsewhere. Mirrors of h, qx, qy (padded) are passed in.
template <class Mirror>
void Solver::Impl::ResetExtremesFrom(const Mirror& hh, const Mirror& qxh, const Mirror& qyh,
                                     double t) {
  Impl& s = *this;
  Kokkos::deep_copy(s.hmax, hh);
  if (!s.opt.track_extremes) return;
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
      if (hv > s.opt.arrival_depth) th(j + 1, i + 1) = static_cast<Real>(t);
    }
  }
  Kokkos::deep_copy(s.vmax, vh);
  Kokkos::deep_copy(s.arrival, th);
}

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
  s.ResetExtremesFrom(hh, qxh, qyh, 0.0);
  s.ResetInfiltrationState();
  s.metric_valid = false;
  s.conservation = ConservationReport{};
  s.mb = MassBalance{};
  s.mb.initial_volume = Volume();
  s.mb.volume = s.mb.initial_volume;
}

void Solver::ResetExtremes() {
  Impl& s = *impl_;
  auto hh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.h);
  auto qxh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.qx);
  auto qyh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.qy);
  s.ResetExtremesFrom(hh, qxh, qyh, s.t);
}

void Solver::SetStillWater(double wse) {
  const Domain& d = impl_->dom;
  HostState st;
  st.h.assign(static_cast<std::size_t>(d.nx) * d.ny, 0.0);
  for (std::size_t k = 0; k < st.h.size(); ++k)
    st.h[k] = (d.active.empty() || d.active[k]) ? std::max(0.0, wse - d.bed[k]) : 0.0;
  SetState(st);
}

namespace {

// The stored volume's sum of depths over active cells, in double, per row
// and then over rows.
double SumOfDepths(const Field2D& h, const Field2D& act, int nx, int ny) {
  double v = 0;
  Kokkos::parallel_reduce(
      "solver::volume", Kokkos::RangePolicy<ExecSpace>(0, ny),
      KOKKOS_LAMBDA(int j, double& acc) {
        double row = 0;
        for (int i = 1; i <= nx; ++i) row += static_cast<double>(h(j + 1, i) * act(j + 1, i));
        acc += row;
      },
      v);
  return v;
}

}  // namespace

double Solver::Volume() const {
  const Impl& s = *impl_;
  return SumOfDepths(s.h, s.act, s.nx, s.ny) * s.dom.dx * s.dom.dy;
}

const MassBalance& Solver::mass_balance() const {
  impl_->mb.volume = Volume();
  return impl_->mb;
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

std::vector<double> Solver::MaxDepth() const { return impl_->Unpad(impl_->hmax); }

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

}  // namespace floodwarn::solver
