// Rating curve evaluation and fitting.
#include "floodwarn/ingest/rating.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace floodwarn::ingest {

RatingValue EvaluateRating(const RatingCurve& curve, double stage) {
  RatingValue out;
  if (curve.segments.empty() || !std::isfinite(stage)) {
    out.discharge = std::numeric_limits<double>::quiet_NaN();
    out.extrapolated = true;
    out.note = "no rating segment";
    return out;
  }
  const RatingSegment* seg = &curve.segments.front();
  if (stage < curve.segments.front().h_min) {
    out.extrapolated = true;
    out.note = fmt::format("stage {} below the rating's range (from {})", stage, seg->h_min);
  } else if (stage >= curve.segments.back().h_max) {
    seg = &curve.segments.back();
    out.extrapolated = true;
    out.note = fmt::format("stage {} above the rating's range (to {})", stage, seg->h_max);
  } else {
    for (const auto& s : curve.segments)
      if (stage >= s.h_min && stage < s.h_max) seg = &s;
  }
  if (curve.max_gauged_stage && stage > *curve.max_gauged_stage) {
    out.extrapolated = true;
    if (out.note.empty())
      out.note =
          fmt::format("stage {} above the highest gauging ({})", stage, *curve.max_gauged_stage);
  }
  out.discharge = stage <= seg->h0 ? 0.0 : seg->a * std::pow(stage - seg->h0, seg->b);
  return out;
}

std::optional<RatingValue> EvaluateRating(const Station& station, TimePoint t, double stage) {
  const RatingCurve* c = station.RatingAt(t);
  if (c == nullptr) return std::nullopt;
  return EvaluateRating(*c, stage);
}

namespace {

struct AbFit {
  double a = 0.0;
  double b = 0.0;
  double sse = std::numeric_limits<double>::infinity();
};

double Sse(const std::vector<StagePair>& p, double a, double b, double h0) {
  double s = 0.0;
  for (const auto& x : p) {
    const double r = x.q - a * std::pow(x.h - h0, b);
    s += r * r;
  }
  return s;
}

// (a, b) for a fixed h0: log-linear least squares, then Gauss-Newton on the Q
// residuals (the log fit weights relative errors; the rating is judged in Q).
AbFit FitAb(const std::vector<StagePair>& p, double h0) {
  const Eigen::Index n = static_cast<Eigen::Index>(p.size());
  Eigen::MatrixXd A(n, 2);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double d = p[static_cast<std::size_t>(i)].h - h0;
    if (!(d > 0)) return {};
    A(i, 0) = 1.0;
    A(i, 1) = std::log(d);
    y(i) = std::log(p[static_cast<std::size_t>(i)].q);
  }
  const Eigen::Vector2d c = A.colPivHouseholderQr().solve(y);
  AbFit f{std::exp(c(0)), c(1), 0.0};
  f.sse = Sse(p, f.a, f.b, h0);
  // Gauss-Newton with step halving on (ln a, b).
  double la = c(0);
  double b = c(1);
  for (int it = 0; it < 50; ++it) {
    Eigen::MatrixXd J(n, 2);
    Eigen::VectorXd r(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto& x = p[static_cast<std::size_t>(i)];
      const double ld = std::log(x.h - h0);
      const double m = std::exp(la + b * ld);
      r(i) = x.q - m;
      J(i, 0) = m;
      J(i, 1) = m * ld;
    }
    const Eigen::Vector2d step = J.colPivHouseholderQr().solve(r);
    if (!step.allFinite()) break;
    double lambda = 1.0;
    bool improved = false;
    for (int h = 0; h < 30; ++h) {
      const double la2 = la + lambda * step(0);
      const double b2 = b + lambda * step(1);
      const double s2 = Sse(p, std::exp(la2), b2, h0);
      if (std::isfinite(s2) && s2 < f.sse) {
        la = la2;
        b = b2;
        const double rel = (f.sse - s2) / std::max(f.sse, 1e-300);
        f = {std::exp(la), b, s2};
        improved = rel > 1e-14;
        break;
      }
      lambda *= 0.5;
    }
    if (!improved) break;
  }
  return f;
}

}  // namespace

