// Small readers for the external validation data in ../shared/validation/ and
// the error measures the regression tests report. Header-only, host-only.
//
// Formats read here:
//  - delimited numeric tables (CSV or whitespace): '#' comments, a header line
//    naming the columns, other non-numeric lines ignored (the UCL gauge files
//    carry a second header line with units);
//  - named points ("G1 2.65 1.15", one per line after a header);
//  - LISFLOOD-FP inputs: .par (key value), .bci (edge from to type [name]),
//    .bdy (name, "<n> seconds", then n lines "value time"), .stage (n, then
//    n lines "x y").
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace floodwarn::validation {

// ---------------------------------------------------------------- parsing

inline std::string Trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Splits on commas, tabs and spaces (runs of separators count once, except
// that commas always separate).
inline std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> out;
  if (line.find(',') != std::string::npos) {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) out.push_back(Trim(f));
    return out;
  }
  std::stringstream ss(line);
  std::string f;
  while (ss >> f) out.push_back(f);
  return out;
}

inline bool ParseDouble(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

inline std::ifstream OpenOrThrow(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return in;
}

// A numeric table: columns[c][r].
struct Table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;

  std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }
  const std::vector<double>& Column(const std::string& name) const {
    for (std::size_t c = 0; c < names.size(); ++c)
      if (names[c] == name) return columns.at(c);
    throw std::out_of_range("no column '" + name + "'");
  }
};

// Reads a delimited numeric table. The first non-comment line that is not all
// numbers, before any data, gives the column names (when it has as many fields
// as the data; the UCL files' first header lacks the time column's name, which
// then becomes "t"). Every data row must have the same number of fields.
inline Table ReadTable(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  Table t;
  std::vector<std::string> header;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string s = Trim(line);
    if (s.empty() || s[0] == '#') continue;
    const auto fields = SplitFields(line.find(',') != std::string::npos ? line : s);
    std::vector<double> values;
    bool numeric = !fields.empty();
    for (const auto& f : fields) {
      double v;
      if (!ParseDouble(f, v)) {
        numeric = false;
        break;
      }
      values.push_back(v);
    }
    if (!numeric) {
      if (t.columns.empty() && header.empty()) header = fields;
      continue;
    }
    if (t.columns.empty()) {
      t.columns.resize(values.size());
      if (header.size() == values.size()) {
        t.names = header;
      } else if (header.size() + 1 == values.size()) {
        t.names.push_back("t");
        t.names.insert(t.names.end(), header.begin(), header.end());
      } else {
        for (std::size_t c = 0; c < values.size(); ++c) t.names.push_back("c" + std::to_string(c));
      }
    }
    if (values.size() != t.columns.size())
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected " +
                               std::to_string(t.columns.size()) + " numbers, got " +
                               std::to_string(values.size()));
    for (std::size_t c = 0; c < values.size(); ++c) t.columns[c].push_back(values[c]);
  }
  if (t.columns.empty()) throw std::runtime_error(path + ": no numeric rows");
  return t;
}

struct NamedPoint {
  std::string name;
  double x = 0;
  double y = 0;
};

// Lines "name x y"; lines whose x or y is not a number (headers) are skipped.
inline std::vector<NamedPoint> ReadNamedPoints(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  std::vector<NamedPoint> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto f = SplitFields(Trim(line));
    NamedPoint p;
    if (f.size() >= 3 && ParseDouble(f[1], p.x) && ParseDouble(f[2], p.y)) {
      p.name = f[0];
      out.push_back(p);
    }
  }
  if (out.empty()) throw std::runtime_error(path + ": no points");
  return out;
}

// --------------------------------------------------------- LISFLOOD-FP

// .par: "key value" per line; flags without value map to "".
inline std::map<std::string, std::string> ReadLisfloodPar(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string key, value;
    if (!(ss >> key) || key[0] == '#') continue;
    ss >> value;
    out[key] = value;
  }
  return out;
}

struct LisfloodBoundary {
  char edge = 'W';  // N, E, S, W
  double from = 0;  // extent along the edge (y for W/E, x for N/S)
  double to = 0;
  std::string type;  // FREE, QVAR, QFIX, HFIX, HVAR
  std::string name;  // series name (QVAR/HVAR) or value (QFIX/HFIX)
};

