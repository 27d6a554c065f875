// Rating curves: evaluation (segments, validity, extrapolation flags) and the
// least-squares fit against external truths: a known curve with noise, and
// real gaugings of the Nordura river (Iceland) compared with an independent
// Nelder-Mead fit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "floodwarn/ingest/rating.hpp"

namespace fi = floodwarn::ingest;

namespace {

fi::RatingCurve TwoSegments() {
  fi::RatingCurve c;
  c.max_gauged_stage = 350;
  c.segments.push_back({10, 120, 0.02, 1.6, 10});
  c.segments.push_back({120, 900, 0.05, 1.45, 25});
  return c;
}

}  // namespace

TEST(Rating, EvaluatesTheSegmentOfTheStage) {
  const fi::RatingCurve c = TwoSegments();
  // h = 60: 0.02 * 50^1.6; 50^1.6 = e^(1.6 ln 50) = e^6.259237 = 522.94
  auto v = fi::EvaluateRating(c, 60);
  EXPECT_NEAR(v.discharge, 0.02 * 522.94, 0.01);
  EXPECT_FALSE(v.extrapolated);
  // h = 200 (second segment): 0.05 * 175^1.45 = 0.05 * e^(1.45 * 5.164786) = 0.05 * 1788.6
  v = fi::EvaluateRating(c, 200);
  EXPECT_NEAR(v.discharge, 0.05 * 1788.6, 0.1);
  EXPECT_FALSE(v.extrapolated);
  // The breakpoint belongs to the upper segment ([h_min, h_max)).
  EXPECT_DOUBLE_EQ(fi::EvaluateRating(c, 120).discharge, 0.05 * std::pow(95.0, 1.45));
}

TEST(Rating, ZeroFlowAndExtrapolationFlags) {
  const fi::RatingCurve c = TwoSegments();
  auto v = fi::EvaluateRating(c, 10);  // h == h0
  EXPECT_EQ(v.discharge, 0.0);
  EXPECT_FALSE(v.extrapolated);
  v = fi::EvaluateRating(c, 5);  // below the first segment and below h0
  EXPECT_EQ(v.discharge, 0.0);
  EXPECT_TRUE(v.extrapolated);
  v = fi::EvaluateRating(c, 350);  // the highest gauging itself is not extrapolation
  EXPECT_FALSE(v.extrapolated);
  v = fi::EvaluateRating(c, 351);
  EXPECT_TRUE(v.extrapolated);
  EXPECT_NE(v.note.find("highest gauging"), std::string::npos) << v.note;
  v = fi::EvaluateRating(c, 950);  // beyond the last segment
  EXPECT_TRUE(v.extrapolated);
  EXPECT_NEAR(v.discharge, 0.05 * std::pow(925.0, 1.45), 1e-9);
  EXPECT_NE(v.note.find("above the rating's range"), std::string::npos) << v.note;
  EXPECT_TRUE(std::isnan(fi::EvaluateRating(c, NAN).discharge));
}

TEST(Rating, PicksTheCurveValidAtTheObservationTime) {
  fi::Station s;
  fi::RatingCurve old_curve;
  old_curve.valid_from = fi::TimePoint(std::chrono::hours(0));
  old_curve.valid_to = fi::TimePoint(std::chrono::hours(100));
  old_curve.segments.push_back({0, 10, 1.0, 2.0, 0.0});
  fi::RatingCurve new_curve = old_curve;
  new_curve.valid_from = fi::TimePoint(std::chrono::hours(100));
  new_curve.valid_to.reset();
  new_curve.segments[0].a = 3.0;
  s.ratings = {old_curve, new_curve};
  EXPECT_DOUBLE_EQ(fi::EvaluateRating(s, fi::TimePoint(std::chrono::hours(99)), 2.0)->discharge,
                   4.0);
  EXPECT_DOUBLE_EQ(fi::EvaluateRating(s, fi::TimePoint(std::chrono::hours(100)), 2.0)->discharge,
                   12.0);
  EXPECT_FALSE(fi::EvaluateRating(s, fi::TimePoint(std::chrono::hours(-1)), 2.0).has_value());
}

TEST(RatingFit, RecoversAKnownCurveFromNoisyPairs) {
  // Truth: Q = 2.5 (h - 0.35)^1.7, 40 gaugings from 0.5 to 4 m with 2 %
  // multiplicative noise (seeded).
  const double a = 2.5, b = 1.7, h0 = 0.35;
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<fi::StagePair> pairs;
  for (int i = 0; i < 40; ++i) {
    const double h = 0.5 + 3.5 * i / 39.0;
    pairs.push_back({h, a * std::pow(h - h0, b) * (1.0 + noise(rng))});
  }
  const fi::RatingFit fit = fi::FitRatingCurve(pairs, std::nullopt);
  EXPECT_TRUE(fit.h0_fitted);
  EXPECT_NEAR(fit.h0, h0, 0.05);
  EXPECT_NEAR(fit.b, b, 0.06);
  EXPECT_NEAR(fit.a, a, 0.15);
  EXPECT_GT(fit.r2, 0.99);
  ASSERT_EQ(fit.residuals.size(), pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i)
    EXPECT_NEAR(fit.residuals[i], pairs[i].q - fit.fitted[i], 1e-12);
  // h0 given: (a, b) come out tighter.
  const fi::RatingFit fixed = fi::FitRatingCurve(pairs, h0);
  EXPECT_FALSE(fixed.h0_fitted);
  EXPECT_EQ(fixed.h0, h0);
  EXPECT_NEAR(fixed.b, b, 0.02);
  EXPECT_NEAR(fixed.a, a, 0.05);
}

