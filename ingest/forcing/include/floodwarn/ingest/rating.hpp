// Rating curves: stage -> discharge with the segmented power law
// Q = a (h - h0)^b, and a least-squares fit of (a, b, h0) to gaugings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

struct RatingValue {
  double discharge = 0.0;     // m3/s; 0 when h <= h0 (no flow)
  bool extrapolated = false;  // above max_gauged_stage, or outside the segments' h range
  std::string note;           // why extrapolated, "" otherwise
};

// Discharge for `stage` with one curve. Stage below the first segment uses the
// first segment, above the last the last one (both flagged as extrapolated).
RatingValue EvaluateRating(const RatingCurve& curve, double stage);
// With the curve of `station` valid at `t`; nullopt when none is valid then
// (or the station has no rating).
std::optional<RatingValue> EvaluateRating(const Station& station, TimePoint t, double stage);

struct StagePair {
  double h = 0.0;  // stage
  double q = 0.0;  // measured discharge
};

struct RatingFit {
  double a = 0.0;
  double b = 0.0;
  double h0 = 0.0;
  bool h0_fitted = false;  // false when h0 was given
  // The fitted h0 ended at an end of its search interval (typically just
  // below the lowest stage): the gaugings do not constrain h0; give it.
  bool h0_at_bound = false;
  double r2 = 0.0;                // coefficient of determination in Q space
  double rmse = 0.0;              // root mean square of Q residuals (m3/s)
  std::vector<double> fitted;     // model Q per pair
  std::vector<double> residuals;  // measured - model, per pair
};

// Least-squares fit of Q = a (h - h0)^b minimising the sum of squared Q
// residuals. With h0 given: log-linear regression for (a, b) (Eigen) refined by
// Gauss-Newton in Q space. Without: h0 by a scan + golden-section search below
// the lowest stage, each candidate fitted as above. Throws std::invalid_argument
// when fewer than 3 pairs (4 without h0), a pair has Q <= 0 or h <= h0.
RatingFit FitRatingCurve(const std::vector<StagePair>& pairs, std::optional<double> h0);

// Reads "h,q" pairs from a CSV file: a header line naming the two columns
// (h/stage and q/discharge, any case), '#' comments. Throws std::runtime_error
// naming the file and line.
std::vector<StagePair> ReadStagePairsCsv(const std::string& path);

}  // namespace floodwarn::ingest
