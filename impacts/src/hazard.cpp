#include "floodwarn/impacts/hazard.hpp"

namespace floodwarn::impacts {

double DebrisFactor(double depth, double speed, LandUse land) {
  if (!(depth > 0)) return 0.0;
  const bool high = depth > 0.75 || speed > 2.0;
  if (high) return land == LandUse::kPastureArable ? 0.5 : 1.0;
  if (depth > 0.25) {
    switch (land) {
      case LandUse::kPastureArable:
        return 0.0;
      case LandUse::kWoodland:
        return 0.5;
      case LandUse::kUrban:
        return 1.0;
    }
  }
  return 0.0;
}

double HazardRating(double depth, double speed, LandUse land) {
  if (!(depth > 0)) return 0.0;
  return depth * (speed + 0.5) + DebrisFactor(depth, speed, land);
}

int HazardClass(double rating, double depth) {
  if (!(depth > 0)) return 0;
  if (rating < 0.75) return 1;
  if (rating <= 1.25) return 2;
  if (rating <= 2.0) return 3;
  return 4;
}

const char* HazardClassName(int c) {
  switch (c) {
    case 0:
      return "no water";
    case 1:
      return "low (caution)";
    case 2:
      return "danger for some";
    case 3:
      return "danger for most";
    case 4:
      return "danger for all";
  }
  return "unknown";
}

}  // namespace floodwarn::impacts
