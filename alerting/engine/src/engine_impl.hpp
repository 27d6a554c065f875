// Private to the alert engine (alerting/engine/src): AlertEngine::Impl, the
// engine's state and its steps, shared by the files that implement them.
//
// Shape of every public call: update the input-derived state (station
// health, per-rule timers), then Reconcile() derives what the committed alert
// state should become (raise / update / resolve / escalate / suppress /
// silence) into a Draft, and Commit() writes the draft with its events and
// audit entries in ONE AlertStore::Apply. Only after Apply succeeded is the
// committed in-memory state replaced. When Apply fails nothing is installed
// and the next call derives the same change again (nothing is dropped).
//
// Where each step lives:
//   engine.cpp            the public inputs and queries, setup (Init)
//   commit.cpp            the draft and its single commit
//   evaluation.cpp        readings, rule evaluation (levels, windows, rise, rain, forecasts)
//   lifecycle.cpp         pending/active/acknowledged/resolved, dedup, inhibition, escalation
//   silences.cpp          silences, four-eyes approval, expiry
//   operator_actions.cpp  acknowledge, manual alerts and their all-clear
//   station_health.cpp    stale/failing stations, sensor-outage alerts
//   forecast_supply.cpp   forecasts missing: forecast rules unknown, the forecast-outage alert
#pragma once

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "floodwarn/alerting/engine.hpp"

namespace floodwarn::alerting {
namespace engine_internal {

inline constexpr const char* kOutageRule = "sensor_outage";
inline constexpr const char* kForecastOutageRule = "forecast_outage";
inline constexpr const char* kForecastSubject = "forecast";
inline constexpr const char* kManualRule = "manual";
inline constexpr const char* kRulesActor = "rules";
inline constexpr const char* kSystemActor = "system";
inline constexpr std::size_t kRecentResolved = 1000;
// Readings further in the future than this are refused (clock skew, bad data).
inline constexpr Duration kMaxFuture = std::chrono::minutes(5);

// The dedup identity of an alert: (rule id, subject).
inline std::string Key(const std::string& rule_id, const std::string& subject) {
  return rule_id + '\x1f' + subject;
}

// A string as a quoted audit/log value.
inline std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A number as an audit/log value ("nan" when not finite).
inline std::string Num(double v) {
  if (!std::isfinite(v)) return "nan";
  return fmt::format("{:.6g}", v);
}

}  // namespace engine_internal

struct AlertEngine::Impl {
  // --- input-derived state (not committed) -----------------------------------
  struct StationState {
    const StationEntry* cfg = nullptr;  // the rules' entry: ingest's station + area, name
    std::vector<Sample> history;        // sorted by time, value in the station's unit
    Duration keep{};                    // history kept behind the latest sample
    bool has_reading = false;
    TimePoint last_observed{};  // latest usable sample
    TimePoint fresh_since{};    // staleness clock: latest sample, or engine start
    // ingest's health states: from ingest's events, or the engine's own check
    // with the station's (ingest's) stale limit
    ingest::StationHealth health = ingest::StationHealth::kOk;
    std::string health_reason;
    TimePoint health_since{};
    std::vector<std::string> track_keys;
  };

  struct Track {
    const RuleConfig* rule = nullptr;
    std::string key, subject, station_id;
    Condition condition = Condition::kUnknown;
    Level desired = 0;  // level asked for now (hysteresis applied)
    double value = std::nan("");
    double threshold = std::nan("");
    std::string unit;
    std::string reason = "no data yet";
    std::array<std::optional<TimePoint>, 5> up_since;  // per level: rising met since
    // per level: asked for less than this level (value below its falling
    // threshold) continuously since; a level is left after min_dwell of it.
    std::array<std::optional<TimePoint>, 5> below_since;
    std::string what = "value";              // what the value is: "level", "rise over 15m", ...
    TimePoint data_time{};                   // time of the data evaluated
    Duration data_interval{};                // its reporting interval (0: forecasts, clock time)
    std::vector<std::string> area_stations;  // rainfall per = "area"
    bool pending_logged = false;
    // forecast_depth
    bool has_forecast = false;
    TimePoint forecast_issued{};
    std::string forecast_run;
    TimePoint forecast_onset{};  // first time in the run at the shown level's threshold
  };

