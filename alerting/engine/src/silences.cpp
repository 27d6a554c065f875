// Silences: matching, four-eyes approval for level >= 3, expiry, and the
// operator calls that create, approve and remove them (engine_impl.hpp).

#include <algorithm>

#include "engine_impl.hpp"

namespace floodwarn::alerting {

using engine_internal::kManualRule;
using engine_internal::kOutageRule;
using engine_internal::kSystemActor;
using engine_internal::Quote;

bool AlertEngine::Impl::SilenceMatches(const Silence& s, const Alert& a) const {
  if (!s.alert_id.empty()) return s.alert_id == a.id;
  if (!s.station_id.empty()) return s.station_id == a.station_id;
  if (!s.rule_id.empty()) return s.rule_id == a.rule_id;
  return false;
}

bool AlertEngine::Impl::InEffect(const Silence& s, TimePoint now) {
  return !s.removed && now < s.expires && (!s.needs_approval || !s.approved_by.empty());
}

std::string AlertEngine::Impl::SilenceDetail(const Silence& s) const {
  return fmt::format(
      "silence={} alert_id={} station_id={} rule_id={} author={} reason={} expires_ms={} "
      "needs_approval={} approved_by={}",
      s.id, s.alert_id, s.station_id, s.rule_id, s.author, Quote(s.reason),
      s.expires.time_since_epoch().count(), s.needs_approval, s.approved_by);
}

void AlertEngine::Impl::SilenceEvent(Draft& d, TimePoint now, const Silence& s,
                                     const std::string& actor, const std::string& action) {
  Alert about;
  for (const Alert* a : OpenView(d))
    if (SilenceMatches(s, *a)) {
      about = *a;
      break;
    }
  Event(d, EventKind::kSilenceChanged, now, about, actor,
        fmt::format("{} {}", action, SilenceDetail(s)));
  Audit(d, now, actor, "silence-" + action, s.alert_id, SilenceDetail(s));
}

void AlertEngine::Impl::ReconcileSilenceApproval(Draft& d, TimePoint now) {
  const auto view = OpenView(d);
  for (const Silence* sp : SilenceView(d)) {
    if (sp->removed || sp->needs_approval || !sp->approved_by.empty()) continue;
    bool high = false;
    for (const Alert* a : view)
      if (SilenceMatches(*sp, *a) && a->level >= 3) high = true;
    if (!high) continue;
    Silence s = *sp;
    s.needs_approval = true;
    SilenceEvent(d, now, s, kSystemActor, "needs-approval");
    d.silences[s.id] = s;
  }
  // Expiry.
  for (const Silence* sp : SilenceView(d)) {
    if (sp->removed || sp->expires > now) continue;
    if (std::find(d.expired_silences.begin(), d.expired_silences.end(), sp->id) !=
        d.expired_silences.end())
      continue;
    SilenceEvent(d, now, *sp, kSystemActor, "expired");
    d.expired_silences.push_back(sp->id);
  }
}

// --- operator calls ----------------------------------------------------------

Result<Silence> AlertEngine::AddSilence(const SilenceRequest& req, const std::string& actor) {
  Impl& m = *impl_;
  std::string id;
  return m.Act<Silence>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        const int set = !req.alert_id.empty() + !req.station_id.empty() + !req.rule_id.empty();
        if (set != 1)
          return Error{ErrorCode::kInvalidArgument,
                       "a silence matches exactly one of alert_id, station_id or rule_id"};
        if (req.reason.empty())
          return Error{ErrorCode::kInvalidArgument, "a silence needs a reason"};
        if (req.expires <= now)
          return Error{ErrorCode::kInvalidArgument, "a silence needs an expiry in the future"};
        if (!req.alert_id.empty() && m.open.count(req.alert_id) == 0)
          return Error{ErrorCode::kNotFound, fmt::format("no open alert with id {}", req.alert_id)};
        if (!req.station_id.empty() && m.stations.count(req.station_id) == 0)
          return Error{ErrorCode::kNotFound, fmt::format("no station {}", req.station_id)};
        if (!req.rule_id.empty() && m.rules.FindRule(req.rule_id) == nullptr &&
            req.rule_id != kOutageRule && req.rule_id != kManualRule &&
            req.rule_id != engine_internal::kForecastOutageRule)
          return Error{ErrorCode::kNotFound, fmt::format("no rule {}", req.rule_id)};
        Silence s;
        s.id = m.NewId("sil", now);
        s.alert_id = req.alert_id;
        s.station_id = req.station_id;
        s.rule_id = req.rule_id;
        s.author = actor;
        s.reason = req.reason;
        s.created = now;
        s.expires = req.expires;
        for (const Alert* a : m.OpenView(d))
          if (m.SilenceMatches(s, *a) && a->level >= 3) s.needs_approval = true;
        d.silences[s.id] = s;
        m.SilenceEvent(d, now, s, actor, "created");
        id = s.id;
        return {};
      },
      [&] { return m.silences.at(id); });
}

Result<Silence> AlertEngine::ApproveSilence(const std::string& silence_id,
                                            const std::string& actor) {
  Impl& m = *impl_;
  return m.Act<Silence>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        auto it = m.silences.find(silence_id);
        if (it == m.silences.end())
          return {ErrorCode::kNotFound, fmt::format("no active silence {}", silence_id)};
        if (it->second.author == actor) {
          Impl::Draft denied;  // the refusal is audited on its own
          m.Audit(denied, now, actor, "silence-approve-denied", it->second.alert_id,
                  "four-eyes: the author cannot approve their own silence " +
                      m.SilenceDetail(it->second));
          m.Commit(denied, nullptr);
          return {ErrorCode::kPermissionDenied,
                  "four-eyes: a silence must be approved by someone other than its author"};
        }
        if (!it->second.approved_by.empty())
          return {ErrorCode::kFailedPrecondition,
                  fmt::format("silence {} is already approved by {}", silence_id,
                              it->second.approved_by)};
        Silence s = it->second;
        s.approved_by = actor;
        d.silences[s.id] = s;
        m.SilenceEvent(d, now, s, actor, "approved");
        return {};
      },
      [&] { return m.silences.at(silence_id); });
}

Result<Silence> AlertEngine::RemoveSilence(const std::string& silence_id,
                                           const std::string& actor) {
  Impl& m = *impl_;
  Silence removed;
  return m.Act<Silence>(
      actor,
      [&](Impl::Draft& d, TimePoint now) -> Error {
        auto it = m.silences.find(silence_id);
        if (it == m.silences.end())
          return {ErrorCode::kNotFound, fmt::format("no active silence {}", silence_id)};
        removed = it->second;
        removed.removed = true;
        removed.removed_by = actor;
        d.silences[removed.id] = removed;
        m.SilenceEvent(d, now, removed, actor, "removed");
        return {};
      },
      [&] { return removed; });
}

}  // namespace floodwarn::alerting
