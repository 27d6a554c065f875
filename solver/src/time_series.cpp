#include "floodwarn/solver/time_series.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace floodwarn::solver {

TimeSeries::TimeSeries(std::vector<double> times, std::vector<double> values, std::string what)
    : t_(std::move(times)), v_(std::move(values)) {
  if (t_.empty()) throw std::invalid_argument(what + ": time series is empty");
  if (t_.size() != v_.size())
    throw std::invalid_argument(what + ": " + std::to_string(t_.size()) + " times but " +
                                std::to_string(v_.size()) + " values");
  for (std::size_t k = 0; k < t_.size(); ++k) {
    if (!std::isfinite(t_[k]) || !std::isfinite(v_[k]))
      throw std::invalid_argument(what + ": entry " + std::to_string(k) + " is not finite");
    if (k > 0 && !(t_[k] > t_[k - 1]))
      throw std::invalid_argument(what + ": times must increase strictly (entry " +
                                  std::to_string(k) + ": " + std::to_string(t_[k]) + " after " +
                                  std::to_string(t_[k - 1]) + ")");
  }
}

TimeSeries TimeSeries::Constant(double value) { return TimeSeries({0.0}, {value}, "constant"); }

double TimeSeries::At(double t) const {
  if (t_.empty()) return 0.0;
  if (t <= t_.front()) return v_.front();
  if (t >= t_.back()) return v_.back();
  const auto it = std::upper_bound(t_.begin(), t_.end(), t);
  const std::size_t k = static_cast<std::size_t>(it - t_.begin());  // t_[k-1] <= t < t_[k]
  const double w = (t - t_[k - 1]) / (t_[k] - t_[k - 1]);
  return v_[k - 1] + w * (v_[k] - v_[k - 1]);
}

double TimeSeries::Integral(double t0, double t1) const {
  if (t_.empty() || t1 <= t0) return 0.0;
  // Integrate the piecewise-linear interpolant exactly: trapezoids between the
  // breakpoints inside (t0, t1), plus the constant extensions at both ends.
  double sum = 0.0;
  double a = t0;
  double fa = At(t0);
  auto it = std::upper_bound(t_.begin(), t_.end(), t0);
  for (; it != t_.end() && *it < t1; ++it) {
    const double b = *it;
    const double fb = v_[static_cast<std::size_t>(it - t_.begin())];
    sum += 0.5 * (fa + fb) * (b - a);
    a = b;
    fa = fb;
  }
  sum += 0.5 * (fa + At(t1)) * (t1 - a);
  return sum;
}

double TimeSeries::Mean(double t0, double t1) const {
  if (t1 <= t0) return At(t0);
  return Integral(t0, t1) / (t1 - t0);
}

}  // namespace floodwarn::solver
