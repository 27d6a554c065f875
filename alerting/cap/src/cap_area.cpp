// An alert's area in a CAP message (cap_area.hpp).
#include "cap_area.hpp"

#include <fmt/format.h>

#include <cmath>

#include "cap_text.hpp"

namespace floodwarn::alerting::cap_internal {

// Shortest text that reads back as the same double (so that a closed polygon
// stays closed byte for byte).
std::string Coord(double v) { return fmt::format("{}", v); }

bool ValidLatLon(const GeoPoint& p) {
  return std::isfinite(p.lat) && std::isfinite(p.lon) && p.lat >= -90.0 && p.lat <= 90.0 &&
         p.lon >= -180.0 && p.lon <= 180.0;
}

bool SamePoint(const GeoPoint& a, const GeoPoint& b) { return a.lat == b.lat && a.lon == b.lon; }

// The polygon as it goes into the message: closed if it was not; empty when
// it cannot become a valid CAP polygon (CheckCapArea says why).
std::vector<GeoPoint> CapPolygon(const std::vector<GeoPoint>& in) {
  std::vector<GeoPoint> p = in;
  if (p.empty()) return p;
  for (const GeoPoint& g : p)
    if (!ValidLatLon(g)) return {};
  if (!SamePoint(p.front(), p.back())) p.push_back(p.front());
  if (p.size() < 4) return {};
  return p;
}

bool CapCircleOk(const Area& a) {
  return a.circle && ValidLatLon(a.circle->first) && std::isfinite(a.circle->second) &&
         a.circle->second > 0.0;
}

const char* GeocodeName(const std::string& key) {
  if (!AllDigits(key)) return nullptr;
  if (key.size() == 12) return "ARS";
  if (key.size() == 8) return "AGS";
  return nullptr;
}

}  // namespace floodwarn::alerting::cap_internal
