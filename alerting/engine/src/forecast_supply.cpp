// Forecast supply: when the forecast loop gives no forecast (a cycle late,
// failed or without forcing, or no cycle at all for too long), every forecast
// rule is "unknown" with the reason, and one operational alert tells the duty
// officer (never a siren or a cell broadcast: channels.hpp IsOperational);
// the next forecast resolves it (engine_impl.hpp).

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine_impl.hpp"
#include "floodwarn/common/iso8601.hpp"

namespace floodwarn::alerting {

using engine_internal::Key;
using engine_internal::kForecastOutageRule;
using engine_internal::kForecastSubject;
using engine_internal::kSystemActor;
using engine_internal::Quote;

void AlertEngine::Impl::SetForecastOutage(Draft& d, const std::string& reason, TimePoint now) {
  ForecastSupply& fs = forecast_supply;
  if (!fs.out) {
    fs.out = true;
    fs.since = now;
    Audit(d, now, kSystemActor, "forecast-outage", "", fmt::format("reason={}", Quote(reason)));
    spdlog::warn("alert_engine event=forecast_outage reason={}", Quote(reason));
  }
  fs.reason = reason;
  for (auto& [key, t] : tracks)
    if (t.rule->kind == RuleKind::kForecastDepth)
      SetUnknown(t, fmt::format("no forecast: {}", reason));
}

void AlertEngine::Impl::ForecastArrived(Draft& d, const std::string& run_id, TimePoint now) {
  ForecastSupply& fs = forecast_supply;
  fs.last = now;
  if (!fs.out) return;
  fs.out = false;
  fs.reason.clear();
  Audit(d, now, kSystemActor, "forecast-supply", "", fmt::format("forecast {} arrived", run_id));
  spdlog::info("alert_engine event=forecast_available run={}", run_id);
}

void AlertEngine::Impl::DetectForecastSilence(Draft& d, TimePoint now) {
  const ForecastSupply& fs = forecast_supply;
  if (!fs.expected || fs.out || now - fs.last <= fs.max_silence) return;
  SetForecastOutage(d,
                    fmt::format("no forecast for {} (expected at least every {})",
                                FormatDuration(now - fs.last), FormatDuration(fs.max_silence)),
                    now);
}

void AlertEngine::Impl::ReconcileForecastOutage(Draft& d, TimePoint now) {
  const ForecastSupply& fs = forecast_supply;
  const std::string key = Key(kForecastOutageRule, kForecastSubject);
  const Alert* cur = OpenFor(d, key);
  if (fs.out && cur == nullptr) {
    Alert a = NewAlert(now, kForecastOutageRule, kForecastSubject, RuleKind::kForecastOutage);
    a.first_seen = fs.since;
    a.subject_name = "Hochwasservorhersage / flood forecast";
    // The area of the forecast rules (the first one's: they cover the
    // model's town); without forecast rules the first configured area, so
    // that the CAP message still has a geometry.
    for (const RuleConfig& r : rules.rules)
      if (r.kind == RuleKind::kForecastDepth) {
        a.area = AreaFor(r.area);
        break;
      }
    if (a.area.id.empty() && !rules.areas.empty()) a.area = rules.areas.front();
    a.level = rules.engine.outage_level;
    a.state = AlertState::kActive;
    a.activated = now;
    a.last_change = now;
    a.value = std::nan("");
    a.threshold = std::nan("");
    a.reason = fs.reason;
    d.new_keys[key] = a.id;
    d.escalation_base[a.id] = now;
    CapEvent(d, EventKind::kRaised, CapMsgType::kAlert, now, a, kSystemActor, a.reason);
    Audit(d, now, kSystemActor, "raise", a.id, "level_from=0 " + Describe(a));
    Put(d, std::move(a));
  } else if (!fs.out && cur != nullptr) {
    ResolveBySystem(d, *cur, "forecasts arrive again", now);
  }
}

void AlertEngine::OnForecastUnavailable(const std::string& run_id, TimePoint issued,
                                        const std::string& reason) {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    Impl::Draft d;
    m.SetForecastOutage(
        d, fmt::format("cycle {} (issued {}): {}", run_id, common::FormatIso8601(issued), reason),
        now);
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

void AlertEngine::ExpectForecasts(Duration max_silence) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  m.forecast_supply.expected = true;
  m.forecast_supply.max_silence = max_silence;
  m.forecast_supply.last = std::max(m.forecast_supply.last, m.clock());
}

}  // namespace floodwarn::alerting