RatingFit FitRatingCurve(const std::vector<StagePair>& pairs, std::optional<double> h0) {
  const std::size_t min_n = h0 ? 3 : 4;
  if (pairs.size() < min_n)
    throw std::invalid_argument(
        fmt::format("rating fit: need at least {} (h, Q) pairs, got {}", min_n, pairs.size()));
  double hmin = std::numeric_limits<double>::infinity();
  double hmax = -hmin;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    if (!std::isfinite(p.h) || !std::isfinite(p.q) || !(p.q > 0))
      throw std::invalid_argument(fmt::format(
          "rating fit: pair {} (h={}, Q={}): Q must be a finite number > 0", i + 1, p.h, p.q));
    hmin = std::min(hmin, p.h);
    hmax = std::max(hmax, p.h);
  }
  RatingFit out;
  AbFit best;
  if (h0) {
    if (!(*h0 < hmin))
      throw std::invalid_argument(
          fmt::format("rating fit: h0 = {} must be below the lowest stage {}", *h0, hmin));
    best = FitAb(pairs, *h0);
    out.h0 = *h0;
  } else {
    const double range = std::max(hmax - hmin, 1e-9 * std::max(1.0, std::abs(hmin)));
    // h0 in [hmin - 5 range, hmin - 1e-6 range]: coarse scan, then golden section
    // around the best scanned value.
    const double lo = hmin - 5.0 * range;
    const double hi = hmin - 1e-6 * range;
    constexpr int kScan = 400;
    double best_h0 = hi;
    for (int k = 0; k <= kScan; ++k) {
      // denser near hmin, where h0 usually lies
      const double u = static_cast<double>(k) / kScan;
      const double cand = hi - (hi - lo) * u * u;
      const AbFit f = FitAb(pairs, cand);
      if (f.sse < best.sse) {
        best = f;
        best_h0 = cand;
      }
    }
    const double step = (hi - lo) / kScan * 2.0 + 1e-12;
    double a = std::max(lo, best_h0 - step);
    double b = std::min(hi, best_h0 + step);
    const double g = (std::sqrt(5.0) - 1.0) / 2.0;
    double c = b - g * (b - a);
    double d = a + g * (b - a);
    double fc = FitAb(pairs, c).sse;
    double fd = FitAb(pairs, d).sse;
    for (int it = 0; it < 200 && (b - a) > 1e-12 * std::max(1.0, std::abs(best_h0)); ++it) {
      if (fc < fd) {
        b = d;
        d = c;
        fd = fc;
        c = b - g * (b - a);
        fc = FitAb(pairs, c).sse;
      } else {
        a = c;
        c = d;
        fc = fd;
        d = a + g * (b - a);
        fd = FitAb(pairs, d).sse;
      }
    }
    const double gh0 = 0.5 * (a + b);
    const AbFit gf = FitAb(pairs, gh0);
    if (gf.sse <= best.sse) {
      best = gf;
      best_h0 = gh0;
    }
    out.h0 = best_h0;
    out.h0_fitted = true;
    out.h0_at_bound = best_h0 >= hi - 1e-3 * range || best_h0 <= lo + 1e-3 * range;
  }
  if (!std::isfinite(best.sse))
    throw std::invalid_argument("rating fit: no finite fit (are the pairs monotonic?)");
  out.a = best.a;
  out.b = best.b;
  double mean = 0.0;
  for (const auto& p : pairs) mean += p.q;
  mean /= static_cast<double>(pairs.size());
  double sst = 0.0;
  double sse = 0.0;
  for (const auto& p : pairs) {
    const double m = out.a * std::pow(p.h - out.h0, out.b);
    out.fitted.push_back(m);
    out.residuals.push_back(p.q - m);
    sse += (p.q - m) * (p.q - m);
    sst += (p.q - mean) * (p.q - mean);
  }
  out.rmse = std::sqrt(sse / static_cast<double>(pairs.size()));
  out.r2 = sst > 0 ? 1.0 - sse / sst : 1.0;
  return out;
}

std::vector<StagePair> ReadStagePairsCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::vector<StagePair> out;
  std::string line;
  std::size_t lineno = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto comma = line.find(',');
    if (comma == std::string::npos)
      throw std::runtime_error(
          fmt::format("{}:{}: expected two comma-separated columns (h,q)", path, lineno));
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t");
      const auto e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    std::string c0 = trim(line.substr(0, comma));
    std::string c1 = trim(line.substr(comma + 1));
    if (!header) {
      std::transform(c0.begin(), c0.end(), c0.begin(), ::tolower);
      std::transform(c1.begin(), c1.end(), c1.begin(), ::tolower);
      if ((c0 != "h" && c0 != "stage") || (c1 != "q" && c1 != "discharge"))
        throw std::runtime_error(
            fmt::format("{}:{}: expected the header 'h,q' (or 'stage,discharge'), got '{}'", path,
                        lineno, line));
      header = true;
      continue;
    }
    StagePair p;
    char* end = nullptr;
    p.h = std::strtod(c0.c_str(), &end);
    const bool ok_h = !c0.empty() && *end == '\0';
    p.q = std::strtod(c1.c_str(), &end);
    const bool ok_q = !c1.empty() && *end == '\0';
    if (!ok_h || !ok_q)
      throw std::runtime_error(
          fmt::format("{}:{}: expected two numbers 'h,q', got '{}'", path, lineno, line));
    out.push_back(p);
  }
  if (!header) throw std::runtime_error(fmt::format("{}: empty (expected a 'h,q' header)", path));
  return out;
}

}  // namespace floodwarn::ingest
