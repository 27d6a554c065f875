// RunCycle: one forecast cycle of the town's model (see cycle.hpp).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "floodwarn/forecast/cycle.hpp"
#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/grids/zones.hpp"
#include "floodwarn/scenario/model.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/solver.hpp"

namespace floodwarn::forecast {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

// The cycle's forcing in place of the scenario's own. Names that the
// scenario lacks are errors: a mistyped boundary must not leave the model
// running on its design hydrograph.
void ApplyForcing(const CycleSpec& spec, scenario::ScenarioConfig& cfg) {
  for (const auto& [key, s] : spec.boundaries) {
    const std::string& name = key;  // (structured bindings are not captured before C++20)
    auto it = std::find_if(cfg.boundaries.begin(), cfg.boundaries.end(),
                           [&](const solver::BoundarySegment& b) { return b.name == name; });
    if (it == cfg.boundaries.end())
      throw std::runtime_error(
          fmt::format("cycle forcing boundaries.{}: {} has no [[boundary]] named '{}'", name,
                      spec.scenario, name));
    if (it->kind != solver::BoundaryKind::kLevel && it->kind != solver::BoundaryKind::kInflow)
      throw std::runtime_error(fmt::format(
          "cycle forcing boundaries.{}: the boundary is a wall or outflow; only level and "
          "inflow boundaries take a series",
          name));
    it->series = solver::TimeSeries(s.t, s.v, "boundaries." + name);
  }
  for (const auto& [key, s] : spec.inflows) {
    const std::string& name = key;
    auto it = std::find_if(cfg.inflows.begin(), cfg.inflows.end(),
                           [&](const solver::PointInflow& p) { return p.name == name; });
    if (it == cfg.inflows.end())
      throw std::runtime_error(fmt::format(
          "cycle forcing inflows.{}: {} has no [[inflow]] named '{}'", name, spec.scenario, name));
    it->discharge = solver::TimeSeries(s.t, s.v, "inflows." + name);
  }
  if (spec.rain_mm_per_h && !spec.rain_frames.empty())
    throw std::runtime_error("cycle forcing: give rain_mm_per_h or rain_frames, not both");
  if (spec.rain_mm_per_h) {
    std::vector<double> rate = spec.rain_mm_per_h->v;
    for (double& v : rate) v /= 3.6e6;  // mm/h -> m/s
    cfg.rain_m_per_s = solver::TimeSeries(spec.rain_mm_per_h->t, rate, "rain_mm_per_h");
    cfg.rain_frame_times.clear();
    cfg.rain_frames = scenario::RainFrames();
  }
  if (!spec.rain_frames.empty()) {
    cfg.rain_m_per_s = solver::TimeSeries();
    cfg.rain_frame_times.clear();
    for (std::size_t k = 0; k < spec.rain_frames.size(); ++k) {
      if (k > 0 && !(spec.rain_frames[k].t > spec.rain_frames[k - 1].t))
        throw std::runtime_error(
            fmt::format("cycle forcing rain_frames[{}]: times must increase", k));
      cfg.rain_frame_times.push_back(spec.rain_frames[k].t);
    }
    cfg.rain_frames_stepwise = false;
    const std::vector<CycleSpec::RainFrame> frames = spec.rain_frames;
    const scenario::ScenarioConfig* c = &cfg;  // outlives the run
    cfg.rain_frames = scenario::RainFrames(frames.size(), [frames, c](std::size_t k) {
      const grids::RasterD r = grids::ReadRaster(frames[k].file);
      const solver::Domain& d = c->domain;
      if (r.cols() != d.nx || r.rows() != d.ny || !r.geo().SameGrid(c->geo))
        throw std::runtime_error(
            fmt::format("rain frame {}: {} x {} cells, not on the model's grid ({} x {})",
                        frames[k].file, r.cols(), r.rows(), d.nx, d.ny));
      std::vector<double> rate(static_cast<std::size_t>(d.nx) * d.ny, 0.0);
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i) {
          const int row = d.ny - 1 - j;
          const double v = r.IsNodata(i, row) ? 0.0 : r(i, row);
          if (!(v >= 0) || !std::isfinite(v))
            throw std::runtime_error(
                fmt::format("rain frame {}: {} mm/h at column {}, row {} (expected >= 0)",
                            frames[k].file, v, i, row));
          rate[d.Index(i, j)] = v / 3.6e6;
        }
      return rate;
    });
  }
}