inline std::vector<LisfloodBoundary> ReadLisfloodBci(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  std::vector<LisfloodBoundary> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::stringstream ss(line);
    std::string edge;
    if (!(ss >> edge) || edge[0] == '#') continue;
    LisfloodBoundary b;
    b.edge = edge[0];
    if (!(ss >> b.from >> b.to >> b.type) || std::string("NESW").find(b.edge) == std::string::npos)
      throw std::runtime_error(path + ":" + std::to_string(line_no) +
                               ": expected '<N|E|S|W> from to TYPE [name]'");
    ss >> b.name;
    out.push_back(b);
  }
  return out;
}

// One series of a .bdy file: times (s) and values as written.
struct LisfloodSeries {
  std::vector<double> times;
  std::vector<double> values;
};

// .bdy: a comment line, then per series: its name, "<n> seconds|minutes|hours",
// then n lines "value time". Times are returned in seconds.
inline std::map<std::string, LisfloodSeries> ReadLisfloodBdy(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  std::map<std::string, LisfloodSeries> out;
  std::string line;
  std::getline(in, line);  // first line is a comment
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string name = Trim(line);
    if (name.empty()) continue;
    std::string count_line;
    if (!std::getline(in, count_line))
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": series '" + name +
                               "' lacks its '<n> <unit>' line");
    ++line_no;
    std::stringstream cs(count_line);
    int n = 0;
    std::string unit;
    if (!(cs >> n >> unit) || n <= 0)
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected '<n> seconds'");
    double scale = 1.0;
    if (unit == "minutes")
      scale = 60.0;
    else if (unit == "hours")
      scale = 3600.0;
    else if (unit != "seconds")
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": unknown time unit '" +
                               unit + "' (seconds, minutes or hours)");
    LisfloodSeries s;
    for (int k = 0; k < n; ++k) {
      if (!std::getline(in, line))
        throw std::runtime_error(path + ": series '" + name + "' ends early");
      ++line_no;
      std::stringstream ls(line);
      double value, time;
      if (!(ls >> value >> time))
        throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected 'value time'");
      s.values.push_back(value);
      s.times.push_back(time * scale);
    }
    out[name] = s;
  }
  return out;
}

// .stage: number of points, then "x y" per point.
inline std::vector<NamedPoint> ReadLisfloodStage(const std::string& path) {
  std::ifstream in = OpenOrThrow(path);
  int n = 0;
  if (!(in >> n) || n <= 0) throw std::runtime_error(path + ": expected the number of points");
  std::vector<NamedPoint> out;
  for (int k = 0; k < n; ++k) {
    NamedPoint p;
    if (!(in >> p.x >> p.y)) throw std::runtime_error(path + ": fewer points than announced");
    p.name = "p" + std::to_string(k + 1);
    out.push_back(p);
  }
  return out;
}

// ------------------------------------------------------------ statistics

// Linear interpolation of (t, v) at time x; held constant outside.
inline double Interpolate(const std::vector<double>& t, const std::vector<double>& v, double x) {
  if (x <= t.front()) return v.front();
  if (x >= t.back()) return v.back();
  const auto it = std::upper_bound(t.begin(), t.end(), x);
  const std::size_t k = static_cast<std::size_t>(it - t.begin());
  const double w = (x - t[k - 1]) / (t[k] - t[k - 1]);
  return v[k - 1] + w * (v[k] - v[k - 1]);
}

struct ErrorStats {
  double rmse = 0;
  double max_abs = 0;
  double bias = 0;  // mean(model - reference)
};

inline ErrorStats Compare(const std::vector<double>& model, const std::vector<double>& reference) {
  if (model.size() != reference.size() || model.empty())
    throw std::invalid_argument("Compare: sizes differ or empty");
  ErrorStats s;
  double sum2 = 0, sum = 0;
  for (std::size_t k = 0; k < model.size(); ++k) {
    const double d = model[k] - reference[k];
    sum2 += d * d;
    sum += d;
    s.max_abs = std::max(s.max_abs, std::abs(d));
  }
  s.rmse = std::sqrt(sum2 / static_cast<double>(model.size()));
  s.bias = sum / static_cast<double>(model.size());
  return s;
}

// First time the series rises above `threshold`, interpolated linearly
// between samples; NaN when it never does.
inline double ArrivalTime(const std::vector<double>& t, const std::vector<double>& v,
                          double threshold) {
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (v[k] > threshold) {
      if (k == 0) return t[0];
      const double w = (threshold - v[k - 1]) / (v[k] - v[k - 1]);
      return t[k - 1] + w * (t[k] - t[k - 1]);
    }
  }
  return std::nan("");
}

inline double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

}  // namespace floodwarn::validation
