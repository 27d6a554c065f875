// The alert lifecycle: what the tracks ask for becomes raises, updates and
// all-clears (pending -> active -> acknowledged -> resolved, dedup by rule and
// subject), inhibition and escalation, all into the draft (engine_impl.hpp).

#include <algorithm>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::kRulesActor;
using engine_internal::kSystemActor;
using engine_internal::Num;
using engine_internal::Quote;

void AlertEngine::Impl::Reconcile(Draft& d, TimePoint now, StationState* only) {
  if (only == nullptr) {
    for (auto& [key, t] : tracks) DecideTrack(d, t, now);
    for (auto& [id, st] : stations) ReconcileOutage(d, st, now);
    ReconcileForecastOutage(d, now);
  } else {
    for (const std::string& key : only->track_keys) DecideTrack(d, tracks.at(key), now);
    ReconcileOutage(d, *only, now);
  }
  ReconcileSilenceApproval(d, now);
  ReconcileFlags(d, now);
  ReconcileEscalation(d, now);
}

void AlertEngine::Impl::DecideTrack(Draft& d, Track& t, TimePoint now) {
  if (t.condition == Condition::kUnknown) return;  // an unknown never changes an alert
  const RuleConfig& r = *t.rule;
  const TimePoint at = EvalTime(t, now);
  const Alert* cur = OpenFor(d, t.key);
  const Level committed = cur == nullptr ? 0 : cur->level;
  Level up_target = 0;
  std::optional<TimePoint> pending_since;
  for (Level k = committed + 1; k <= 4; ++k) {
    if (!t.up_since[k]) continue;
    if (at - *t.up_since[k] >= r.min_time_above) {
      up_target = k;
    } else if (!pending_since) {
      pending_since = t.up_since[k];
    }
  }
  if (up_target > committed) {
    t.pending_logged = false;
    ChangeLevel(d, t, cur, up_target, now);
    return;
  }
  if (pending_since && !t.pending_logged) {
    t.pending_logged = true;
    Audit(d, now, kRulesActor, "pending", cur == nullptr ? "" : cur->id,
          fmt::format("rule={} subject={} level_from={} value={} unit={} since_ms={} "
                      "min_time_above={} reason={}",
                      r.id, t.subject, committed, Num(t.value), t.unit,
                      pending_since->time_since_epoch().count(), FormatDuration(r.min_time_above),
                      Quote(t.reason)));
  } else if (!pending_since && t.pending_logged) {
    t.pending_logged = false;
    Audit(d, now, kRulesActor, "pending-cleared", cur == nullptr ? "" : cur->id,
          fmt::format("rule={} subject={} value={} reason={}", r.id, t.subject, Num(t.value),
                      Quote(t.reason)));
  }
  // Down: a level is left once the value has been below its falling
  // threshold for the whole dwell; the alert keeps the highest level not left.
  Level down_target = committed;
  while (down_target > 0 && t.below_since[down_target] &&
         at - *t.below_since[down_target] >= r.min_dwell)
    --down_target;
  if (cur != nullptr && down_target < committed) ChangeLevel(d, t, cur, down_target, now);
}

Alert AlertEngine::Impl::NewAlert(TimePoint now, const std::string& rule_id,
                                  const std::string& subject, RuleKind kind) {
  Alert a;
  a.id = NewId("fw", now);
  a.rule_id = rule_id;
  a.subject = subject;
  a.kind = kind;
  a.mode = rules.engine.mode;
  a.first_seen = now;
  a.incident = a.id;
  return a;
}

