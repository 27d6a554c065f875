#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

TimePoint OnsetOf(const Alert& a) {
  if (a.kind == RuleKind::kForecastDepth) return a.onset;
  return a.first_seen != TimePoint{} ? a.first_seen : a.activated;
}

const char* ToString(RuleKind k) {
  switch (k) {
    case RuleKind::kWaterLevel:
      return "water_level";
    case RuleKind::kRateOfRise:
      return "rate_of_rise";
    case RuleKind::kRainfall:
      return "rainfall";
    case RuleKind::kForecastDepth:
      return "forecast_depth";
    case RuleKind::kSensorOutage:
      return "sensor_outage";
    case RuleKind::kManual:
      return "manual";
    case RuleKind::kForecastOutage:
      return "forecast_outage";
  }
  return "unknown";
}

const char* ToString(AlertState s) {
  switch (s) {
    case AlertState::kPending:
      return "pending";
    case AlertState::kActive:
      return "active";
    case AlertState::kAcknowledged:
      return "acknowledged";
    case AlertState::kResolved:
      return "resolved";
  }
  return "unknown";
}

const char* ToString(Mode m) {
  switch (m) {
    case Mode::kActual:
      return "Actual";
    case Mode::kExercise:
      return "Exercise";
    case Mode::kTest:
      return "Test";
  }
  return "unknown";
}

const char* ToString(EventKind k) {
  switch (k) {
    case EventKind::kRaised:
      return "raised";
    case EventKind::kUpdated:
      return "updated";
    case EventKind::kResolved:
      return "resolved";
    case EventKind::kAcknowledged:
      return "acknowledged";
    case EventKind::kEscalated:
      return "escalated";
    case EventKind::kSuppressed:
      return "suppressed";
    case EventKind::kUnsuppressed:
      return "unsuppressed";
    case EventKind::kSilenceChanged:
      return "silence_changed";
    case EventKind::kPending:
      return "pending";
  }
  return "unknown";
}

const char* ToString(ErrorCode c) {
  switch (c) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace floodwarn::alerting
