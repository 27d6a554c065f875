// What subscribers and operators ask of the alerting service: the alert
// filter of ListActive / Subscribe and the operator requests (manual alert,
// silence). The engine acts on them, the gRPC service and the client carry
// them (docs/alerting/SERVICE.md); none of them needs the engine to build one.
#pragma once

#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

struct AlertFilter {
  std::vector<std::string> area_ids;     // empty = any
  std::vector<std::string> station_ids;  // empty = any
  Level min_level = 0;
  bool include_resolved = false;
};
bool Matches(const AlertFilter& f, const Alert& a);

struct ManualAlertRequest {
  std::string subject;  // required
  Level level = 0;      // 1..4
  std::string area_id;  // a configured area
  std::string headline_de, headline_en, description_de, description_en, instruction_de,
      instruction_en;
  Mode mode = Mode::kActual;
};

struct SilenceRequest {
  std::string alert_id, station_id, rule_id;  // exactly one set
  std::string reason;                         // required
  TimePoint expires{};                        // required, in the future
};

}  // namespace floodwarn::alerting