void AlertEngine::Impl::ChangeLevel(Draft& d, Track& t, const Alert* cur, Level to, TimePoint now) {
  const RuleConfig& r = *t.rule;
  Alert a;
  const Level from = cur == nullptr ? 0 : cur->level;
  if (cur == nullptr) {
    if (to == 0) return;
    a = NewAlert(now, r.id, t.subject, r.kind);
    a.first_seen = t.up_since[to].value_or(now);
    a.station_id = t.station_id;
    std::string area = r.area;
    if (area.empty() && !t.station_id.empty()) area = stations.at(t.station_id).cfg->area;
    a.area = AreaFor(area);
    a.subject_name = t.station_id.empty() ? t.subject : stations.at(t.station_id).cfg->name;
    a.instruction_de = r.instruction_de;
    a.instruction_en = r.instruction_en;
  } else {
    a = *cur;
  }
  a.value = t.value;
  a.unit = t.unit;
  a.reason = t.reason;
  a.last_change = now;
  if (r.kind == RuleKind::kForecastDepth) a.onset = to > 0 ? t.forecast_onset : TimePoint{};
  if (to < from) {
    const std::string below =
        FormatDuration(EvalTime(t, now) - t.below_since[from].value_or(EvalTime(t, now)));
    const LevelThreshold* fth = Threshold(r, from);
    a.reason = fth != nullptr
                   ? fmt::format("{} {} {} below the falling threshold {} {} of {} for {}", t.what,
                                 Num(t.value), t.unit, Num(fth->falling), t.unit,
                                 LevelLabel(r, from), below)
                   : fmt::format("{}; below {} for {}", t.reason, LevelLabel(r, from), below);
  }
  if (r.kind == RuleKind::kRainfall) {
    if (to > 0) a.threshold = t.threshold;
  } else if (const LevelThreshold* th = Threshold(r, to)) {
    a.threshold = th->rising;
  }
  const std::string detail_from = fmt::format("level_from={} ", from);
  if (cur == nullptr) {
    a.level = to;
    a.state = AlertState::kActive;
    a.activated = now;
    d.new_keys[t.key] = a.id;
    d.escalation_base[a.id] = now;
    CapEvent(d, EventKind::kRaised, CapMsgType::kAlert, now, a, kRulesActor, a.reason);
    Audit(d, now, kRulesActor, "raise", a.id, detail_from + Describe(a));
  } else if (to == 0) {
    a.level = from;  // the all-clear describes what is being cleared
    a.state = AlertState::kResolved;
    a.reason = "all clear: " + a.reason;
    CapEvent(d, EventKind::kResolved, CapMsgType::kCancel, now, a, kRulesActor, a.reason);
    Audit(d, now, kRulesActor, "resolve", a.id, detail_from + Describe(a));
  } else {
    a.level = to;
    if (to > from) {
      // New information: it needs a new acknowledgement and escalates again.
      a.state = AlertState::kActive;
      a.ack.reset();
      a.escalated = false;
      d.escalation_base[a.id] = now;
    }
    CapEvent(d, EventKind::kUpdated, CapMsgType::kUpdate, now, a, kRulesActor,
             fmt::format("level {} -> {}: {}", from, to, a.reason));
    Audit(d, now, kRulesActor, to > from ? "upgrade" : "downgrade", a.id,
          detail_from + Describe(a));
  }
  Put(d, std::move(a));
}

