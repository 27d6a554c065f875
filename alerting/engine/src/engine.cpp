// The alert engine (engine.hpp): its public inputs and queries, and the
// setup. docs/alerting/RULES.md describes the lifecycle, hysteresis,
// inhibition, escalation, silences and modes; engine_impl.hpp says which
// file holds which step.
#include "floodwarn/alerting/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::Key;
using engine_internal::kManualRule;
using engine_internal::kOutageRule;
using engine_internal::kSystemActor;

AlertEngine::AlertEngine(RulesConfig rules, AlertStore& store, CapProfile cap, Clock clock)
    : impl_(std::make_unique<Impl>(std::move(rules), store, std::move(cap), std::move(clock))) {
  impl_->Init();
}

AlertEngine::~AlertEngine() = default;

void AlertEngine::AddCommitListener(CommitListener listener) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  impl_->listeners.push_back(std::move(listener));
}

void AlertEngine::Impl::Init() {
  const TimePoint now = clock();
  for (const StationEntry& s : rules.stations) {
    StationState st;
    st.cfg = &s;
    st.fresh_since = now;
    st.keep = 2 * s.stale_after();
    stations.emplace(s.id(), std::move(st));
  }
  for (const RuleConfig& r : rules.rules) {
    rule_by_id[r.id] = &r;
    if (r.per_area) {
      Track t;
      t.rule = &r;
      t.subject = r.area;
      t.key = Key(r.id, r.area);
      t.unit = "mm";
      t.area_stations = r.stations;
      for (const std::string& sid : r.stations) {
        StationState& st = stations.at(sid);
        st.track_keys.push_back(t.key);
        for (const RainClass& c : r.rain_classes)
          st.keep = std::max(st.keep, c.window + 2 * st.cfg->stale_after());
      }
      tracks.emplace(t.key, std::move(t));
      continue;
    }
    const auto& subjects = r.kind == RuleKind::kForecastDepth ? r.targets : r.stations;
    for (const std::string& subject : subjects) {
      Track t;
      t.rule = &r;
      t.subject = subject;
      t.key = Key(r.id, subject);
      if (r.kind != RuleKind::kForecastDepth) {
        t.station_id = subject;
        StationState& st = stations.at(subject);
        st.track_keys.push_back(t.key);
        t.unit = st.cfg->unit();
        Duration need = r.kind == RuleKind::kRateOfRise ? r.window : Duration{0};
        for (const RainClass& c : r.rain_classes) need = std::max(need, c.window);
        st.keep = std::max(st.keep, need + 2 * st.cfg->stale_after());
      } else {
        t.unit = "m";
        t.reason = "no forecast yet";
      }
      tracks.emplace(t.key, std::move(t));
    }
  }
  // Continue what the last process committed.
  for (Alert& a : store.LoadOpenAlerts()) {
    const std::string key = Key(a.rule_id, a.subject);
    if (a.rule_id != kManualRule && a.rule_id != kOutageRule &&
        a.rule_id != engine_internal::kForecastOutageRule && tracks.count(key) == 0)
      spdlog::warn(
          "alert_engine event=orphan_alert alert_id={} rule_id={} subject={} msg=\"rule or "
          "subject no longer configured; the alert stays open until an operator resolves it "
          "(ResolveManual)\"",
          a.id, a.rule_id, a.subject);
    if (a.rule_id == engine_internal::kForecastOutageRule) {
      // The outage continues until a forecast arrives.
      forecast_supply.out = true;
      forecast_supply.reason = "outage continued from before the restart";
      forecast_supply.since = now;
      for (auto& [k, t] : tracks)
        if (t.rule->kind == RuleKind::kForecastDepth)
          t.reason = "forecast outage (before the restart)";
    }
    if (a.rule_id == kOutageRule) {
      // The outage continues until the station proves itself again.
      auto it = stations.find(a.subject);
      if (it != stations.end()) {
        it->second.health = ingest::StationHealth::kStale;
        it->second.health_reason = "outage continued from before the restart";
        it->second.health_since = now;
      }
    }
    escalation_base[a.id] =
        a.state == AlertState::kActive && a.messages.size() > 1 ? a.last_change : a.activated;
    by_key[key] = a.id;
    open.emplace(a.id, std::move(a));
  }
  for (Silence& s : store.LoadSilences()) {
    if (s.removed || s.expires <= now) continue;
    silences.emplace(s.id, std::move(s));
  }
  for (auto& [key, t] : tracks)
    if (!t.station_id.empty() && stations.at(t.station_id).health != ingest::StationHealth::kOk) {
      t.condition = Condition::kUnknown;
      t.reason = "sensor outage";
    }
  spdlog::info("alert_engine event=start rules={} stations={} open_alerts={} silences={} mode={}",
               rules.rules.size(), rules.stations.size(), open.size(), silences.size(),
               ToString(rules.engine.mode));
}

