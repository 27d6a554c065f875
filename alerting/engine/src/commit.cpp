// The engine's one core: every step fills a Draft, and Commit() writes it
// with its outbox events (CAP XML for raise/update/resolve) and audit entries
// in ONE AlertStore::Apply; only then is the committed state replaced and are
// the commit listeners told (engine_impl.hpp).

#include <spdlog/spdlog.h>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::Key;
using engine_internal::kRecentResolved;
using engine_internal::Num;
using engine_internal::Quote;

const Alert* AlertEngine::Impl::Current(const Draft& d, const std::string& id) const {
  auto it = d.alerts.find(id);
  if (it != d.alerts.end()) return &it->second;
  auto jt = open.find(id);
  return jt == open.end() ? nullptr : &jt->second;
}

const Alert* AlertEngine::Impl::OpenFor(const Draft& d, const std::string& key) const {
  std::string id;
  auto it = d.new_keys.find(key);
  if (it != d.new_keys.end()) {
    id = it->second;
  } else {
    auto jt = by_key.find(key);
    if (jt == by_key.end()) return nullptr;
    id = jt->second;
  }
  const Alert* a = Current(d, id);
  if (a == nullptr || a->state == AlertState::kResolved) return nullptr;
  return a;
}

std::vector<const Alert*> AlertEngine::Impl::OpenView(const Draft& d) const {
  std::vector<const Alert*> out;
  for (const auto& [id, a] : open) {
    const Alert* cur = Current(d, id);
    if (cur->state != AlertState::kResolved) out.push_back(cur);
  }
  for (const auto& [id, a] : d.alerts)
    if (open.count(id) == 0 && a.state != AlertState::kResolved) out.push_back(&a);
  return out;
}

const Silence* AlertEngine::Impl::CurrentSilence(const Draft& d, const std::string& id) const {
  auto it = d.silences.find(id);
  if (it != d.silences.end()) return &it->second;
  auto jt = silences.find(id);
  return jt == silences.end() ? nullptr : &jt->second;
}

std::vector<const Silence*> AlertEngine::Impl::SilenceView(const Draft& d) const {
  std::vector<const Silence*> out;
  for (const auto& [id, s] : silences) out.push_back(CurrentSilence(d, id));
  for (const auto& [id, s] : d.silences)
    if (silences.count(id) == 0) out.push_back(&s);
  return out;
}

void AlertEngine::Impl::Put(Draft& d, Alert a) {
  const std::string id = a.id;
  d.alerts[id] = std::move(a);
}

void AlertEngine::Impl::Audit(Draft& d, TimePoint now, const std::string& actor,
                              const std::string& action, const std::string& alert_id,
                              const std::string& detail) {
  AuditEntry e;
  e.at = now;
  e.actor = actor;
  e.action = action;
  e.alert_id = alert_id;
  e.detail = detail;
  d.cs.audit.push_back(std::move(e));
}

void AlertEngine::Impl::Event(Draft& d, EventKind kind, TimePoint now, const Alert& a,
                              const std::string& actor, const std::string& note) {
  AlertEvent e;
  e.kind = kind;
  e.at = now;
  e.alert = a;
  e.actor = actor;
  e.note = note;
  d.cs.events.push_back(std::move(e));
}

void AlertEngine::Impl::CapEvent(Draft& d, EventKind kind, CapMsgType type, TimePoint now, Alert& a,
                                 const std::string& actor, const std::string& note) {
  CapMessage m;
  m.identifier = MakeCapIdentifier(cap, a, a.messages.size());
  m.sent = now;
  m.msg_type = type;
  m.references = a.messages;
  if (a.mode == Mode::kExercise) m.note = rules.engine.exercise_id;
  a.expires = now + cap.default_validity;
  const std::string xml = ToCapXml(cap, m, a);
  a.messages.push_back(MessageRef{cap.sender, m.identifier, now});
  AlertEvent e;
  e.kind = kind;
  e.at = now;
  e.alert = a;
  e.actor = actor;
  e.note = note;
  e.cap_xml = xml;
  e.cap_identifier = m.identifier;
  d.cs.events.push_back(std::move(e));
}

std::string AlertEngine::Impl::NewId(const char* prefix, TimePoint now) {
  return fmt::format("{}.{:x}.{:016x}", prefix,
                     static_cast<std::uint64_t>(now.time_since_epoch().count()), rng());
}

std::string AlertEngine::Impl::Describe(const Alert& a) const {
  return fmt::format(
      "rule={} subject={} kind={} level={} state={} mode={} value={} threshold={} "
      "unit={} reason={}",
      a.rule_id, a.subject, ToString(a.kind), a.level, ToString(a.state), ToString(a.mode),
      Num(a.value), Num(a.threshold), a.unit, Quote(a.reason));
}

bool AlertEngine::Impl::Commit(Draft& d, std::vector<AlertEvent>* committed) {
  for (auto& [id, a] : d.alerts) d.cs.alerts.push_back(a);
  for (auto& [id, s] : d.silences) d.cs.silences.push_back(s);
  if (d.Empty()) return true;
  Result<std::vector<AlertEvent>> r = store.Apply(d.cs);
  if (r.ok()) ++counters.commits;
  if (!r.ok()) {
    ++commit_failures;
    ++counters.commit_failures;
    spdlog::error(
        "alert_engine event=commit_failed error={} msg={} alerts={} events={} audit={} "
        "failures={} action=\"kept previous state; the change is derived again by the next "
        "reading of the station or tick\"",
        ToString(r.error.code), Quote(r.error.message), d.cs.alerts.size(), d.cs.events.size(),
        d.cs.audit.size(), commit_failures);
    return false;
  }
  for (auto& [id, a] : d.alerts) {
    const std::string key = Key(a.rule_id, a.subject);
    if (a.state == AlertState::kResolved) {
      open.erase(id);
      auto it = by_key.find(key);
      if (it != by_key.end() && it->second == id) by_key.erase(it);
      escalation_base.erase(id);
      recent_resolved.push_back(a);
      if (recent_resolved.size() > kRecentResolved) recent_resolved.pop_front();
    } else {
      open[id] = a;
      by_key[key] = id;
    }
  }
  for (auto& [id, t] : d.escalation_base)
    if (open.count(id)) escalation_base[id] = t;
  for (auto& [id, s] : d.silences) {
    if (s.removed) {
      silences.erase(id);
    } else {
      silences[id] = s;
    }
  }
  for (const std::string& id : d.expired_silences) silences.erase(id);
  for (const AlertEvent& e : *r.value)
    spdlog::info(
        "alert_engine event={} seq={} alert_id={} rule={} subject={} level={} state={} mode={} "
        "suppressed={} silenced={} actor={} cap={} note={}",
        ToString(e.kind), e.sequence, e.alert.id, e.alert.rule_id, e.alert.subject, e.alert.level,
        ToString(e.alert.state), ToString(e.alert.mode), e.alert.suppressed, e.alert.silenced,
        e.actor, e.cap_identifier, Quote(e.note));
  if (committed != nullptr) *committed = std::move(*r.value);
  return true;
}

void AlertEngine::Impl::Notify(const std::vector<AlertEvent>& events) {
  if (events.empty()) return;
  std::vector<CommitListener> copy;
  {
    std::lock_guard<std::mutex> lock(listeners_mu);
    copy = listeners;
  }
  for (const auto& l : copy) l(events);
}

}  // namespace floodwarn::alerting
