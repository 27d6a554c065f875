// The CAP vocabulary: mapping tables (docs/alerting/CAP.md) and the msgType
// names.
#include "cap_vocabulary.hpp"

namespace floodwarn::alerting {
namespace cap_internal {

bool IsForecast(RuleKind k) { return k == RuleKind::kForecastDepth; }

bool IsOutage(RuleKind k) { return k == RuleKind::kSensorOutage || k == RuleKind::kForecastOutage; }

const char* Category(RuleKind k) { return IsOutage(k) ? "Infra" : "Met"; }

std::vector<const char*> ResponseTypes(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return {"AllClear"};
  if (IsOutage(a.kind)) return {"Monitor"};
  // Never Evacuate or Shelter: ordering people out is the competent
  // authority's decision, not a gauge threshold's.
  switch (a.level) {
    case 2:
      return {"Prepare"};
    case 3:
      return {"Prepare", "Avoid"};
    case 4:
      return {"Avoid", "Prepare"};
    default:
      return {"Monitor"};
  }
}

const char* Urgency(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Past";
  if (IsOutage(a.kind)) return "Unknown";
  if (IsForecast(a.kind)) return "Expected";
  return "Immediate";
}

const char* Severity(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Minor";
  if (IsOutage(a.kind)) return "Unknown";
  switch (a.level) {
    case 1:
      return "Minor";
    case 2:
      return "Moderate";
    case 3:
      return "Severe";
    case 4:
      return "Extreme";
    default:
      return "Unknown";
  }
}

const char* Certainty(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Observed";
  switch (a.kind) {
    case RuleKind::kWaterLevel:
    case RuleKind::kRateOfRise:
    case RuleKind::kRainfall:
      return "Observed";
    case RuleKind::kForecastDepth:
    case RuleKind::kManual:
      return "Likely";
    case RuleKind::kSensorOutage:
    case RuleKind::kForecastOutage:
      return "Unknown";
  }
  return "Unknown";
}

}  // namespace cap_internal

const char* ToString(CapMsgType t) {
  switch (t) {
    case CapMsgType::kAlert:
      return "Alert";
    case CapMsgType::kUpdate:
      return "Update";
    case CapMsgType::kCancel:
      return "Cancel";
  }
  return "Alert";
}

}  // namespace floodwarn::alerting
