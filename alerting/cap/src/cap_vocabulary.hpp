// Private to floodwarn::alerting_cap: the CAP 1.2 vocabulary floodwarn uses
// (docs/alerting/CAP.md, "Mapping"): the namespace and limits, and what a
// message says for an alert: category, response types, urgency, severity,
// certainty.
#pragma once

#include <cstddef>
#include <vector>

#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting::cap_internal {

inline constexpr const char* kCapNamespace = "urn:oasis:names:tc:emergency:cap:1.2";
inline constexpr std::size_t kMaxHeadlineChars = 160;
// UTC-12 .. UTC+14 exist; +-14 h is the range.
inline constexpr int kMaxOffsetMinutes = 14 * 60;

bool IsForecast(RuleKind k);
// A sensor or forecast outage: an operational alert, not a flood warning.
bool IsOutage(RuleKind k);
const char* Category(RuleKind k);
std::vector<const char*> ResponseTypes(CapMsgType type, const Alert& a);
const char* Urgency(CapMsgType type, const Alert& a);
const char* Severity(CapMsgType type, const Alert& a);
const char* Certainty(CapMsgType type, const Alert& a);

}  // namespace floodwarn::alerting::cap_internal