// Linear interpolation in a series; NaN outside it.
double At(const Series& s, double t) {
  if (s.t.empty() || t < s.t.front() || t > s.t.back()) return std::nan("");
  const auto it = std::lower_bound(s.t.begin(), s.t.end(), t);
  const std::size_t k = static_cast<std::size_t>(it - s.t.begin());
  if (s.t[k] == t) return s.v[k];
  const double w = (t - s.t[k - 1]) / (s.t[k] - s.t[k - 1]);
  return s.v[k - 1] + w * (s.v[k] - s.v[k - 1]);
}

}  // namespace

CycleResult RunCycle(const CycleSpec& spec) {
  const auto start = Clock::now();
  CycleResult r;
  r.cycle_id = spec.cycle_id;
  r.epoch = spec.epoch;
  r.issue_time = spec.issue_time;
  r.analysis_end = spec.analysis_end;
  r.model_time = spec.start_time;
  std::error_code ec;
  fs::create_directories(spec.out_dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("{}: cannot create the cycle folder: {}", spec.out_dir, ec.message()));
  const fs::path out(spec.out_dir);
  try {
    scenario::ScenarioConfig cfg = scenario::LoadScenario(spec.scenario);
    ApplyForcing(spec, cfg);
    if (spec.check_conservation) cfg.options.check_conservation = solver::ConservationCheck::kStop;
    const solver::Domain& d = cfg.domain;

    solver::Solver model(cfg.domain, cfg.options);
    scenario::SetUpModel(cfg, model);
    if (!spec.start_checkpoint.empty()) {
      model.Import(scenario::ReadModelCheckpoint(cfg, spec.start_checkpoint,
                                                 "forecast cycle " + spec.cycle_id));
      if (model.time() != spec.start_time)
        throw std::runtime_error(
            fmt::format("start checkpoint {} holds the state at {} s, the cycle starts at {} s",
                        spec.start_checkpoint, model.time(), spec.start_time));
    } else {
      model.set_time(spec.start_time);
    }
    scenario::RainSchedule rain(cfg);
    rain.Apply(model, model.time());

    // Where the model is sampled: gauges during the analysis and up to the
    // issue time (skill), places and zones at the forecast times.
    const grids::RasterD bed = scenario::ToRaster(cfg, d.bed);
    std::vector<grids::Zone> zones;
    if (!spec.zones_file.empty())
      zones =
          grids::ReadZones(spec.zones_file, spec.zones_id_field, cfg.geo, d.nx, d.ny, cfg.crs_wkt);
    std::vector<impacts::ZoneSpec> zone_specs;
    for (auto& z : zones) zone_specs.push_back({std::move(z), spec.zone_depths});
    impacts::ImpactTracker tracker(bed, spec.points, std::move(zone_specs));
    std::vector<impacts::Place> gauge_places;
    for (const auto& g : spec.gauges) gauge_places.push_back({g.id, g.x, g.y});
    impacts::ImpactTracker gauges(bed, gauge_places, {});

    // Landing times: the sample grid (anchored at the issue time), the
    // analysis time and the rain frames, so that every cycle with the same
    // inputs takes the same steps.
    std::vector<double> events;
    std::set<double> sample_times;
    const double dt_out = spec.output_interval;
    const double k0 = std::ceil((spec.start_time - spec.issue_time) / dt_out);
    for (double k = k0;; k += 1) {
      const double t = spec.issue_time + k * dt_out;
      if (t > spec.forecast_end) break;
      if (t >= spec.start_time) sample_times.insert(t);
      if (t > spec.start_time) events.push_back(t);
    }
    events.push_back(spec.analysis_end);
    events.push_back(spec.issue_time);
    events.push_back(spec.forecast_end);
    for (const double tf : cfg.rain_frame_times)
      if (tf > spec.start_time && tf < spec.forecast_end) events.push_back(tf);
    std::sort(events.begin(), events.end());
    events.erase(std::unique(events.begin(), events.end()), events.end());
    events.erase(std::remove_if(events.begin(), events.end(),
                                [&](double t) { return t <= spec.start_time; }),
                 events.end());

    std::vector<grids::CfPoint> nc_points;
    for (const auto& p : spec.points) nc_points.push_back({p.id, p.x, p.y});
    grids::CfRunInfo info;
    info.title = fmt::format("floodwarn forecast {}", spec.cycle_id);
    info.source = "floodwarn";
    info.history = fmt::format("floodwarn forecast run (cycle {})", spec.cycle_id);
    info.config_path = spec.scenario;
    info.start_time = spec.epoch;
    info.extra_attributes = {{"forecast_issue_time_s", fmt::format("{}", spec.issue_time)},
                             {"forecast_reference",
                              "time is seconds since the epoch; the forecast "
                              "starts at forecast_issue_time_s"}};
    grids::CfNetcdfWriter nc((out / "forecast.nc").string(), cfg.geo, d.nx, d.ny, cfg.crs_wkt,
                             nc_points, info);

    auto advance_to = [&](double target) {
      while (model.time() < target) {
        const double remaining = target - model.time();
        if (model.Step(remaining) >= remaining) model.set_time(target);
      }
      r.model_time = model.time();
    };
    auto depth_map = [&](const solver::HostState& s) { return scenario::ToRaster(cfg, s.h); };
    auto on_grid = [&](double t) { return sample_times.count(t) != 0; };

    const auto analysis_start = Clock::now();
    bool forecasting = false;
    Clock::time_point forecast_start{};
    for (const double te : events) {
      advance_to(te);
      rain.Apply(model, te);
      if (te == spec.analysis_end) {
        scenario::WriteModelCheckpoint(spec.analysis_checkpoint, cfg, model.Export());
        r.analysis_written = true;
        spdlog::info("event=forecast_analysis cycle={} t_s={} checkpoint={}", spec.cycle_id, te,
                     spec.analysis_checkpoint);
      }
      if (te <= spec.issue_time && on_grid(te) && !spec.gauges.empty())
        gauges.Sample(te, depth_map(model.Download()));
      if (te == spec.issue_time) {
        r.analysis_wall_s = Since(analysis_start);
        forecast_start = Clock::now();
        forecasting = true;
        model.ResetExtremes();
      }
      if (forecasting && on_grid(te)) {
        const solver::HostState s = model.Download();
        const grids::RasterD h = depth_map(s);
        tracker.Sample(te, h);
        std::vector<double> u(s.h.size(), 0.0), v(s.h.size(), 0.0), wse(s.h.size());
        for (std::size_t k = 0; k < s.h.size(); ++k) {
          if (s.h[k] > cfg.options.dry_depth) {
            u[k] = s.hu[k] / s.h[k];
            v[k] = s.hv[k] / s.h[k];
          }
          wse[k] = s.h[k] + d.bed[k];
        }
        nc.AppendFrame(te, scenario::NorthUp(cfg, s.h), scenario::NorthUp(cfg, u),
                       scenario::NorthUp(cfg, v), scenario::NorthUp(cfg, wse, &s.h));
        std::vector<double> at_points;
        for (const auto& p : tracker.places()) at_points.push_back(p.depth.back());
        nc.AppendPointSample(te, at_points);
        r.lead_time_reached = te - spec.issue_time;
      }
    }
    r.forecast_wall_s = Since(forecast_start);
    nc.WriteSummaryFields(
        scenario::SummaryFields(cfg, model.MaxDepth(), model.MaxSpeed(), model.ArrivalTime()));
    nc.Close();
    r.files.push_back(nc.path());

    r.points = tracker.places();
    r.zones = tracker.zones();
    r.zone_table = tracker.ZoneTable();
    for (std::size_t g = 0; g < spec.gauges.size(); ++g) {
      const auto& model_series = gauges.places()[g];
      CycleResult::Skill sk;
      sk.gauge = spec.gauges[g].id;
      double sum = 0, sum2 = 0;
      for (std::size_t k = 0; k < model_series.t.size(); ++k) {
        const double obs = At(spec.gauges[g].observed_level, model_series.t[k]);
        if (!std::isfinite(obs)) continue;
        const double e = model_series.level[k] - obs;
        sum += e;
        sum2 += e * e;
        ++sk.samples;
      }
      sk.bias = sk.samples ? sum / sk.samples : std::nan("");
      sk.rmse = sk.samples ? std::sqrt(sum2 / sk.samples) : std::nan("");
      r.skill.push_back(sk);
    }
    r.steps = model.steps();
    r.mass_relative_error = model.mass_balance().RelativeError();
    r.status = "ok";
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = e.what();
    spdlog::error("event=forecast_cycle_failed cycle={} error=\"{}\"", spec.cycle_id, e.what());
  }
  r.wall_s = Since(start);
  const std::string result_path = (out / "result.json").string();
  r.files.push_back(result_path);
  WriteCycleResult(result_path, r);
  return r;
}

}  // namespace floodwarn::forecast
