// The forecast loop in `floodwarn serve` (forecast_wiring.hpp).
#include "forecast_wiring.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cmath>
#include <utility>

namespace floodwarn::apps {
namespace {

using forecast::TimePoint;

TimePoint At(TimePoint epoch, double t) {
  return epoch + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(t));
}

}  // namespace

alerting::ForecastBatch ToForecastBatch(const forecast::CycleResult& result, TimePoint epoch) {
  alerting::ForecastBatch batch;
  batch.run_id = result.cycle_id;
  batch.issued = At(epoch, result.issue_time);
  for (const auto* group : {&result.points, &result.zones}) {
    for (const auto& series : *group) {
      for (std::size_t k = 0; k < series.t.size() && k < series.depth.size(); ++k) {
        if (series.t[k] < result.issue_time || !std::isfinite(series.depth[k])) continue;
        batch.values.push_back({series.id, At(epoch, series.t[k]), series.depth[k]});
      }
    }
  }
  return batch;
}

struct ForecastWiring::Impl : forecast::ForecastSink {
  alerting::AlertEngine& engine;
  std::function<TimePoint()> clock;
  std::unique_ptr<forecast::ForecastLoop> loop;

  prometheus::Family<prometheus::Counter>& cycles;
  prometheus::Gauge& duration;
  prometheus::Gauge& lead_reached;
  prometheus::Gauge& lag;
  prometheus::Gauge& available;
  prometheus::Gauge& last_issue;
  prometheus::Family<prometheus::Gauge>& skill_bias;
  prometheus::Family<prometheus::Gauge>& skill_rmse;

  Impl(alerting::AlertEngine& e, prometheus::Registry& r, std::function<TimePoint()> c)
      : engine(e),
        clock(std::move(c)),
        cycles(prometheus::BuildCounter()
                   .Name("floodwarn_forecast_cycles_total")
                   .Help("Forecast cycles by outcome (ok, failed, late, no_forcing)")
                   .Register(r)),
        duration(prometheus::BuildGauge()
                     .Name("floodwarn_forecast_cycle_duration_seconds")
                     .Help("Wall time of the last forecast cycle")
                     .Register(r)
                     .Add({})),
        lead_reached(prometheus::BuildGauge()
                         .Name("floodwarn_forecast_lead_time_reached_seconds")
                         .Help("How far past its issue time the last cycle's forecast got")
                         .Register(r)
                         .Add({})),
        lag(prometheus::BuildGauge()
                .Name("floodwarn_forecast_lag_seconds")
                .Help("When the last cycle ended, how far behind its issue time it was")
                .Register(r)
                .Add({})),
        available(prometheus::BuildGauge()
                      .Name("floodwarn_forecast_available")
                      .Help("1 when the last cycle gave a forecast, 0 when it did not")
                      .Register(r)
                      .Add({})),
        last_issue(prometheus::BuildGauge()
                       .Name("floodwarn_forecast_last_issue_timestamp_seconds")
                       .Help("Issue time of the newest forecast the engine has (Unix s)")
                       .Register(r)
                       .Add({})),
        skill_bias(prometheus::BuildGauge()
                       .Name("floodwarn_forecast_skill_bias_meters")
                       .Help("Analysis minus observed water level at a gauge, last cycle")
                       .Register(r)),
        skill_rmse(prometheus::BuildGauge()
                       .Name("floodwarn_forecast_skill_rmse_meters")
                       .Help("RMSE of the analysis against a gauge's levels, last cycle")
                       .Register(r)) {}

  static double Seconds(TimePoint t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  }

  void Count(const forecast::CycleStatus& st) {
    cycles.Add({{"status", st.status}}).Increment();
    duration.Set(st.duration_s);
    lead_reached.Set(st.lead_time_reached_s);
    lag.Set(Seconds(clock()) - Seconds(st.issue));
  }

  void OnForecast(const forecast::CycleResult& result, TimePoint epoch) override {
    const alerting::ForecastBatch batch = ToForecastBatch(result, epoch);
    engine.OnForecast(batch);
    available.Set(1);
    last_issue.Set(Seconds(batch.issued));
    for (const auto& s : result.skill) {
      if (s.samples == 0) continue;
      skill_bias.Add({{"station", s.gauge}}).Set(s.bias);
      skill_rmse.Add({{"station", s.gauge}}).Set(s.rmse);
    }
    if (loop) Count(loop->latest());
  }

  void OnForecastUnavailable(const std::string& cycle_id, TimePoint issue,
                             const std::string& reason) override {
    engine.OnForecastUnavailable(cycle_id, issue, reason);
    available.Set(0);
    if (loop) Count(loop->latest());
  }
};

ForecastWiring::ForecastWiring(forecast::ForecastConfig config,
                               const ingest::StationRegistry& stations,
                               const ingest::ReadingStore& store, alerting::AlertEngine& engine,
                               prometheus::Registry& registry, std::function<TimePoint()> clock) {
  if (!clock)
    clock = [] {
      return std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::now());
    };
  impl_ = std::make_unique<Impl>(engine, registry, clock);
  forecast::ForecastLoop::Options options;
  options.clock = std::move(clock);
  impl_->loop = std::make_unique<forecast::ForecastLoop>(std::move(config), stations, store, *impl_,
                                                         std::move(options));
}

ForecastWiring::~ForecastWiring() { Stop(); }

void ForecastWiring::Start() { impl_->loop->Start(); }
void ForecastWiring::Stop() { impl_->loop->Stop(); }
forecast::CycleStatus ForecastWiring::latest() const { return impl_->loop->latest(); }

std::optional<alerting::ForecastView> ForecastWiring::View() const {
  const forecast::CycleStatus st = impl_->loop->latest();
  if (st.status == "none") return std::nullopt;
  alerting::ForecastView v;
  v.cycle_id = st.cycle_id;
  v.status = st.status;
  v.reason = st.reason;
  v.issued = st.issue;
  v.duration_s = st.duration_s;
  v.lead_time_reached_s = st.lead_time_reached_s;
  if (!st.result) return v;
  const forecast::CycleResult& r = *st.result;
  const TimePoint epoch = st.epoch;  // model time t is epoch + t
  for (const auto* group : {&r.points, &r.zones}) {
    for (const auto& s : *group) {
      alerting::ForecastView::Series out;
      out.id = s.id;
      for (std::size_t k = 0; k < s.t.size() && k < s.depth.size(); ++k) {
        out.times.push_back(At(epoch, s.t[k]));
        out.depth_m.push_back(s.depth[k]);
      }
      (group == &r.points ? v.points : v.zones).push_back(std::move(out));
    }
  }
  for (const auto& z : r.zone_table)
    v.zone_table.push_back({z.id, z.area, z.max_depth, z.depths, z.max_area_above});
  return v;
}
forecast::ForecastLoop& ForecastWiring::loop() { return *impl_->loop; }

}  // namespace floodwarn::apps