  // Everything one call changes before it is committed.
  struct Draft {
    std::map<std::string, Alert> alerts;          // by id
    std::map<std::string, std::string> new_keys;  // key -> id of alerts created here
    std::map<std::string, Silence> silences;      // by id
    std::map<std::string, TimePoint> escalation_base;
    std::vector<std::string> expired_silences;
    Changeset cs;
    bool Empty() const {
      return cs.alerts.empty() && cs.events.empty() && cs.audit.empty() && cs.silences.empty();
    }
  };

  Impl(RulesConfig r, AlertStore& s, CapProfile c, Clock clk)
      : rules(std::move(r)), store(s), cap(std::move(c)), clock(std::move(clk)) {}

  RulesConfig rules;
  AlertStore& store;
  CapProfile cap;
  Clock clock;

  mutable std::mutex mu;
  std::mutex listeners_mu;
  std::vector<CommitListener> listeners;

  // --- committed state --------------------------------------------------------
  std::map<std::string, Alert> open;                 // alerts not resolved, by id
  std::map<std::string, std::string> by_key;         // (rule, subject) -> open alert id
  std::map<std::string, Silence> silences;           // not removed, not expired
  std::map<std::string, TimePoint> escalation_base;  // alert id -> escalation timer start
  std::deque<Alert> recent_resolved;

  std::map<std::string, StationState> stations;
  std::map<std::string, Track> tracks;
  // Whether forecasts arrive (forecast_supply.cpp).
  struct ForecastSupply {
    bool expected = false;   // ExpectForecasts: the loop runs
    Duration max_silence{};  // no forecast for this long = outage
    TimePoint last{};        // the last forecast, or when expecting began
    bool out = false;        // an outage now
    std::string reason;      // why
    TimePoint since{};       // outage since
  } forecast_supply;
  std::map<std::string, const RuleConfig*> rule_by_id;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t commit_failures = 0;
  Stats counters;

  // ===========================================================================
  // setup: the rules into stations and tracks, the committed state from the
  // store (engine.cpp)

  void Init();

  // ===========================================================================
  // the draft and its single commit: reads see the draft over the committed
  // state; Commit() writes the draft with its events and audit entries in ONE
  // AlertStore::Apply and installs it only when that succeeded (commit.cpp)

  const Alert* Current(const Draft& d, const std::string& id) const;
  // The open (not resolved) alert for a key, draft first.
  const Alert* OpenFor(const Draft& d, const std::string& key) const;
  std::vector<const Alert*> OpenView(const Draft& d) const;
  const Silence* CurrentSilence(const Draft& d, const std::string& id) const;
  std::vector<const Silence*> SilenceView(const Draft& d) const;
  void Put(Draft& d, Alert a);
  void Audit(Draft& d, TimePoint now, const std::string& actor, const std::string& action,
             const std::string& alert_id, const std::string& detail);
  void Event(Draft& d, EventKind kind, TimePoint now, const Alert& a, const std::string& actor,
             const std::string& note);
  // An outgoing CAP message for `a` (modified: message chain, expires).
  void CapEvent(Draft& d, EventKind kind, CapMsgType type, TimePoint now, Alert& a,
                const std::string& actor, const std::string& note);
  std::string NewId(const char* prefix, TimePoint now);
  std::string Describe(const Alert& a) const;
  // Writes the draft; returns the committed events (empty on failure or when
  // there was nothing to write) and installs the draft only on success.
  bool Commit(Draft& d, std::vector<AlertEvent>* committed);
  void Notify(const std::vector<AlertEvent>& events);

  // One operator action. Under the engine's lock `draft(d, now)` checks the
  // request (a failure returns at once, nothing written) and fills the
  // draft; the cross-alert passes run, the draft is committed, and `read()`
  // gives the result from the committed state. Listeners hear of it after
  // the lock is released.
  template <typename T, typename DraftFn, typename ReadFn>
  Result<T> Act(const std::string& actor, DraftFn&& draft, ReadFn&& read) {
    std::vector<AlertEvent> committed;
    Result<T> result;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (actor.empty()) return Result<T>::Fail(ErrorCode::kPermissionDenied, "no actor");
      const TimePoint now = clock();
      Draft d;
      if (Error e = draft(d, now); !e.ok()) return Result<T>{std::move(e), std::nullopt};
      Reconcile(d, now);
      if (!Commit(d, &committed))
        return Result<T>::Fail(ErrorCode::kUnavailable,
                               "the alert store did not accept the change; try again");
      result = Result<T>::Ok(read());
    }
    Notify(committed);
    return result;
  }

