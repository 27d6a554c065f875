// Rule evaluation: readings into the station histories, and what each rule
// asks for now (levels with hysteresis, rate of rise, rain windows, forecast
// depths) into its track. Input-derived state only: nothing here is committed
// (engine_impl.hpp).

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::kMaxFuture;
using engine_internal::Num;
using engine_internal::Quote;

AlertEngine::Impl::StationState* AlertEngine::Impl::Insert(const ingest::Reading& reading,
                                                           TimePoint now, bool* out_of_order_out) {
  auto it = stations.find(reading.station_id);
  if (it == stations.end()) {  // not a station any rule watches
    ++counters.readings_ignored_station;
    return nullptr;
  }
  StationState& st = it->second;
  const auto flag = reading.flag;
  if (flag == ingest::QcFlag::kFail || flag == ingest::QcFlag::kMissing ||
      (flag == ingest::QcFlag::kSuspect && !rules.engine.use_suspect_readings) ||
      !std::isfinite(reading.value)) {
    spdlog::debug("alert_engine event=reading_ignored station={} flag={} reason={}",
                  reading.station_id, ingest::ToString(flag), Quote(reading.reason));
    ++counters.readings_ignored_flag;
    return nullptr;
  }
  if (reading.quantity != st.cfg->station.kind) {
    spdlog::warn(
        "alert_engine event=reading_ignored station={} msg=\"quantity {} but the "
        "station is configured as {}\"",
        reading.station_id, ingest::ToString(reading.quantity),
        ingest::ToString(st.cfg->station.kind));
    ++counters.readings_ignored_unit;
    return nullptr;
  }
  const auto value = ConvertUnit(reading.value, reading.unit, st.cfg->unit());
  if (!value) {
    spdlog::warn(
        "alert_engine event=reading_ignored station={} msg=\"unit {} cannot be "
        "converted to the station's unit {}\"",
        reading.station_id, reading.unit, st.cfg->unit());
    ++counters.readings_ignored_unit;
    return nullptr;
  }
  if (reading.observed > now + kMaxFuture) {
    spdlog::warn(
        "alert_engine event=reading_ignored station={} msg=\"observed {} ms in the "
        "future\"",
        reading.station_id, (reading.observed - now).count());
    ++counters.readings_ignored_future;
    return nullptr;
  }
  // Insert in time order; an equal time replaces (a correction).
  auto pos = std::lower_bound(st.history.begin(), st.history.end(), reading.observed,
                              [](const Sample& s, TimePoint t) { return s.observed < t; });
  const bool out_of_order = st.has_reading && reading.observed < st.last_observed;
  *out_of_order_out = out_of_order;
  ++counters.readings_used;
  if (out_of_order) ++counters.readings_out_of_order;
  if (pos != st.history.end() && pos->observed == reading.observed) {
    pos->value = *value;
  } else {
    st.history.insert(pos, Sample{reading.observed, *value});
  }
  if (!out_of_order) {
    st.last_observed = reading.observed;
    st.has_reading = true;
  }
  const TimePoint horizon = st.last_observed - st.keep;
  st.history.erase(st.history.begin(),
                   std::find_if(st.history.begin(), st.history.end(),
                                [&](const Sample& s) { return s.observed >= horizon; }));
  return &st;
}

void AlertEngine::Impl::EvaluateStation(const Draft& d, StationState& st) {
  for (const std::string& key : st.track_keys) EvaluateObserved(d, tracks.at(key), st);
}

