// Domain types of the alerting service. gRPC-free and Kokkos-free: the rules
// engine, the store/outbox, CAP, the channel adapters and the gRPC adapter all
// speak these types (STYLE.md: the service class is a thin adapter).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/common/time.hpp"

namespace floodwarn::alerting {

// The project's one time type (milliseconds since 1970-01-01 UTC).
using Clock = common::Clock;
using TimePoint = common::TimePoint;
using Duration = common::Duration;

// Warning level 1..4 (German Meldestufen / DWD warning levels); 0 = none.
// CAP severity: 1 Minor, 2 Moderate, 3 Severe, 4 Extreme (docs/ALERTING.md).
using Level = int;

enum class RuleKind : std::uint8_t {
  kWaterLevel,      // observed stage against Meldestufen 1..4
  kRateOfRise,      // stage rise over a window
  kRainfall,        // rain depth over 1 h / 6 h windows (DWD heavy-rain classes)
  kForecastDepth,   // forecast depth at a point/zone within a lead time
  kSensorOutage,    // a stale or failing gauge
  kManual,          // issued by an operator
  kForecastOutage,  // no usable forecast (a cycle late, failed or without forcing)
};

// Lifecycle: pending -> active -> acknowledged -> resolved (all-clear).
enum class AlertState : std::uint8_t { kPending, kActive, kAcknowledged, kResolved };

// CAP <status>: Actual, Exercise (exercise participants only) or Test (disregard).
enum class Mode : std::uint8_t { kActual, kExercise, kTest };

// What a rule says about its subject right now.
enum class Condition : std::uint8_t { kClear, kRaised, kUnknown };

struct GeoPoint {
  double lat = 0.0;  // WGS84 degrees
  double lon = 0.0;
};

// Area of an alert (CAP <area>): a closed polygon and/or a circle, plus the
// German municipal key (AGS 8 digits or ARS 12 digits) as geocode.
struct Area {
  std::string id;                 // configured area id, used by subscriber filters
  std::string name;               // areaDesc, e.g. "Talstadt, Unterstadt"
  std::vector<GeoPoint> polygon;  // first == last when present
  std::optional<std::pair<GeoPoint, double>> circle;  // centre, radius in km
  std::string ars;  // Amtlicher Regionalschlüssel (12 digits) or AGS (8)
};

// A reference to an earlier CAP message (CAP references: sender,identifier,sent).
struct MessageRef {
  std::string sender;
  std::string identifier;
  TimePoint sent{};
};

struct Acknowledgement {
  std::string by;  // authenticated principal
  std::string note;
  TimePoint at{};
};

// One alert: the dedup identity is (rule_id, subject). It keeps its id from
// the first raise to the all-clear; every outgoing message (raise, level
// change, all-clear) gets a new CAP identifier referencing the previous ones.
struct Alert {
  std::string id;       // stable, unique, CAP-safe ([A-Za-z0-9._-]), e.g. "fw.3f2a...."
  std::string rule_id;  // configured rule id, "manual" for operator alerts
  std::string subject;  // station id, zone id, or operator-chosen subject
  RuleKind kind = RuleKind::kWaterLevel;
  Level level = 0;
  AlertState state = AlertState::kPending;
  Mode mode = Mode::kActual;
  bool suppressed = false;   // inhibited by a higher level / sensor outage
  bool silenced = false;     // covered by an active silence
  std::string station_id;    // for subscriber filters; empty if none
  std::string subject_name;  // human name of the subject, e.g. "Pegel Talstadt"
  Area area;

  // The observation that drove the last change (for texts and audit).
  double value = 0.0;
  double threshold = 0.0;
  std::string unit;
  std::string reason;  // e.g. "level 412 cm >= 400 cm (Meldestufe 2)"

  // Operator-supplied texts for manual alerts; rule alerts get generated texts.
  std::string headline_de, headline_en, description_de, description_en, instruction_de,
      instruction_en;

