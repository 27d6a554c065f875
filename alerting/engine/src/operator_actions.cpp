// Operator actions on alerts: acknowledge, issue or update a manual alert,
// and the manual all-clear (of manual alerts and orphans). Each is one
// Act(): checked, drafted, reconciled and committed (engine_impl.hpp).

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::Key;
using engine_internal::kManualRule;
using engine_internal::Quote;

Result<Alert> AlertEngine::Acknowledge(const std::string& alert_id, const std::string& actor,
                                       const std::string& note) {
  Impl& m = *impl_;
  return m.Act<Alert>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        auto it = m.open.find(alert_id);
        if (it == m.open.end())
          return {ErrorCode::kNotFound, fmt::format("no open alert with id {}", alert_id)};
        if (it->second.state == AlertState::kAcknowledged)
          return {ErrorCode::kFailedPrecondition,
                  fmt::format("alert {} is already acknowledged by {}", alert_id,
                              it->second.ack ? it->second.ack->by : std::string("?"))};
        Alert a = it->second;
        a.state = AlertState::kAcknowledged;
        a.ack = Acknowledgement{actor, note, now};
        a.last_change = now;
        m.Event(d, EventKind::kAcknowledged, now, a, actor, note);
        m.Audit(d, now, actor, "acknowledge", a.id,
                fmt::format("rule={} subject={} level={} note={}", a.rule_id, a.subject, a.level,
                            Quote(note)));
        m.Put(d, a);
        return {};
      },
      [&] { return m.open.at(alert_id); });
}

Result<Alert> AlertEngine::IssueManual(const ManualAlertRequest& req, const std::string& actor) {
  Impl& m = *impl_;
  std::string id;
  return m.Act<Alert>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        if (req.subject.empty()) return Error{ErrorCode::kInvalidArgument, "subject is required"};
        if (req.level < 1 || req.level > 4)
          return Error{ErrorCode::kInvalidArgument, "level must be 1..4"};
        const Area* area = m.rules.FindArea(req.area_id);
        if (area == nullptr)
          return Error{ErrorCode::kInvalidArgument,
                       fmt::format("area_id \"{}\" is not a configured area", req.area_id)};
        if (req.headline_de.empty() && req.headline_en.empty())
          return Error{ErrorCode::kInvalidArgument, "a manual alert needs a headline"};
        const std::string key = Key(kManualRule, req.subject);
        const Alert* cur = m.OpenFor(d, key);
        Alert a =
            cur != nullptr ? *cur : m.NewAlert(now, kManualRule, req.subject, RuleKind::kManual);
        const Level from = cur != nullptr ? cur->level : 0;
        // An exercise or test system never sends Actual; an actual system can send
        // an operator's Test or Exercise message.
        a.mode = m.rules.engine.mode != Mode::kActual ? m.rules.engine.mode : req.mode;
        a.level = req.level;
        a.area = *area;
        a.subject_name = req.subject;
        a.headline_de = req.headline_de;
        a.headline_en = req.headline_en;
        a.description_de = req.description_de;
        a.description_en = req.description_en;
        a.instruction_de = req.instruction_de;
        a.instruction_en = req.instruction_en;
        a.value = std::nan("");
        a.threshold = std::nan("");
        a.reason = fmt::format("issued by {}", actor);
        a.last_change = now;
        if (cur == nullptr) {
          a.state = AlertState::kActive;
          a.activated = now;
          d.new_keys[key] = a.id;
          d.escalation_base[a.id] = now;
          m.CapEvent(d, EventKind::kRaised, CapMsgType::kAlert, now, a, actor, a.reason);
          m.Audit(d, now, actor, "manual-issue", a.id, "level_from=0 " + m.Describe(a));
        } else {
          if (a.level > from) {
            a.state = AlertState::kActive;
            a.ack.reset();
            a.escalated = false;
            d.escalation_base[a.id] = now;
          }
          m.CapEvent(d, EventKind::kUpdated, CapMsgType::kUpdate, now, a, actor,
                     fmt::format("manual update by {}", actor));
          m.Audit(d, now, actor, "manual-update", a.id,
                  fmt::format("level_from={} ", from) + m.Describe(a));
        }
        id = a.id;
        m.Put(d, std::move(a));
        return {};
      },
      [&] { return m.open.at(id); });
}

Result<Alert> AlertEngine::ResolveManual(const std::string& alert_id, const std::string& actor,
                                         const std::string& note) {
  Impl& m = *impl_;
  Alert snapshot;
  return m.Act<Alert>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        auto it = m.open.find(alert_id);
        if (it == m.open.end())
          return Error{ErrorCode::kNotFound, fmt::format("no open alert with id {}", alert_id)};
        // Manual alerts, and orphans: alerts whose rule or station is no longer
        // in the rules file (nothing would ever clear them otherwise).
        const Alert& cur = it->second;
        const bool orphan = cur.kind == RuleKind::kSensorOutage ? m.stations.count(cur.subject) == 0
                            : cur.kind == RuleKind::kForecastOutage
                                ? !m.forecast_supply.expected  // no forecast loop any more
                                : m.tracks.count(Key(cur.rule_id, cur.subject)) == 0;
        if (cur.kind != RuleKind::kManual && !orphan)
          return Error{ErrorCode::kFailedPrecondition,
                       "only manual alerts (and alerts whose rule is no longer configured) are "
                       "resolved by hand; rule alerts clear when their condition has cleared for "
                       "the rule's dwell time"};
        Alert a = it->second;
        a.state = AlertState::kResolved;
        a.last_change = now;
        a.reason = note.empty() ? fmt::format("resolved by {}", actor)
                                : fmt::format("resolved by {}: {}", actor, note);
        m.CapEvent(d, EventKind::kResolved, CapMsgType::kCancel, now, a, actor, note);
        m.Audit(d, now, actor, "manual-resolve", a.id, m.Describe(a));
        snapshot = a;
        m.Put(d, std::move(a));
        return {};
      },
      [&] { return snapshot; });
}

}  // namespace floodwarn::alerting
