// Rules configuration (TOML, validated on load, unknown keys rejected).
// PLACEHOLDER: owned by the rules/engine work; see docs/ALERTING.md.
#pragma once

#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

struct RulesConfig {
  std::vector<Area> areas;
};

// Reads the rule-related top-level tables of a service config file.
RulesConfig LoadRulesConfig(const std::string& path);

}  // namespace floodwarn::alerting