// --- inputs ------------------------------------------------------------------

void AlertEngine::OnReading(const ingest::Reading& reading) {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    bool out_of_order = false;
    Impl::StationState* stp = m.Insert(reading, now, &out_of_order);
    if (stp == nullptr) return;
    Impl::StationState& st = *stp;
    Impl::Draft d;
    // A fresh reading ends a staleness (not a "failing" verdict from ingest,
    // which only ingest's kOk ends).
    if (st.health == ingest::StationHealth::kStale && !out_of_order &&
        now - reading.observed <= st.cfg->stale_after()) {
      m.SetHealth(d, st, ingest::StationHealth::kOk, "reading received", now, kSystemActor);
    }
    m.EvaluateStation(d, st);
    m.Reconcile(d, now, &st);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

std::size_t AlertEngine::Preload(const std::vector<ingest::Reading>& readings) {
  Impl& m = *impl_;
  std::vector<const ingest::Reading*> sorted;
  sorted.reserve(readings.size());
  for (const auto& r : readings) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->observed < b->observed; });
  std::vector<AlertEvent> committed;
  std::size_t used = 0;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    Impl::Draft d;
    // Each reading is evaluated as it came (the timers advance in data
    // time), but nothing is decided until all are in.
    for (const ingest::Reading* r : sorted) {
      bool out_of_order = false;
      Impl::StationState* st = m.Insert(*r, now, &out_of_order);
      if (st == nullptr) continue;
      ++used;
      m.EvaluateStation(d, *st);
    }
    for (auto& [key, t] : m.tracks) t.pending_logged = false;
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  spdlog::info("alert_engine event=preload readings={} used={} events={}", readings.size(), used,
               committed.size());
  m.Notify(committed);
  return used;
}

std::vector<std::pair<std::string, Duration>> AlertEngine::PreloadWindows() const {
  const Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  std::vector<std::pair<std::string, Duration>> out;
  for (const auto& [id, st] : m.stations) {
    Duration need = st.keep;
    for (const std::string& key : st.track_keys) {
      const RuleConfig& r = *m.tracks.at(key).rule;
      need = std::max(
          {need, r.min_time_above + st.cfg->stale_after(), r.min_dwell + st.cfg->stale_after()});
    }
    out.emplace_back(id, need);
  }
  return out;
}

void AlertEngine::OnForecast(const ForecastBatch& batch) {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    Impl::Draft d;
    m.EvaluateForecast(batch, d, now);
    m.ForecastArrived(d, batch.run_id, now);
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

void AlertEngine::Tick() {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    Impl::Draft d;
    m.DetectStale(d, now);
    m.TickForecasts(now);
    m.DetectForecastSilence(d, now);
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

// --- queries -----------------------------------------------------------------

std::vector<Alert> AlertEngine::ListActive(const AlertFilter& filter) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<Alert> out;
  for (const auto& [id, a] : impl_->open)
    if (Matches(filter, a)) out.push_back(a);
  if (filter.include_resolved)
    for (const Alert& a : impl_->recent_resolved)
      if (Matches(filter, a)) out.push_back(a);
  return out;
}

std::optional<Alert> AlertEngine::GetAlert(const std::string& id) const {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->open.find(id);
    if (it != impl_->open.end()) return it->second;
    for (auto r = impl_->recent_resolved.rbegin(); r != impl_->recent_resolved.rend(); ++r)
      if (r->id == id) return *r;
  }
  return impl_->store.GetAlert(id);
}

std::vector<Silence> AlertEngine::ListSilences() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<Silence> out;
  for (const auto& [id, s] : impl_->silences) out.push_back(s);
  return out;
}

std::vector<AlertEngine::SubjectStatus> AlertEngine::Status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<SubjectStatus> out;
  Impl::Draft none;
  for (const auto& [key, t] : impl_->tracks) {
    SubjectStatus s;
    s.rule_id = t.rule->id;
    s.subject = t.subject;
    s.kind = t.rule->kind;
    s.condition = t.condition;
    s.level = t.condition == Condition::kUnknown ? impl_->CommittedLevel(none, t) : t.desired;
    s.reason = t.reason;
    for (Level k = 4; k >= 1; --k)
      if (t.condition != Condition::kUnknown && t.up_since[k] &&
          k > impl_->CommittedLevel(none, t)) {
        s.reason += fmt::format(" (pending level {} since {} ms)", k,
                                t.up_since[k]->time_since_epoch().count());
        break;
      }
    out.push_back(std::move(s));
  }
  return out;
}

const RulesConfig& AlertEngine::rules() const { return impl_->rules; }

AlertEngine::Stats AlertEngine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counters;
}

}  // namespace floodwarn::alerting
