// Water sources: point inflows and rain (uniform, a field, or two frames in
// time), and what they add in each step.
#include "floodwarn/solver/solver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "physics.hpp"
#include "solver_impl.hpp"

namespace floodwarn::solver {

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
  if (view.extent(0) != static_cast<std::size_t>(dom.ny) + 2)
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

double MaxRate(const std::vector<double>& rate) {
  double m = 0.0;
  for (const double r : rate) m = std::max(m, r);
  return m;
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
  s.rain_max_a = s.rain_max_b = MaxRate(rate);
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
  s.rain_max_a = MaxRate(rate_a);
  s.rain_max_b = MaxRate(rate_b);
  s.rain_t_a = t_a;
  s.rain_t_b = t_b;
  s.rain_is_field = true;
}

namespace {

// Adds each source cell's share of this step's depth (sequentially, so that
// several sources in one cell add up in a fixed order), then returns the CFL
// metric of the changed cells, so that no extra pass over the grid is needed.
Real AddSourceCells(const SourceCells& src, int n, const Field2D& h, const Field2D& hmax,
                    const Field2D& qx, const Field2D& qy, const Field2D& act, Real g, Real dry,
                    Real inv_dx, Real inv_dy) {
  Real metric = 0;
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
          const Real mm =
              CellCflMetric(g, dry, h(jj, ii), qx(jj, ii), qy(jj, ii), act(jj, ii), inv_dx, inv_dy);
          m = mm > m ? mm : m;
        }
      },
      Kokkos::Max<Real>(metric));
  return metric;
}

}  // namespace

double Solver::Impl::AddSources(double dt, Real& metric_out) {
  if (source_series.empty()) return 0.0;
  auto rate_h = Kokkos::create_mirror_view(sources.depth_rate);
  const double area = dom.dx * dom.dy;
  for (std::size_t q = 0; q < source_series.size(); ++q) {
    const double vol = source_series[q].Mean(t, t + dt) * dt;
    if (vol < 0)
      throw std::invalid_argument(fmt::format("inflow discharge is negative at t = {}", t));
    rate_h(q) = static_cast<Real>(vol / area);
  }
  // Account exactly what is added (the Real values times the shares).
  double volume = 0;
  for (const auto& c : source_cells_host)
    volume += static_cast<double>(static_cast<Real>(c.share) * rate_h(c.src)) * area;
  Kokkos::deep_copy(sources.depth_rate, rate_h);
  metric_out = AddSourceCells(sources, static_cast<int>(source_cells_host.size()), h, hmax, qx, qy,
                              act, static_cast<Real>(opt.gravity), static_cast<Real>(opt.dry_depth),
                              static_cast<Real>(1.0 / dom.dx), static_cast<Real>(1.0 / dom.dy));
  Mark(&KernelTimes::sources);
  return volume;
}

Solver::Impl::RainStep Solver::Impl::RainOfStep(double dt) const {
  RainStep r;
  if (!rain_is_field) {
    const double mean = rain_series.empty() ? 0.0 : rain_series.Mean(t, t + dt);
    r.depth = static_cast<Real>(mean * dt);
    return r;
  }
  const double wb = RainWeightB(rain_t_a, rain_t_b, t, t + dt);
  r.weight_a = static_cast<Real>(1.0 - wb);
  r.weight_b = static_cast<Real>(wb);
  return r;
}

double Solver::Impl::SourceDtBound(double dt) const {
  const double g = opt.gravity, k = 1.0 / dom.dx + 1.0 / dom.dy;
  double bound = std::numeric_limits<double>::infinity();
  auto limit = [&](double depth_rate) {
    if (depth_rate > 0)
      bound = std::min(bound, std::pow(opt.cfl / (std::sqrt(g * depth_rate) * k), 2.0 / 3.0));
  };
  const double t1 = std::isfinite(dt) ? t + dt : t;
  auto rate = [&](const TimeSeries& s) { return std::max(s.At(t), s.At(t1)); };
  const double area = dom.dx * dom.dy;
  for (std::size_t q = 0; q < source_series.size(); ++q) limit(rate(source_series[q]) / area);
  for (std::size_t q = 0; q < seg_series.size(); ++q) {
    if (seg_inflow_width[q] <= 0) continue;  // a level segment
    // Unit discharge into the edge cell, over its depth (the cell's width
    // across the edge is the smaller spacing at worst).
    limit(rate(seg_series[q]) / seg_inflow_width[q] / std::min(dom.dx, dom.dy));
  }
  if (rain_is_field)
    limit(std::max(rain_max_a, rain_max_b));
  else if (!rain_series.empty())
    limit(rate(rain_series));
  return bound;
}

double Solver::Impl::RainVolume(const RainStep& r, double dt) const {
  // The kernel adds (wa * A + wb * B) * dt per cell with Real weights, or
  // the uniform depth on every active cell.
  if (rain_is_field)
    return (static_cast<double>(r.weight_a) * rain_vol_a +
            static_cast<double>(r.weight_b) * rain_vol_b) *
           dt;
  return static_cast<double>(r.depth) * active_area;
}

}  // namespace floodwarn::solver
