// The alert engine (engine.hpp). docs/alerting/RULES.md describes the
// lifecycle, hysteresis, inhibition, escalation, silences and modes.
//
// Shape of every public call: update the input-derived state (station
// health, per-rule timers), then Reconcile() derives what the committed alert
// state should become (raise / update / resolve / escalate / suppress /
// silence) into a Draft, and Commit() writes the draft with its events and
// audit entries in ONE AlertStore::Apply. Only after Apply succeeded is the
// committed in-memory state replaced. When Apply fails nothing is installed
// and the next call derives the same change again (nothing is dropped).
#include "floodwarn/alerting/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>

namespace floodwarn::alerting {

namespace {

constexpr const char* kOutageRule = "sensor_outage";
constexpr const char* kManualRule = "manual";
constexpr const char* kRulesActor = "rules";
constexpr const char* kSystemActor = "system";
constexpr std::size_t kRecentResolved = 1000;
// Readings further in the future than this are refused (clock skew, bad data).
constexpr Duration kMaxFuture = std::chrono::minutes(5);

std::string Key(const std::string& rule_id, const std::string& subject) {
  return rule_id + '\x1f' + subject;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "nan";
  return fmt::format("{:.6g}", v);
}

enum class Health { kOk, kStale, kFailing };

}  // namespace

struct AlertEngine::Impl {
  // --- input-derived state (not committed) -----------------------------------
  struct StationState {
    const StationConfig* cfg = nullptr;
    std::vector<Sample> history;  // sorted by time, value in the station's unit
    Duration keep{};              // history kept behind the latest sample
    bool has_reading = false;
    TimePoint last_observed{};  // latest usable sample
    TimePoint fresh_since{};    // staleness clock: latest sample, or engine start
    Health health = Health::kOk;
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
  std::map<std::string, const RuleConfig*> rule_by_id;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t commit_failures = 0;
  Stats counters;

  // ===========================================================================
  // Setup

