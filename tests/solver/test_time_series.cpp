#include <gtest/gtest.h>

#include "floodwarn/solver/time_series.hpp"

using floodwarn::solver::TimeSeries;

TEST(TimeSeries, InterpolatesAndHoldsEnds) {
  TimeSeries s({0, 10, 20}, {0, 10, 0});
  EXPECT_DOUBLE_EQ(s.At(-5), 0);
  EXPECT_DOUBLE_EQ(s.At(5), 5);
  EXPECT_DOUBLE_EQ(s.At(15), 5);
  EXPECT_DOUBLE_EQ(s.At(25), 0);
}

TEST(TimeSeries, IntegralIsExactForPiecewiseLinear) {
  TimeSeries s({0, 10, 20}, {0, 10, 0});
  // Triangle of base 20 and height 10: area 100; plus held-constant tails.
  EXPECT_DOUBLE_EQ(s.Integral(0, 20), 100);
  EXPECT_DOUBLE_EQ(s.Integral(5, 15), 75);  // trapezoids 5..10 (37.5) and 10..15 (37.5)
  EXPECT_DOUBLE_EQ(s.Integral(-10, 0), 0);
  TimeSeries c({0, 1}, {2, 2});
  EXPECT_DOUBLE_EQ(c.Integral(-3, 7), 20);
  EXPECT_DOUBLE_EQ(c.Mean(3, 5), 2);
  // Additivity over a split anywhere.
  EXPECT_NEAR(s.Integral(0, 7.3) + s.Integral(7.3, 20), 100, 1e-12);
}

TEST(TimeSeries, RejectsBadInput) {
  EXPECT_THROW(TimeSeries({0, 0}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(TimeSeries({1, 0}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(TimeSeries({0, 1}, {1}), std::invalid_argument);
  EXPECT_THROW(TimeSeries({}, {}), std::invalid_argument);
  try {
    TimeSeries({0, 5, 3}, {1, 2, 3}, "inflow 'mill'");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("inflow 'mill'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("entry 2"), std::string::npos);
  }
}
