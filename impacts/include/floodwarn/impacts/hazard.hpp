// Flood hazard rating to people, after Defra/Environment Agency R&D report
// FD2320 (HR Wallingford, Ramsbottom et al. 2006, and the 2008 supplementary
// note): HR = d (v + 0.5) + DF, with depth d (m), speed v (m/s) and the
// debris factor DF by depth, speed and dominant land use.
#pragma once

#include <string>

namespace floodwarn::impacts {

enum class LandUse { kPastureArable, kWoodland, kUrban };

// FD2320 Table 3.1: DF = 0 for d <= 0.25 m; for 0.25 < d <= 0.75 m:
// 0 / 0.5 / 1 (pasture-arable / woodland / urban); for d > 0.75 m or v > 2 m/s:
// 0.5 / 1 / 1. A dry cell (d <= 0) has DF = 0.
double DebrisFactor(double depth, double speed, LandUse land);

// HR = d (v + 0.5) + DF; 0 for d <= 0.
double HazardRating(double depth, double speed, LandUse land);

// FD2320 classes: 0 no water, 1 HR < 0.75 "low: caution", 2 HR 0.75-1.25
// "danger for some", 3 HR 1.25-2.0 "danger for most", 4 HR > 2.0 "danger for all".
int HazardClass(double rating, double depth);
const char* HazardClassName(int hazard_class);

}  // namespace floodwarn::impacts