  // ===========================================================================
  // evaluation: readings into station histories, rule evaluation of levels,
  // windows, rate of rise, rain and forecasts into the tracks (input-derived
  // state, not committed) (evaluation.cpp)

  // A usable reading into its station's history (nullptr: ignored, counted
  // and logged: unknown station, failed QC, wrong quantity or unit, future).
  StationState* Insert(const ingest::Reading& reading, TimePoint now, bool* out_of_order_out);
  void EvaluateStation(const Draft& d, StationState& st);
  void EvaluateObserved(const Draft& d, Track& t, const StationState& st);
  // rainfall per = "area": the worst known station sets the level.
  void EvaluateAreaRain(Track& t);
  // A forecast batch into the forecast tracks it names (a target the batch says
  // nothing about, or a batch older than the one used, leaves a track as it is).
  void EvaluateForecast(const ForecastBatch& batch, const Draft& d, TimePoint now);
  void TickForecasts(TimePoint now);
  Level CommittedLevel(const Draft& d, const Track& t) const;
  void SetUnknown(Track& t, const std::string& reason);
  // Feeds one evaluation of a track: `up` = highest level whose rising
  // threshold is met, `held` = level asked for with hysteresis against the
  // committed level.
  void Observe(Track& t, Level up, Level held, TimePoint at);
  static std::string LevelLabel(const RuleConfig& r, Level level);
  static const LevelThreshold* Threshold(const RuleConfig& r, Level level);

  // ===========================================================================
  // lifecycle: pending -> active -> acknowledged -> resolved, dedup,
  // inhibition, escalation; Reconcile() derives the committed state the tracks
  // ask for into the draft (lifecycle.cpp)

  // Everything, or (only != nullptr, a reading) the rules and the outage of
  // one station plus the cross-alert passes (inhibition, silences,
  // escalation). Tick() always reconciles everything, so a change whose
  // commit failed is derived again at the latest on the next tick.
  void Reconcile(Draft& d, TimePoint now, StationState* only = nullptr);
  void DecideTrack(Draft& d, Track& t, TimePoint now);
  Alert NewAlert(TimePoint now, const std::string& rule_id, const std::string& subject,
                 RuleKind kind);
  // Raise, update (up or down) or resolve the alert of a track.
  void ChangeLevel(Draft& d, Track& t, const Alert* cur, Level to, TimePoint now);
  // The all-clear of an operational alert (an outage that ended).
  void ResolveBySystem(Draft& d, const Alert& cur, const std::string& reason, TimePoint now);
  void ReconcileFlags(Draft& d, TimePoint now);
  std::optional<Duration> EscalationAfter(const Alert& a) const;
  void ReconcileEscalation(Draft& d, TimePoint now);
  Area AreaFor(const std::string& area_id) const;
  // Time up to which a track's condition is known to hold.
  TimePoint EvalTime(const Track& t, TimePoint now) const;

  // ===========================================================================
  // silences: matching, four-eyes approval, expiry (silences.cpp)

  bool SilenceMatches(const Silence& s, const Alert& a) const;
  static bool InEffect(const Silence& s, TimePoint now);
  std::string SilenceDetail(const Silence& s) const;
  void SilenceEvent(Draft& d, TimePoint now, const Silence& s, const std::string& actor,
                    const std::string& action);
  // A silence whose alerts reach level >= 3 needs a second person (four-eyes).
  void ReconcileSilenceApproval(Draft& d, TimePoint now);

  // ===========================================================================
  // station health: stale/failing detection, outage alerts (station_health.cpp)

  void SetHealth(Draft& d, StationState& st, ingest::StationHealth h, const std::string& reason,
                 TimePoint at, const std::string& actor);
  void DetectStale(Draft& d, TimePoint now);
  void ReconcileOutage(Draft& d, StationState& st, TimePoint now);

  // ===========================================================================
  // forecast supply: missing forecasts make the forecast rules unknown and
  // raise the forecast-outage alert (forecast_supply.cpp)

  void SetForecastOutage(Draft& d, const std::string& reason, TimePoint now);
  void ForecastArrived(Draft& d, const std::string& run_id, TimePoint now);
  void DetectForecastSilence(Draft& d, TimePoint now);
  void ReconcileForecastOutage(Draft& d, TimePoint now);
};

}  // namespace floodwarn::alerting
