#include "floodwarn/alerting/requests.hpp"

#include <algorithm>

namespace floodwarn::alerting {

bool Matches(const AlertFilter& f, const Alert& a) {
  if (!f.area_ids.empty() &&
      std::find(f.area_ids.begin(), f.area_ids.end(), a.area.id) == f.area_ids.end())
    return false;
  if (!f.station_ids.empty() &&
      std::find(f.station_ids.begin(), f.station_ids.end(), a.station_id) == f.station_ids.end())
    return false;
  if (a.level < f.min_level) return false;
  if (!f.include_resolved && a.state == AlertState::kResolved) return false;
  return true;
}

}  // namespace floodwarn::alerting
