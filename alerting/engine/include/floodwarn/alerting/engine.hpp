// The alert engine: evaluates rules on readings / health events / forecasts,
// runs the alert lifecycle (pending -> active -> acknowledged -> resolved),
// dedup, inhibition, escalation, silences (four-eyes for level >= 3), manual
// alerts and Exercise/Test modes, and commits every change with its outbox
// events and audit entries through AlertStore::Apply in one transaction.
//
// gRPC-free: the gRPC service is a thin adapter over this class.
// Thread-safe: every public method takes the engine mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/alerting/requests.hpp"
#include "floodwarn/alerting/rules.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/alerting/types.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::alerting {

// Forecast producer interface: serve's forecast loop (docs/FORECAST.md)
// turns each cycle's depths at forecast points and zones into a batch.
struct ForecastValue {
  std::string target_id;  // forecast point or zone id named by a forecast rule
  TimePoint valid_at{};   // when the forecast depth occurs
  double depth_m = 0.0;
};
struct ForecastBatch {
  std::string run_id;
  TimePoint issued{};  // forecast reference time
  std::vector<ForecastValue> values;
};

class AlertEngine {
 public:
  using Clock = std::function<TimePoint()>;
  // Called after every successful commit with the committed events, outside
  // the engine mutex (the gRPC service wakes its subscribers from here).
  using CommitListener = std::function<void(const std::vector<AlertEvent>&)>;

  // Loads open alerts and silences from the store (a restart continues
  // where the last process committed).
  AlertEngine(RulesConfig rules, AlertStore& store, CapProfile cap, Clock clock);
  ~AlertEngine();

  void AddCommitListener(CommitListener listener);

  // --- inputs -------------------------------------------------------------
  void OnReading(const ingest::Reading& reading);

  // After a restart: stored readings (any order) rebuild what the engine
  // keeps only in memory: the rain and rate-of-rise windows and the timers
  // (minimum time above, dwell) as they ran. Nothing is raised or resolved
  // for the past; then the present is evaluated once, as on a tick (a level
  // held long enough before the restart is raised now, not after another
  // minimum time). Returns the readings used.
  std::size_t Preload(const std::vector<ingest::Reading>& readings);
  // How far back Preload needs each station's readings (its longest window
  // or timer plus stale_after).
  std::vector<std::pair<std::string, Duration>> PreloadWindows() const;
  void OnStationHealth(const ingest::StationHealthEvent& event);
  void OnForecast(const ForecastBatch& batch);
  // No forecast from the cycle `run_id` issued at `issued` (late, failed,
  // forcing missing): every forecast rule becomes "unknown" with `reason`,
  // and one operational alert (rule "forecast_outage", subject "forecast";
  // never to sirens or cell broadcast) is raised until a forecast arrives
  // again (OnForecast), which resolves it.
  void OnForecastUnavailable(const std::string& run_id, TimePoint issued,
                             const std::string& reason);
  // The forecast loop runs: when no forecast arrives for `max_silence`
  // (from now, or from the last forecast), the same happens as on
  // OnForecastUnavailable (a loop that died says so too).
  void ExpectForecasts(Duration max_silence);
  // Timers: pending -> active after the minimum time above, dwell before
  // downgrade, escalation, silence expiry, stale stations (no reading within
  // the station's expected interval becomes "unknown" + outage alert).
  void Tick();

  // --- operator actions (actor = authenticated principal) ------------------
  Result<Alert> Acknowledge(const std::string& alert_id, const std::string& actor,
                            const std::string& note);
  Result<Silence> AddSilence(const SilenceRequest& req, const std::string& actor);
  Result<Silence> ApproveSilence(const std::string& silence_id, const std::string& actor);
  Result<Silence> RemoveSilence(const std::string& silence_id, const std::string& actor);
  Result<Alert> IssueManual(const ManualAlertRequest& req, const std::string& actor);
  Result<Alert> ResolveManual(const std::string& alert_id, const std::string& actor,
                              const std::string& note);

  // --- queries --------------------------------------------------------------
  std::vector<Alert> ListActive(const AlertFilter& filter) const;
  std::optional<Alert> GetAlert(const std::string& id) const;
  std::vector<Silence> ListSilences() const;
  // What every threshold rule says now per subject: clear / raised / unknown.
  struct SubjectStatus {
    std::string rule_id, subject;
    RuleKind kind = RuleKind::kWaterLevel;
    Condition condition = Condition::kClear;
    Level level = 0;
    std::string reason;
  };
  std::vector<SubjectStatus> Status() const;

  const RulesConfig& rules() const;

  // Counters since construction (the service exports them as metrics).
  struct Stats {
    std::uint64_t readings_used = 0;
    std::uint64_t readings_ignored_flag = 0;     // QC fail/missing (suspect if configured), NaN
    std::uint64_t readings_ignored_station = 0;  // station not in the rules file
    std::uint64_t readings_ignored_unit = 0;     // wrong quantity or unconvertible unit
    std::uint64_t readings_ignored_future = 0;   // observed > 5 min ahead of the clock
    std::uint64_t readings_out_of_order = 0;     // older than the station's latest (used for sums)
    std::uint64_t commits = 0;                   // successful AlertStore::Apply calls
    std::uint64_t commit_failures = 0;           // failed ones (the change is derived again)
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::alerting