void AlertEngine::Impl::EvaluateObserved(const Draft& d, Track& t, const StationState& st) {
  if (t.rule->per_area) {
    EvaluateAreaRain(t);
    return;
  }
  t.data_interval = st.cfg->interval();
  if (st.health != ingest::StationHealth::kOk) {
    SetUnknown(t, fmt::format("sensor outage: {}", st.health_reason));
    return;
  }
  if (!st.has_reading) {
    SetUnknown(t, "no reading yet");
    return;
  }
  const RuleConfig& r = *t.rule;
  const TimePoint at = st.last_observed;
  const Level committed = CommittedLevel(d, t);
  if (r.kind == RuleKind::kRainfall) {
    const RainEvaluation e = EvaluateRain(r.rain_classes, st.history, at, st.cfg->interval());
    if (e.condition == Condition::kUnknown) {
      SetUnknown(t, e.reason);
      return;
    }
    t.value = e.value;
    t.threshold = e.threshold;
    t.reason = e.reason;
    if (e.level == 0) {
      t.value =
          RainSum(st.history, at, std::chrono::hours(1), st.cfg->interval()).value_or(std::nan(""));
    }
    Observe(t, e.level, e.level, at);
    return;
  }
  double v = st.history.back().value;
  std::string what = "level";
  if (r.kind == RuleKind::kRateOfRise) {
    const auto rise = RiseOver(st.history, at, r.window, st.cfg->stale_after());
    if (!rise) {
      SetUnknown(t, fmt::format("no complete data for the rise over {}", FormatDuration(r.window)));
      return;
    }
    v = *rise;
    what = fmt::format("rise over {}", FormatDuration(r.window));
  }
  t.what = what;
  const Level up = EvaluateLevel(r.levels, 0, v);
  const Level held = EvaluateLevel(r.levels, committed, v);
  t.value = v;
  const Level shown = std::max(up, held);
  const LevelThreshold* th = Threshold(r, shown > 0 ? shown : r.levels.front().level);
  t.threshold = th->rising;
  if (shown > 0) {
    t.reason = shown > up ? fmt::format("{} {} {} >= {} {} (falling threshold of {})", what, Num(v),
                                        t.unit, Num(th->falling), t.unit, th->label)
                          : fmt::format("{} {} {} >= {} {} ({})", what, Num(v), t.unit,
                                        Num(th->rising), t.unit, th->label);
  } else {
    t.reason = fmt::format("{} {} {} below {} {} ({})", what, Num(v), t.unit, Num(th->rising),
                           t.unit, th->label);
  }
  Observe(t, up, held, at);
}

void AlertEngine::Impl::EvaluateAreaRain(Track& t) {
  const RuleConfig& r = *t.rule;
  RainEvaluation best;
  std::string best_station;
  std::vector<std::string> unknown;
  TimePoint latest{};
  Duration interval{};
  for (const std::string& sid : t.area_stations) {
    const StationState& st = stations.at(sid);
    if (st.health != ingest::StationHealth::kOk || !st.has_reading) {
      unknown.push_back(sid);
      continue;
    }
    latest = std::max(latest, st.last_observed);
    interval = std::max(interval, st.cfg->interval());
    const RainEvaluation e =
        EvaluateRain(r.rain_classes, st.history, st.last_observed, st.cfg->interval());
    if (e.condition == Condition::kUnknown) {
      unknown.push_back(sid);
      continue;
    }
    if (best_station.empty() || e.level > best.level) {
      best = e;
      best_station = sid;
    }
  }
  std::string unknown_list;
  for (const auto& u : unknown) unknown_list += (unknown_list.empty() ? "" : ", ") + u;
  if (best.level == 0 && !unknown.empty()) {
    SetUnknown(t, fmt::format("no complete rain data from station(s) {}", unknown_list));
    return;
  }
  t.value = best.level > 0 ? best.value : std::nan("");
  t.threshold = best.level > 0 ? best.threshold : std::nan("");
  t.reason = best.level > 0 ? fmt::format("station {}: {}", best_station, best.reason)
                            : fmt::format("all stations below the classes ({}: {})", best_station,
                                          best.reason);
  if (!unknown.empty()) t.reason += fmt::format("; unknown: {}", unknown_list);
  t.data_interval = interval;
  Observe(t, best.level, best.level, latest);
}