TEST(RatingFit, ExactDataIsFittedExactly) {
  std::vector<fi::StagePair> pairs;
  for (int i = 1; i <= 8; ++i)
    pairs.push_back({1.0 + i * 0.25, 7.0 * std::pow(i * 0.25 + 0.2, 2.1)});
  const fi::RatingFit fit = fi::FitRatingCurve(pairs, std::nullopt);
  EXPECT_NEAR(fit.h0, 0.8, 1e-4);
  EXPECT_NEAR(fit.b, 2.1, 1e-4);
  EXPECT_NEAR(fit.a, 7.0, 1e-3);
  EXPECT_LT(fit.rmse, 1e-6);
}

TEST(RatingFit, RealGaugingsNorduraRiver) {
  // 35 gaugings (stage m, Q m3/s) of the Nordura river, Iceland, by the
  // Icelandic Meteorological Office, published with Hrafnkelsson et al. (2022),
  // "Generalization of the power-law rating curve using hydrodynamic theory and
  // Bayesian hierarchical modeling", Environmetrics 33(2), doi:10.1002/env.2711
  // (table as distributed in the USGS `ratingcurve` package, data/nordura.csv).
  const std::vector<fi::StagePair> pairs = {
      {1.322, 2.73}, {1.375, 3.05}, {1.414, 3.85}, {1.5, 5.13},   {1.505, 5.34}, {1.53, 6.61},
      {1.542, 6.41}, {1.56, 7.23},  {1.569, 6.81}, {1.621, 8.38}, {1.708, 10.7}, {1.732, 9.82},
      {1.777, 13.2}, {1.792, 13.3}, {1.819, 14.9}, {1.835, 15.4}, {1.865, 15.7}, {1.865, 15.9},
      {1.882, 14.9}, {1.89, 16.9},  {1.913, 17},   {1.913, 16.8}, {1.934, 17.7}, {1.965, 18.7},
      {2.34, 32.9},  {2.41, 36.5},  {3.01, 71.9},  {3.19, 82.8},  {3.3, 86.6},   {3.34, 97.8},
      {3.34, 105},   {4.525, 303},  {4.99, 373},   {5.03, 360},   {5.35, 391}};
  // Reference: an independent fit of the same model (least squares in Q) by
  // Nelder-Mead in pure Python from 15 starting points, written for this test:
  // a = 15.6292, b = 2.22250, h0 = 0.93962 m, SSE = 3651.29 (m3/s)^2.
  const fi::RatingFit fit = fi::FitRatingCurve(pairs, std::nullopt);
  double sse = 0;
  for (double r : fit.residuals) sse += r * r;
  EXPECT_LE(sse, 3651.29 * (1 + 1e-4));  // at least as good a minimum
  EXPECT_NEAR(fit.a, 15.6292, 0.02);
  EXPECT_NEAR(fit.b, 2.22250, 0.002);
  EXPECT_NEAR(fit.h0, 0.93962, 0.002);
  EXPECT_NEAR(fit.rmse, 10.2138, 0.002);
  EXPECT_GT(fit.r2, 0.99);
  EXPECT_FALSE(fit.h0_at_bound);
  // Eight of the gaugings, sparse at low flow: SSE keeps falling as h0 nears
  // the lowest stage, so the fit must say that h0 is not determined.
  const std::vector<fi::StagePair> few = {{1.322, 2.73}, {1.5, 5.13},  {1.865, 15.7}, {2.34, 32.9},
                                          {3.01, 71.9},  {3.34, 97.8}, {4.525, 303},  {5.35, 391}};
  const fi::RatingFit weak = fi::FitRatingCurve(few, std::nullopt);
  EXPECT_TRUE(weak.h0_at_bound);
  EXPECT_LT(weak.h0, 1.322);
}

TEST(RatingFit, RejectsBadInput) {
  EXPECT_THROW(fi::FitRatingCurve({{1, 1}, {2, 2}, {3, 3}}, std::nullopt), std::invalid_argument);
  EXPECT_THROW(fi::FitRatingCurve({{1, 1}, {2, 0}, {3, 3}}, 0.0), std::invalid_argument);
  EXPECT_THROW(fi::FitRatingCurve({{1, 1}, {2, 2}, {3, 3}}, 1.0), std::invalid_argument);
}
