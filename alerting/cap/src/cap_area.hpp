// Private to floodwarn::alerting_cap: an alert's area as it goes into a CAP
// <area>: coordinates, the polygon, the circle, the municipal geocode.
#pragma once

#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting::cap_internal {

// Shortest text that reads back as the same double (so that a closed polygon
// stays closed byte for byte).
std::string Coord(double v);
bool ValidLatLon(const GeoPoint& p);
bool SamePoint(const GeoPoint& a, const GeoPoint& b);
// The polygon as it goes into the message: closed if it was not; empty when
// it cannot become a valid CAP polygon (CheckCapArea says why).
std::vector<GeoPoint> CapPolygon(const std::vector<GeoPoint>& in);
bool CapCircleOk(const Area& a);
// "ARS" for a 12-digit key, "AGS" for an 8-digit one, else nullptr.
const char* GeocodeName(const std::string& key);

}  // namespace floodwarn::alerting::cap_internal