void AlertEngine::Impl::EvaluateForecast(const ForecastBatch& batch, const Draft& d,
                                         TimePoint now) {
  for (auto& [key, t] : tracks) {
    const RuleConfig& r = *t.rule;
    if (r.kind != RuleKind::kForecastDepth) continue;
    if (t.has_forecast && batch.issued < t.forecast_issued) continue;  // an older run
    double max_depth = -1.0;
    TimePoint when{};
    bool any = false;
    for (const ForecastValue& v : batch.values) {
      if (v.target_id != t.subject || !std::isfinite(v.depth_m)) continue;
      if (v.valid_at < batch.issued || v.valid_at > batch.issued + r.lead_time) continue;
      any = true;
      if (v.depth_m > max_depth) {
        max_depth = v.depth_m;
        when = v.valid_at;
      }
    }
    if (!any) continue;  // this batch says nothing about the target
    t.has_forecast = true;
    t.forecast_issued = batch.issued;
    t.forecast_run = batch.run_id;
    const Level committed_level = CommittedLevel(d, t);
    const Level up = EvaluateLevel(r.levels, 0, max_depth);
    const Level held = EvaluateLevel(r.levels, committed_level, max_depth);
    const Level shown = std::max(up, held);
    const LevelThreshold* th = Threshold(r, shown > 0 ? shown : r.levels.front().level);
    // Onset: the earliest time in the window at which the forecast reaches
    // the threshold that holds the shown level (rising, or falling while
    // the hysteresis holds it).
    const double onset_depth = shown > up ? th->falling : th->rising;
    t.forecast_onset = TimePoint{};
    for (const ForecastValue& v : batch.values) {
      if (v.target_id != t.subject || !std::isfinite(v.depth_m) || v.depth_m < onset_depth)
        continue;
      if (v.valid_at < batch.issued || v.valid_at > batch.issued + r.lead_time) continue;
      if (t.forecast_onset == TimePoint{} || v.valid_at < t.forecast_onset)
        t.forecast_onset = v.valid_at;
    }
    t.value = max_depth;
    t.threshold = th->rising;
    t.reason = fmt::format("forecast {}: max depth {} m within {} (at +{}) {} {} m ({})",
                           batch.run_id, Num(max_depth), FormatDuration(r.lead_time),
                           FormatDuration(when - batch.issued), shown > 0 ? ">=" : "below",
                           Num(shown > up ? th->falling : th->rising), th->label);
    t.what = "forecast max depth";
    Observe(t, up, held, now);
  }
}

void AlertEngine::Impl::TickForecasts(TimePoint now) {
  for (auto& [key, t] : tracks) {
    if (t.rule->kind != RuleKind::kForecastDepth || !t.has_forecast) continue;
    if (t.condition != Condition::kUnknown && now - t.forecast_issued > t.rule->max_age)
      SetUnknown(
          t, fmt::format("forecast {} issued {} ago (max_age {})", t.forecast_run,
                         FormatDuration(now - t.forecast_issued), FormatDuration(t.rule->max_age)));
  }
}

Level AlertEngine::Impl::CommittedLevel(const Draft& d, const Track& t) const {
  const Alert* a = OpenFor(d, t.key);
  return a == nullptr ? 0 : a->level;
}

void AlertEngine::Impl::SetUnknown(Track& t, const std::string& reason) {
  t.condition = Condition::kUnknown;
  t.reason = reason;
  t.up_since.fill(std::nullopt);
  t.below_since.fill(std::nullopt);
  t.pending_logged = false;
}

void AlertEngine::Impl::Observe(Track& t, Level up, Level held, TimePoint at) {
  t.desired = std::max(up, held);
  for (Level k = 1; k <= 4; ++k) {
    if (k <= up) {
      if (!t.up_since[k]) t.up_since[k] = at;
    } else {
      t.up_since[k].reset();
    }
    if (t.desired < k) {
      if (!t.below_since[k]) t.below_since[k] = at;
    } else {
      t.below_since[k].reset();
    }
  }
  t.condition = t.desired > 0 ? Condition::kRaised : Condition::kClear;
  t.data_time = at;
}

std::string AlertEngine::Impl::LevelLabel(const RuleConfig& r, Level level) {
  for (const auto& l : r.levels)
    if (l.level == level) return l.label;
  for (const auto& c : r.rain_classes)
    if (c.level == level) return c.label;
  return fmt::format("level {}", level);
}

const LevelThreshold* AlertEngine::Impl::Threshold(const RuleConfig& r, Level level) {
  for (const auto& l : r.levels)
    if (l.level == level) return &l;
  return nullptr;
}

}  // namespace floodwarn::alerting