void AlertEngine::Impl::ReconcileFlags(Draft& d, TimePoint now) {
  const auto view = OpenView(d);
  const auto sils = SilenceView(d);
  // The highest-level alert per subject (outage alerts take no part).
  std::map<std::string, const Alert*> top;
  for (const Alert* a : view) {
    if (a->kind == RuleKind::kSensorOutage || a->kind == RuleKind::kForecastOutage) continue;
    const Alert*& t = top[a->subject];
    if (t == nullptr || a->level > t->level) t = a;
  }
  std::vector<Alert> changed;
  for (const Alert* a : view) {
    std::string suppress_reason;
    if (a->kind != RuleKind::kSensorOutage && a->kind != RuleKind::kManual &&
        !a->station_id.empty()) {
      auto it = stations.find(a->station_id);
      if (it != stations.end() && it->second.health != ingest::StationHealth::kOk)
        suppress_reason = fmt::format("sensor outage of station {}", a->station_id);
    }
    if (suppress_reason.empty() && a->kind != RuleKind::kSensorOutage &&
        a->kind != RuleKind::kForecastOutage) {
      const Alert* b = top.at(a->subject);
      if (b->level > a->level)
        suppress_reason =
            fmt::format("inhibited by alert {} (rule {}, level {})", b->id, b->rule_id, b->level);
    }
    std::string silence_id;
    for (const Silence* s : sils)
      if (InEffect(*s, now) &&
          std::find(d.expired_silences.begin(), d.expired_silences.end(), s->id) ==
              d.expired_silences.end() &&
          SilenceMatches(*s, *a)) {
        silence_id = s->id;
        break;
      }
    const bool suppressed = !suppress_reason.empty();
    const bool silenced = !silence_id.empty();
    if (suppressed == a->suppressed && silenced == a->silenced) continue;
    Alert n = *a;
    if (suppressed != n.suppressed) {
      n.suppressed = suppressed;
      const std::string note =
          suppressed ? suppress_reason : "inhibition ended (no higher level, sensor reporting)";
      Event(d, suppressed ? EventKind::kSuppressed : EventKind::kUnsuppressed, now, n, kSystemActor,
            note);
      Audit(d, now, kSystemActor, suppressed ? "suppress" : "unsuppress", n.id,
            fmt::format("rule={} subject={} level={} note={}", n.rule_id, n.subject, n.level,
                        Quote(note)));
    }
    if (silenced != n.silenced) {
      n.silenced = silenced;
      const std::string note =
          silenced ? fmt::format("silenced by {}", silence_id) : std::string("silence ended");
      Event(d, silenced ? EventKind::kSuppressed : EventKind::kUnsuppressed, now, n, kSystemActor,
            note);
      Audit(d, now, kSystemActor, silenced ? "silenced" : "unsilenced", n.id,
            fmt::format("rule={} subject={} level={} note={}", n.rule_id, n.subject, n.level,
                        Quote(note)));
    }
    // A message of this same step (raise, level change) carries the flags it
    // is sent with: a channel reading the raise of an alert that is born
    // inhibited or silenced must not fire for it.
    for (AlertEvent& e : d.cs.events)
      if (e.alert.id == n.id && !e.cap_xml.empty()) {
        e.alert.suppressed = n.suppressed;
        e.alert.silenced = n.silenced;
      }
    changed.push_back(std::move(n));
  }
  for (Alert& a : changed) Put(d, std::move(a));
}

std::optional<Duration> AlertEngine::Impl::EscalationAfter(const Alert& a) const {
  auto it = rule_by_id.find(a.rule_id);
  if (it != rule_by_id.end()) return it->second->escalation_after;
  return rules.engine.escalation_after;
}

void AlertEngine::Impl::ReconcileEscalation(Draft& d, TimePoint now) {
  std::vector<Alert> changed;
  for (const Alert* a : OpenView(d)) {
    if (a->state != AlertState::kActive || a->escalated || a->suppressed || a->silenced) continue;
    const auto after = EscalationAfter(*a);
    if (!after) continue;
    TimePoint base = a->activated;
    if (auto it = d.escalation_base.find(a->id); it != d.escalation_base.end()) {
      base = it->second;
    } else if (auto jt = escalation_base.find(a->id); jt != escalation_base.end()) {
      base = jt->second;
    }
    if (now - base < *after) continue;
    Alert n = *a;
    n.escalated = true;
    const std::string note =
        fmt::format("channel={} not acknowledged within {} (level {})",
                    rules.engine.escalation_channel, FormatDuration(*after), n.level);
    Event(d, EventKind::kEscalated, now, n, kSystemActor, note);
    Audit(d, now, kSystemActor, "escalate", n.id,
          fmt::format("rule={} subject={} level={} note={}", n.rule_id, n.subject, n.level,
                      Quote(note)));
    changed.push_back(std::move(n));
  }
  for (Alert& a : changed) Put(d, std::move(a));
}

Area AlertEngine::Impl::AreaFor(const std::string& area_id) const {
  const Area* a = rules.FindArea(area_id);
  return a == nullptr ? Area{} : *a;
}

TimePoint AlertEngine::Impl::EvalTime(const Track& t, TimePoint now) const {
  if (t.data_interval.count() == 0) return now;
  return std::min(now, t.data_time + t.data_interval);
}

void AlertEngine::Impl::ResolveBySystem(Draft& d, const Alert& cur, const std::string& reason,
                                        TimePoint now) {
  Alert a = cur;
  a.state = AlertState::kResolved;
  a.last_change = now;
  a.reason = reason;
  CapEvent(d, EventKind::kResolved, CapMsgType::kCancel, now, a, kSystemActor, a.reason);
  Audit(d, now, kSystemActor, "resolve", a.id, Describe(a));
  Put(d, std::move(a));
}

}  // namespace floodwarn::alerting
