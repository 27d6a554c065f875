// The solver's set-up and its time step: the host side of the kernels in
// step_kernel.hpp. Boundaries, sources, infiltration, state I/O and the
// diagnostics (conservation check, blow-up report) each have their own file.
#include "floodwarn/solver/solver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "solver_impl.hpp"
#include "step_kernel.hpp"

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
                boundary_in, boundary_out, std::abs(infiltration_out)});
  return scale > 0 ? std::abs(Error()) / scale : 0.0;
}

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
  chunk_in = Kokkos::View<double*, MemSpace>("solver::chunk_inflow", nchunks);
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
  if (!domain.manning.empty() && domain.manning.size() != 1 && domain.manning.size() != n)
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

namespace {

// The largest CFL metric of the state (only when no step has computed it:
// at the start and after a change of the state or the boundaries).
Real MaxCflMetric(const Field2D& h, const Field2D& qx, const Field2D& qy, const Field2D& act,
                  int nx, int ny, Real g, Real dry, Real inv_dx, Real inv_dy) {
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
  return m;
}

}  // namespace

void Solver::Impl::ComputeMetric() {
  metric = MaxCflMetric(h, qx, qy, act, nx, ny, static_cast<Real>(opt.gravity),
                        static_cast<Real>(opt.dry_depth), static_cast<Real>(1.0 / dom.dx),
                        static_cast<Real>(1.0 / dom.dy));
  metric_valid = true;
}

double Solver::Step(double dt_limit) {
  Impl& s = *impl_;
  if (!s.metric_valid) s.ComputeMetric();
  double dt = s.metric > 0 ? s.opt.cfl / static_cast<double>(s.metric)
                           : std::numeric_limits<double>::infinity();
  if (s.opt.max_dt > 0) dt = std::min(dt, s.opt.max_dt);
  dt = std::min(dt, dt_limit);
  // The water the sources add in this step must respect the CFL condition
  // too: into a dry domain the state alone sets no limit (sources.cpp).
  dt = std::min(dt, s.SourceDtBound(dt));
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
  k.chunk_in = s.chunk_in;
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
  const Solver::Impl::RainStep rain = s.RainOfStep(dt);
  k.rain_dt = rain.depth;
  k.rain_wa = rain.weight_a;
  k.rain_wb = rain.weight_b;

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

  // Point inflows (sources.cpp): the volume added, and the CFL metric of
  // the changed cells.
  Real source_metric = 0;
  const double inflow_volume = s.AddSources(dt, source_metric);

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
  auto i_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.chunk_in);
  Real metric = source_metric, speed = 0, depth = 0;
  double out = 0, in = 0;
  for (int c = 0; c < s.nchunks; ++c) {
    metric = std::max(metric, m_h(c));
    speed = std::max(speed, sp_h(c));
    depth = std::max(depth, d_h(c));
    out += o_h(c);
    in += i_h(c);
  }
  s.t += dt;
  s.steps += 1;
  s.last_dt = dt;
  s.mb.boundary_out += out;
  s.mb.boundary_in += in;
  s.mb.inflow_in += inflow_volume;
  s.mb.infiltration_out += infiltration_volume;
  s.mb.rain_in += s.RainVolume(rain, dt);
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

KernelTimes Solver::kernel_times() const {
  const Impl& s = *impl_;
  KernelTimes t = s.times;
  auto bytes = [](const auto& v) {
    return v.span() * sizeof(typename std::decay_t<decltype(v)>::value_type);
  };
  t.device_bytes = bytes(s.h) + bytes(s.qx) + bytes(s.qy) + bytes(s.z) + bytes(s.act) +
                   bytes(s.gn2) + bytes(s.hmax) + bytes(s.rain) +
                   (s.rain_b.data() != s.rain.data() ? bytes(s.rain_b) : 0) + bytes(s.vmax) +
                   bytes(s.arrival) + bytes(s.ybnd) + bytes(s.chunk_metric) + bytes(s.chunk_speed) +
                   bytes(s.chunk_depth) + bytes(s.chunk_out) + bytes(s.chunk_in) +
                   bytes(s.halo_kind) + bytes(s.halo_seg) + bytes(s.infil_a) + bytes(s.infil_b) +
                   bytes(s.infil_c) + bytes(s.infil_cum) + bytes(s.infil_time) +
                   bytes(s.infil_rows) + bytes(s.chk_h0) + bytes(s.chk_raw) + bytes(s.chk_excess) +
                   bytes(s.chk_ratio) + bytes(s.chk_rows);
  return t;
}

}  // namespace floodwarn::solver
