// A piecewise-linear time series (time in s, any value), used for rain rates,
// inflow hydrographs and boundary levels.
#pragma once

#include <string>
#include <vector>

namespace floodwarn::solver {

class TimeSeries {
 public:
  TimeSeries() = default;
  // Throws std::invalid_argument when sizes differ, it is empty, a value is not
  // finite or the times are not strictly increasing; `what` names the series.
  TimeSeries(std::vector<double> times, std::vector<double> values, std::string what = "series");
  static TimeSeries Constant(double value);

  bool empty() const { return t_.empty(); }
  const std::vector<double>& times() const { return t_; }
  const std::vector<double>& values() const { return v_; }

  // Linear interpolation; held constant before the first and after the last point.
  double At(double t) const;
  // Exact integral of the interpolant over [t0, t1] (t0 <= t1).
  double Integral(double t0, double t1) const;
  // Mean over [t0, t1]; At(t0) when t1 == t0.
  double Mean(double t0, double t1) const;

 private:
  std::vector<double> t_;
  std::vector<double> v_;
};

}  // namespace floodwarn::solver
