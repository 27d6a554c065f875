// Hazard rating against the definitions of Defra/EA FD2320 (Ramsbottom et
// al. 2006; supplementary note 2008): HR = d (v + 0.5) + DF, DF from Table
// 3.1, classes at HR 0.75 / 1.25 / 2.0. Expected values computed by hand
// from those definitions.
#include <gtest/gtest.h>

#include "floodwarn/impacts/hazard.hpp"

using floodwarn::impacts::DebrisFactor;
using floodwarn::impacts::HazardClass;
using floodwarn::impacts::HazardRating;
using floodwarn::impacts::LandUse;

TEST(Hazard, DebrisFactorTable) {
  // Rows of FD2320 Table 3.1 (pasture/arable, woodland, urban).
  EXPECT_EQ(DebrisFactor(0.2, 0.5, LandUse::kPastureArable), 0.0);
  EXPECT_EQ(DebrisFactor(0.2, 0.5, LandUse::kWoodland), 0.0);
  EXPECT_EQ(DebrisFactor(0.2, 0.5, LandUse::kUrban), 0.0);
  EXPECT_EQ(DebrisFactor(0.5, 0.5, LandUse::kPastureArable), 0.0);
  EXPECT_EQ(DebrisFactor(0.5, 0.5, LandUse::kWoodland), 0.5);
  EXPECT_EQ(DebrisFactor(0.5, 0.5, LandUse::kUrban), 1.0);
  EXPECT_EQ(DebrisFactor(1.0, 0.5, LandUse::kPastureArable), 0.5);
  EXPECT_EQ(DebrisFactor(1.0, 0.5, LandUse::kWoodland), 1.0);
  EXPECT_EQ(DebrisFactor(0.2, 2.5, LandUse::kPastureArable), 0.5);  // v > 2 m/s
  EXPECT_EQ(DebrisFactor(0.0, 3.0, LandUse::kUrban), 0.0);          // dry
}

TEST(Hazard, RatingAndClasses) {
  // d = 0.2, v = 0.5, urban: 0.2 * 1.0 + 0 = 0.2 -> low.
  EXPECT_DOUBLE_EQ(HazardRating(0.2, 0.5, LandUse::kUrban), 0.2);
  EXPECT_EQ(HazardClass(0.2, 0.2), 1);
  // d = 0.5, v = 0.2, pasture: 0.5 * 0.7 + 0 = 0.35 -> low.
  EXPECT_DOUBLE_EQ(HazardRating(0.5, 0.2, LandUse::kPastureArable), 0.35);
  // d = 0.5, v = 1.0, urban: 0.5 * 1.5 + 1 = 1.75 -> danger for most.
  EXPECT_DOUBLE_EQ(HazardRating(0.5, 1.0, LandUse::kUrban), 1.75);
  EXPECT_EQ(HazardClass(1.75, 0.5), 3);
  // d = 0.3, v = 0.9, pasture: 0.3 * 1.4 + 0 = 0.42; woodland: + 0.5 = 0.92 -> danger for some.
  EXPECT_NEAR(HazardRating(0.3, 0.9, LandUse::kWoodland), 0.92, 1e-12);
  EXPECT_EQ(HazardClass(0.92, 0.3), 2);
  // d = 1.2, v = 1.5, urban: 1.2 * 2.0 + 1 = 3.4 -> danger for all.
  EXPECT_DOUBLE_EQ(HazardRating(1.2, 1.5, LandUse::kUrban), 3.4);
  EXPECT_EQ(HazardClass(3.4, 1.2), 4);
  // Class boundaries: 0.75 and 1.25 belong to "danger for some", 2.0 to "most".
  EXPECT_EQ(HazardClass(0.7499, 0.1), 1);
  EXPECT_EQ(HazardClass(0.75, 0.1), 2);
  EXPECT_EQ(HazardClass(1.25, 0.1), 2);
  EXPECT_EQ(HazardClass(2.0, 0.1), 3);
  EXPECT_EQ(HazardClass(2.0001, 0.1), 4);
  EXPECT_EQ(HazardClass(0.0, 0.0), 0);  // never wet
}
