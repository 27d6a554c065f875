// Station health: stale and failing stations (ingest's health events, and
// the engine's own check of its stations), their rules reported unknown, and
// the sensor-outage alerts (engine_impl.hpp).

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::Key;
using engine_internal::kOutageRule;
using engine_internal::kSystemActor;
using engine_internal::Quote;

void AlertEngine::Impl::SetHealth(Draft& d, StationState& st, ingest::StationHealth h,
                                  const std::string& reason, TimePoint at,
                                  const std::string& actor) {
  if (st.health == h) {
    st.health_reason = reason;
    return;
  }
  Audit(d, at, actor, "station-health", "",
        fmt::format("station={} from={} to={} reason={}", st.cfg->id(), ingest::ToString(st.health),
                    ingest::ToString(h), Quote(reason)));
  spdlog::info("alert_engine event=station_health station={} from={} to={} reason={}", st.cfg->id(),
               ingest::ToString(st.health), ingest::ToString(h), Quote(reason));
  st.health = h;
  st.health_reason = reason;
  st.health_since = at;
  if (h == ingest::StationHealth::kOk) {
    // Re-evaluate from the next reading: the history before the outage may
    // be far in the past. Keep it for rain sums and rises (gaps say unknown).
    st.fresh_since = at;
    for (const std::string& key : st.track_keys) {
      Track& t = tracks.at(key);
      if (t.rule->per_area) {
        EvaluateAreaRain(t);  // the other stations still count
      } else {
        SetUnknown(t, "waiting for a reading after the outage");
      }
    }
  } else {
    for (const std::string& key : st.track_keys) {
      Track& t = tracks.at(key);
      if (t.rule->per_area) {
        EvaluateAreaRain(t);
      } else {
        SetUnknown(t, fmt::format("sensor outage: {}", reason));
      }
    }
  }
}

void AlertEngine::Impl::DetectStale(Draft& d, TimePoint now) {
  for (auto& [id, st] : stations) {
    if (st.health != ingest::StationHealth::kOk) continue;
    const TimePoint since =
        st.has_reading ? std::max(st.last_observed, st.fresh_since) : st.fresh_since;
    if (now - since > st.cfg->stale_after()) {
      SetHealth(d, st, ingest::StationHealth::kStale,
                fmt::format("no usable reading for {} (expected every {})",
                            FormatDuration(now - since), FormatDuration(st.cfg->interval())),
                now, kSystemActor);
    }
  }
}

void AlertEngine::Impl::ReconcileOutage(Draft& d, StationState& st, TimePoint now) {
  {
    const std::string& id = st.cfg->id();
    const std::string key = Key(kOutageRule, id);
    const Alert* cur = OpenFor(d, key);
    const bool out = st.health != ingest::StationHealth::kOk;
    if (out && cur == nullptr) {
      Alert a = NewAlert(now, kOutageRule, id, RuleKind::kSensorOutage);
      a.first_seen = st.health_since;
      a.station_id = id;
      a.subject_name = st.cfg->name;
      a.area = AreaFor(st.cfg->area);
      a.level = rules.engine.outage_level;
      a.state = AlertState::kActive;
      a.activated = now;
      a.last_change = now;
      a.value = std::nan("");
      a.threshold = std::nan("");
      a.reason =
          fmt::format("{}: {}", st.health == ingest::StationHealth::kFailing ? "failing" : "stale",
                      st.health_reason);
      d.new_keys[key] = a.id;
      d.escalation_base[a.id] = now;
      CapEvent(d, EventKind::kRaised, CapMsgType::kAlert, now, a, kSystemActor, a.reason);
      Audit(d, now, kSystemActor, "raise", a.id, "level_from=0 " + Describe(a));
      Put(d, std::move(a));
    } else if (!out && cur != nullptr) {
      ResolveBySystem(d, *cur, "station reporting again", now);
    }
  }
}

void AlertEngine::OnStationHealth(const ingest::StationHealthEvent& event) {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    auto it = m.stations.find(event.station_id);
    if (it == m.stations.end()) return;
    Impl::StationState& st = it->second;
    Impl::Draft d;
    const std::string reason =
        event.reason.empty()
            ? std::string(event.health == ingest::StationHealth::kOk ? "ok" : "reported by ingest")
            : event.reason;
    // Ingest's verdict, in ingest's health states (the engine's own).
    m.SetHealth(d, st, event.health, reason, now, kSystemActor);
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

}  // namespace floodwarn::alerting