  void Init() {
    const TimePoint now = clock();
    for (const StationConfig& s : rules.stations) {
      StationState st;
      st.cfg = &s;
      st.fresh_since = now;
      st.keep = 2 * s.stale_after;
      stations.emplace(s.id, std::move(st));
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
            st.keep = std::max(st.keep, c.window + 2 * st.cfg->stale_after);
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
          t.unit = st.cfg->unit;
          Duration need = r.kind == RuleKind::kRateOfRise ? r.window : Duration{0};
          for (const RainClass& c : r.rain_classes) need = std::max(need, c.window);
          st.keep = std::max(st.keep, need + 2 * st.cfg->stale_after);
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
      if (a.rule_id != kManualRule && a.rule_id != kOutageRule && tracks.count(key) == 0)
        spdlog::warn(
            "alert_engine event=orphan_alert alert_id={} rule_id={} subject={} msg=\"rule or "
            "subject no longer configured; the alert stays open until an operator resolves it "
            "(ResolveManual)\"",
            a.id, a.rule_id, a.subject);
      if (a.rule_id == kOutageRule) {
        // The outage continues until the station proves itself again.
        auto it = stations.find(a.subject);
        if (it != stations.end()) {
          it->second.health = Health::kStale;
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
      if (!t.station_id.empty() && stations.at(t.station_id).health != Health::kOk) {
        t.condition = Condition::kUnknown;
        t.reason = "sensor outage";
      }
    spdlog::info("alert_engine event=start rules={} stations={} open_alerts={} silences={} mode={}",
                 rules.rules.size(), rules.stations.size(), open.size(), silences.size(),
                 ToString(rules.engine.mode));
  }

  // ===========================================================================
  // Draft helpers

  const Alert* Current(const Draft& d, const std::string& id) const {
    auto it = d.alerts.find(id);
    if (it != d.alerts.end()) return &it->second;
    auto jt = open.find(id);
    return jt == open.end() ? nullptr : &jt->second;
  }

  // The open (not resolved) alert for a key, draft first.
  const Alert* OpenFor(const Draft& d, const std::string& key) const {
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

  std::vector<const Alert*> OpenView(const Draft& d) const {
    std::vector<const Alert*> out;
    for (const auto& [id, a] : open) {
      const Alert* cur = Current(d, id);
      if (cur->state != AlertState::kResolved) out.push_back(cur);
    }
    for (const auto& [id, a] : d.alerts)
      if (open.count(id) == 0 && a.state != AlertState::kResolved) out.push_back(&a);
    return out;
  }

  const Silence* CurrentSilence(const Draft& d, const std::string& id) const {
    auto it = d.silences.find(id);
    if (it != d.silences.end()) return &it->second;
    auto jt = silences.find(id);
    return jt == silences.end() ? nullptr : &jt->second;
  }

  std::vector<const Silence*> SilenceView(const Draft& d) const {
    std::vector<const Silence*> out;
    for (const auto& [id, s] : silences) out.push_back(CurrentSilence(d, id));
    for (const auto& [id, s] : d.silences)
      if (silences.count(id) == 0) out.push_back(&s);
    return out;
  }

  void Put(Draft& d, Alert a) {
    const std::string id = a.id;
    d.alerts[id] = std::move(a);
  }

  void Audit(Draft& d, TimePoint now, const std::string& actor, const std::string& action,
             const std::string& alert_id, const std::string& detail) {
    AuditEntry e;
    e.at = now;
    e.actor = actor;
    e.action = action;
    e.alert_id = alert_id;
    e.detail = detail;
    d.cs.audit.push_back(std::move(e));
  }

  void Event(Draft& d, EventKind kind, TimePoint now, const Alert& a, const std::string& actor,
             const std::string& note) {
    AlertEvent e;
    e.kind = kind;
    e.at = now;
    e.alert = a;
    e.actor = actor;
    e.note = note;
    d.cs.events.push_back(std::move(e));
  }

  // An outgoing CAP message for `a` (modified: message chain, expires).
  void CapEvent(Draft& d, EventKind kind, CapMsgType type, TimePoint now, Alert& a,
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

  std::string NewId(const char* prefix, TimePoint now) {
    return fmt::format("{}.{:x}.{:016x}", prefix,
                       static_cast<std::uint64_t>(now.time_since_epoch().count()), rng());
  }

  std::string Describe(const Alert& a) const {
    return fmt::format(
        "rule={} subject={} kind={} level={} state={} mode={} value={} threshold={} "
        "unit={} reason={}",
        a.rule_id, a.subject, ToString(a.kind), a.level, ToString(a.state), ToString(a.mode),
        Num(a.value), Num(a.threshold), a.unit, Quote(a.reason));
  }

  // ===========================================================================
  // Commit

  // Writes the draft; returns the committed events (empty on failure or when
  // there was nothing to write) and installs the draft only on success.
  bool Commit(Draft& d, std::vector<AlertEvent>* committed) {
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

  void Notify(const std::vector<AlertEvent>& events) {
    if (events.empty()) return;
    std::vector<CommitListener> copy;
    {
      std::lock_guard<std::mutex> lock(listeners_mu);
      copy = listeners;
    }
    for (const auto& l : copy) l(events);
  }

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
  // Input-derived state

  Level CommittedLevel(const Draft& d, const Track& t) const {
    const Alert* a = OpenFor(d, t.key);
    return a == nullptr ? 0 : a->level;
  }

  void SetUnknown(Track& t, const std::string& reason) {
    t.condition = Condition::kUnknown;
    t.reason = reason;
    t.up_since.fill(std::nullopt);
    t.below_since.fill(std::nullopt);
    t.pending_logged = false;
  }

  // Feeds one evaluation of a track: `up` = highest level whose rising
  // threshold is met, `held` = level asked for with hysteresis against the
  // committed level.
  void Observe(Track& t, Level up, Level held, TimePoint at) {
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

  static std::string LevelLabel(const RuleConfig& r, Level level) {
    for (const auto& l : r.levels)
      if (l.level == level) return l.label;
    for (const auto& c : r.rain_classes)
      if (c.level == level) return c.label;
    return fmt::format("level {}", level);
  }

  static const LevelThreshold* Threshold(const RuleConfig& r, Level level) {
    for (const auto& l : r.levels)
      if (l.level == level) return &l;
    return nullptr;
  }

  // rainfall per = "area": the worst known station sets the level.
  void EvaluateAreaRain(Track& t) {
    const RuleConfig& r = *t.rule;
    RainEvaluation best;
    std::string best_station;
    std::vector<std::string> unknown;
    TimePoint latest{};
    Duration interval{};
    for (const std::string& sid : t.area_stations) {
      const StationState& st = stations.at(sid);
      if (st.health != Health::kOk || !st.has_reading) {
        unknown.push_back(sid);
        continue;
      }
      latest = std::max(latest, st.last_observed);
      interval = std::max(interval, st.cfg->expected_interval);
      const RainEvaluation e =
          EvaluateRain(r.rain_classes, st.history, st.last_observed, st.cfg->expected_interval);
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

  void EvaluateObserved(const Draft& d, Track& t, const StationState& st) {
    if (t.rule->per_area) {
      EvaluateAreaRain(t);
      return;
    }
    t.data_interval = st.cfg->expected_interval;
    if (st.health != Health::kOk) {
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
      const RainEvaluation e =
          EvaluateRain(r.rain_classes, st.history, at, st.cfg->expected_interval);
      if (e.condition == Condition::kUnknown) {
        SetUnknown(t, e.reason);
        return;
      }
      t.value = e.value;
      t.threshold = e.threshold;
      t.reason = e.reason;
      if (e.level == 0) {
        t.value = RainSum(st.history, at, std::chrono::hours(1), st.cfg->expected_interval)
                      .value_or(std::nan(""));
      }
      Observe(t, e.level, e.level, at);
      return;
    }
    double v = st.history.back().value;
    std::string what = "level";
    if (r.kind == RuleKind::kRateOfRise) {
      const auto rise = RiseOver(st.history, at, r.window, st.cfg->stale_after);
      if (!rise) {
        SetUnknown(t,
                   fmt::format("no complete data for the rise over {}", FormatDuration(r.window)));
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
      t.reason = shown > up ? fmt::format("{} {} {} >= {} {} (falling threshold of {})", what,
                                          Num(v), t.unit, Num(th->falling), t.unit, th->label)
                            : fmt::format("{} {} {} >= {} {} ({})", what, Num(v), t.unit,
                                          Num(th->rising), t.unit, th->label);
    } else {
      t.reason = fmt::format("{} {} {} below {} {} ({})", what, Num(v), t.unit, Num(th->rising),
                             t.unit, th->label);
    }
    Observe(t, up, held, at);
  }

  void EvaluateStation(const Draft& d, StationState& st) {
    for (const std::string& key : st.track_keys) EvaluateObserved(d, tracks.at(key), st);
  }

  // A usable reading into its station's history (nullptr: ignored, counted
  // and logged: unknown station, failed QC, wrong quantity or unit, future).
  StationState* Insert(const ingest::Reading& reading, TimePoint now, bool* out_of_order_out) {
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
    if (reading.quantity != st.cfg->quantity) {
      spdlog::warn(
          "alert_engine event=reading_ignored station={} msg=\"quantity {} but the "
          "station is configured as {}\"",
          reading.station_id, ingest::ToString(reading.quantity),
          ingest::ToString(st.cfg->quantity));
      ++counters.readings_ignored_unit;
      return nullptr;
    }
    const auto value = ConvertUnit(reading.value, reading.unit, st.cfg->unit);
    if (!value) {
      spdlog::warn(
          "alert_engine event=reading_ignored station={} msg=\"unit {} cannot be "
          "converted to the station's unit {}\"",
          reading.station_id, reading.unit, st.cfg->unit);
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

  // ===========================================================================
  // Reconcile: committed state -> what it should be now

  Area AreaFor(const std::string& area_id) const {
    const Area* a = rules.FindArea(area_id);
    return a == nullptr ? Area{} : *a;
  }

  // Time up to which a track's condition is known to hold.
  TimePoint EvalTime(const Track& t, TimePoint now) const {
    if (t.data_interval.count() == 0) return now;
    return std::min(now, t.data_time + t.data_interval);
  }

  // Everything, or (only != nullptr, a reading) the rules and the outage of
  // one station plus the cross-alert passes (inhibition, silences,
  // escalation). Tick() always reconciles everything, so a change whose
  // commit failed is derived again at the latest on the next tick.
  void Reconcile(Draft& d, TimePoint now, StationState* only = nullptr) {
    if (only == nullptr) {
      for (auto& [key, t] : tracks) DecideTrack(d, t, now);
      for (auto& [id, st] : stations) ReconcileOutage(d, st, now);
    } else {
      for (const std::string& key : only->track_keys) DecideTrack(d, tracks.at(key), now);
      ReconcileOutage(d, *only, now);
    }
    ReconcileSilenceApproval(d, now);
    ReconcileFlags(d, now);
    ReconcileEscalation(d, now);
  }

  void DecideTrack(Draft& d, Track& t, TimePoint now) {
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

  Alert NewAlert(TimePoint now, const std::string& rule_id, const std::string& subject,
                 RuleKind kind) {
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

  // Raise, update (up or down) or resolve the alert of a track.
  void ChangeLevel(Draft& d, Track& t, const Alert* cur, Level to, TimePoint now) {
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
                     ? fmt::format("{} {} {} below the falling threshold {} {} of {} for {}",
                                   t.what, Num(t.value), t.unit, Num(fth->falling), t.unit,
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

  void ReconcileOutage(Draft& d, StationState& st, TimePoint now) {
    {
      const std::string& id = st.cfg->id;
      const std::string key = Key(kOutageRule, id);
      const Alert* cur = OpenFor(d, key);
      const bool out = st.health != Health::kOk;
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
        a.reason = fmt::format("{}: {}", st.health == Health::kFailing ? "failing" : "stale",
                               st.health_reason);
        d.new_keys[key] = a.id;
        d.escalation_base[a.id] = now;
        CapEvent(d, EventKind::kRaised, CapMsgType::kAlert, now, a, kSystemActor, a.reason);
        Audit(d, now, kSystemActor, "raise", a.id, "level_from=0 " + Describe(a));
        Put(d, std::move(a));
      } else if (!out && cur != nullptr) {
        Alert a = *cur;
        a.state = AlertState::kResolved;
        a.last_change = now;
        a.reason = "station reporting again";
        CapEvent(d, EventKind::kResolved, CapMsgType::kCancel, now, a, kSystemActor, a.reason);
        Audit(d, now, kSystemActor, "resolve", a.id, Describe(a));
        Put(d, std::move(a));
      }
    }
  }

  bool SilenceMatches(const Silence& s, const Alert& a) const {
    if (!s.alert_id.empty()) return s.alert_id == a.id;
    if (!s.station_id.empty()) return s.station_id == a.station_id;
    if (!s.rule_id.empty()) return s.rule_id == a.rule_id;
    return false;
  }

  static bool InEffect(const Silence& s, TimePoint now) {
    return !s.removed && now < s.expires && (!s.needs_approval || !s.approved_by.empty());
  }

  std::string SilenceDetail(const Silence& s) const {
    return fmt::format(
        "silence={} alert_id={} station_id={} rule_id={} author={} reason={} expires_ms={} "
        "needs_approval={} approved_by={}",
        s.id, s.alert_id, s.station_id, s.rule_id, s.author, Quote(s.reason),
        s.expires.time_since_epoch().count(), s.needs_approval, s.approved_by);
  }

  void SilenceEvent(Draft& d, TimePoint now, const Silence& s, const std::string& actor,
                    const std::string& action) {
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

  // A silence whose alerts reach level >= 3 needs a second person (four-eyes).
  void ReconcileSilenceApproval(Draft& d, TimePoint now) {
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

  void ReconcileFlags(Draft& d, TimePoint now) {
    const auto view = OpenView(d);
    const auto sils = SilenceView(d);
    // The highest-level alert per subject (outage alerts take no part).
    std::map<std::string, const Alert*> top;
    for (const Alert* a : view) {
      if (a->kind == RuleKind::kSensorOutage) continue;
      const Alert*& t = top[a->subject];
      if (t == nullptr || a->level > t->level) t = a;
    }
    std::vector<Alert> changed;
    for (const Alert* a : view) {
      std::string suppress_reason;
      if (a->kind != RuleKind::kSensorOutage && a->kind != RuleKind::kManual &&
          !a->station_id.empty()) {
        auto it = stations.find(a->station_id);
        if (it != stations.end() && it->second.health != Health::kOk)
          suppress_reason = fmt::format("sensor outage of station {}", a->station_id);
      }
      if (suppress_reason.empty() && a->kind != RuleKind::kSensorOutage) {
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
        Event(d, suppressed ? EventKind::kSuppressed : EventKind::kUnsuppressed, now, n,
              kSystemActor, note);
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

  std::optional<Duration> EscalationAfter(const Alert& a) const {
    auto it = rule_by_id.find(a.rule_id);
    if (it != rule_by_id.end()) return it->second->escalation_after;
    return rules.engine.escalation_after;
  }

  void ReconcileEscalation(Draft& d, TimePoint now) {
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

  // ===========================================================================
  // Station health

  void SetHealth(Draft& d, StationState& st, Health h, const std::string& reason, TimePoint at,
                 const std::string& actor) {
    if (st.health == h) {
      st.health_reason = reason;
      return;
    }
    const char* names[] = {"ok", "stale", "failing"};
    Audit(
        d, at, actor, "station-health", "",
        fmt::format("station={} from={} to={} reason={}", st.cfg->id,
                    names[static_cast<int>(st.health)], names[static_cast<int>(h)], Quote(reason)));
    spdlog::info("alert_engine event=station_health station={} from={} to={} reason={}", st.cfg->id,
                 names[static_cast<int>(st.health)], names[static_cast<int>(h)], Quote(reason));
    st.health = h;
    st.health_reason = reason;
    st.health_since = at;
    if (h == Health::kOk) {
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

  void DetectStale(Draft& d, TimePoint now) {
    for (auto& [id, st] : stations) {
      if (st.health != Health::kOk) continue;
      const TimePoint since =
          st.has_reading ? std::max(st.last_observed, st.fresh_since) : st.fresh_since;
      if (now - since > st.cfg->stale_after) {
        SetHealth(
            d, st, Health::kStale,
            fmt::format("no usable reading for {} (expected every {})", FormatDuration(now - since),
                        FormatDuration(st.cfg->expected_interval)),
            now, kSystemActor);
      }
    }
  }

  void TickForecasts(TimePoint now) {
    for (auto& [key, t] : tracks) {
      if (t.rule->kind != RuleKind::kForecastDepth || !t.has_forecast) continue;
      if (t.condition != Condition::kUnknown && now - t.forecast_issued > t.rule->max_age)
        SetUnknown(t, fmt::format("forecast {} issued {} ago (max_age {})", t.forecast_run,
                                  FormatDuration(now - t.forecast_issued),
                                  FormatDuration(t.rule->max_age)));
    }
  }
};

// =============================================================================

AlertEngine::AlertEngine(RulesConfig rules, AlertStore& store, CapProfile cap, Clock clock)
    : impl_(std::make_unique<Impl>(std::move(rules), store, std::move(cap), std::move(clock))) {
  impl_->Init();
}

AlertEngine::~AlertEngine() = default;

void AlertEngine::AddCommitListener(CommitListener listener) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  impl_->listeners.push_back(std::move(listener));
}

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
    if (st.health == Health::kStale && !out_of_order &&
        now - reading.observed <= st.cfg->stale_after) {
      m.SetHealth(d, st, Health::kOk, "reading received", now, kSystemActor);
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
          {need, r.min_time_above + st.cfg->stale_after, r.min_dwell + st.cfg->stale_after});
    }
    out.emplace_back(id, need);
  }
  return out;
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
    switch (event.health) {
      case ingest::StationHealth::kOk:
        m.SetHealth(d, st, Health::kOk, reason, now, kSystemActor);
        break;
      case ingest::StationHealth::kStale:
        m.SetHealth(d, st, Health::kStale, reason, now, kSystemActor);
        break;
      case ingest::StationHealth::kFailing:
        m.SetHealth(d, st, Health::kFailing, reason, now, kSystemActor);
        break;
    }
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

void AlertEngine::OnForecast(const ForecastBatch& batch) {
  Impl& m = *impl_;
  std::vector<AlertEvent> committed;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const TimePoint now = m.clock();
    Impl::Draft d;
    for (auto& [key, t] : m.tracks) {
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
      const Level committed_level = m.CommittedLevel(d, t);
      const Level up = EvaluateLevel(r.levels, 0, max_depth);
      const Level held = EvaluateLevel(r.levels, committed_level, max_depth);
      const Level shown = std::max(up, held);
      const LevelThreshold* th = Impl::Threshold(r, shown > 0 ? shown : r.levels.front().level);
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
      m.Observe(t, up, held, now);
    }
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
    m.Reconcile(d, now);
    m.Commit(d, &committed);
  }
  m.Notify(committed);
}

// --- operator actions ---------------------------------------------------------

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
            req.rule_id != kOutageRule && req.rule_id != kManualRule)
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
        const bool orphan = cur.kind == RuleKind::kSensorOutage
                                ? m.stations.count(cur.subject) == 0
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