  TimePoint first_seen{};   // condition first met (pending since)
  TimePoint activated{};    // became active (0 if never)
  TimePoint last_change{};  // last level/state change
  TimePoint expires{};      // CAP expires of the latest message
  // Forecast alerts: when the forecast expects the level's threshold to be
  // reached (CAP onset); 0 for observed alerts, whose onset is first_seen.
  TimePoint onset{};
  std::optional<Acknowledgement> ack;
  bool escalated = false;

  // CAP message chain: every message this alert has produced, oldest first.
  std::vector<MessageRef> messages;
  std::string incident;  // CAP <incidents>, one per event (= id by default)
};

// Kinds of events in the outbox (and on the gRPC stream).
enum class EventKind : std::uint8_t {
  kRaised,          // alert became active: CAP Alert
  kUpdated,         // level changed (up or down): CAP Update referencing previous
  kResolved,        // all-clear: CAP Cancel (responseType AllClear) referencing previous
  kAcknowledged,    // an operator acknowledged
  kEscalated,       // not acknowledged within its escalation time
  kSuppressed,      // inhibited (higher level / outage) or silenced
  kUnsuppressed,    // inhibition or silence ended
  kSilenceChanged,  // a silence was created, approved, expired or removed
  kPending,         // condition met, waiting for the minimum time above
};

// One committed outbox entry. `sequence` is assigned by the store in the
// same SQLite transaction as the state change; it is strictly increasing.
struct AlertEvent {
  std::uint64_t sequence = 0;
  EventKind kind = EventKind::kRaised;
  TimePoint at{};
  Alert alert;        // snapshot after the change
  std::string actor;  // "system" or the operator principal
  std::string note;
  std::string cap_xml;  // the CAP message for Raised/Updated/Resolved, else empty
  std::string cap_identifier;
};

// Silence: suppresses notifications of matching alerts until `expires`.
// Level >= 3 targets need a second person's approval (four-eyes) before the
// silence takes effect.
struct Silence {
  std::string id;
  std::string alert_id;    // match one alert, or
  std::string station_id;  // all alerts of a station, or
  std::string rule_id;     // all alerts of a rule (empty = not matched on)
  std::string author;
  std::string reason;
  TimePoint created{};
  TimePoint expires{};
  std::string approved_by;  // empty until approved (only needed for level >= 3)
  bool needs_approval = false;
  bool removed = false;
  std::string removed_by;
};

// Append-only audit entry. Hash-chained: hash = SHA-256(prev_hash || fields).
struct AuditEntry {
  std::uint64_t id = 0;  // assigned by the store
  TimePoint at{};
  std::string actor;   // "system", "rules", or the operator principal
  std::string action;  // e.g. "transition", "acknowledge", "silence", "manual", "login-denied"
  std::string alert_id;
  std::string detail;  // key=value text or JSON
  std::string prev_hash;
  std::string hash;
};

// Errors are values (STYLE.md); the gRPC adapter maps them to grpc::Status.
enum class ErrorCode : std::uint8_t {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnavailable,
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  bool ok() const { return code == ErrorCode::kOk; }
};

template <typename T>
struct Result {
  Error error;
  std::optional<T> value;
  bool ok() const { return error.ok(); }
  static Result Ok(T v) { return Result{Error{}, std::move(v)}; }
  static Result Fail(ErrorCode c, std::string m) {
    return Result{Error{c, std::move(m)}, std::nullopt};
  }
};

// The CAP onset of an alert: for a forecast when the threshold is expected to
// be reached (Alert::onset), else when the observed condition began
// (first_seen, else activated). TimePoint{} when unknown: better none than a
// wrong one.
TimePoint OnsetOf(const Alert& a);

const char* ToString(RuleKind k);
const char* ToString(AlertState s);
const char* ToString(Mode m);
const char* ToString(EventKind k);
const char* ToString(ErrorCode c);

}  // namespace floodwarn::alerting
