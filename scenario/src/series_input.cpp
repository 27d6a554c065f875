// Time series in a scenario: constants, arrays with `times`, CSV files
// `time_s,<column>` and files of registered formats (ZRXP through the CLI).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenario_internal.hpp"

namespace floodwarn::scenario {
namespace {

namespace fs = std::filesystem;

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(Trim(cell));
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

bool ParseDouble(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && std::isfinite(v);
}

struct RawSeries {
  std::vector<double> t;
  std::vector<double> v;
};

RawSeries ReadSeriesCsv(const Ctx& ctx, const std::string& key, const toml::node* node,
                        const std::string& path, const std::string& value_column) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ctx.Fail(key, node, fmt::format("file not found: {}", path));
  std::ifstream in(path);
  if (!in) ctx.Fail(key, node, fmt::format("cannot open {}", path));
  RawSeries s;
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string l = Trim(line);
    if (l.empty() || l[0] == '#') continue;
    const auto cells = SplitComma(l);
    if (!header_seen) {
      if (cells.size() != 2 || cells[0] != "time_s" || cells[1] != value_column)
        ctx.Fail(key, node,
                 fmt::format("{}:{}: expected the header 'time_s,{}', got '{}'", path, line_no,
                             value_column, l));
      header_seen = true;
      continue;
    }
    double t = 0, v = 0;
    if (cells.size() != 2 || !ParseDouble(cells[0], t) || !ParseDouble(cells[1], v))
      ctx.Fail(key, node,
               fmt::format("{}:{}: expected two finite numbers 'time_s,{}', got '{}'", path,
                           line_no, value_column, l));
    s.t.push_back(t);
    s.v.push_back(v);
  }
  if (!header_seen)
    ctx.Fail(key, node,
             fmt::format("{}: empty file (expected the header 'time_s,{}')", path, value_column));
  if (s.t.empty()) ctx.Fail(key, node, fmt::format("{}: no data rows", path));
  CheckStrictlyIncreasing(ctx, s.t, key, node, path + ": ");
  return s;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "file.ext#selector" -> reader for ext, or nullptr.
const SeriesFileReader* ReaderFor(const Ctx& ctx, const std::string& spec, std::string& path,
                                  std::string& selector) {
  const std::size_t hash = spec.find('#');
  path = spec.substr(0, hash);
  selector = hash == std::string::npos ? "" : spec.substr(hash + 1);
  std::string ext = Lower(fs::path(path).extension().string());
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  const auto it = ctx.readers().find(ext);
  return it == ctx.readers().end() ? nullptr : &it->second;
}

// A series from a registered reader, on the scenario's time axis.
RawSeries ReadSeriesFile(const Ctx& ctx, const std::string& key, const toml::node* node,
                         const SeriesFileReader& reader, const std::string& path,
                         const std::string& selector, const SeriesRules& rules) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ctx.Fail(key, node, fmt::format("file not found: {}", path));
  if (!ctx.start_epoch())
    ctx.Fail(key, node,
             fmt::format("{} has absolute times: give time.start (the UTC time of simulation "
                         "time 0, e.g. \"2024-06-01T12:00:00Z\")",
                         path));
  SeriesFile f;
  try {
    f = reader(path, selector);
  } catch (const std::exception& e) {
    ctx.Fail(key, node, e.what());
  }
  if (f.epoch_s.empty() || f.epoch_s.size() != f.values.size())
    ctx.Fail(key, node,
             fmt::format("{}: no values{}", path, selector.empty() ? "" : " for #" + selector));
  if (!rules.units.empty() && !f.unit.empty()) {
    const std::string u = Lower(f.unit);
    if (std::none_of(rules.units.begin(), rules.units.end(),
                     [&](const std::string& ok) { return Lower(ok) == u; }))
      ctx.Fail(key, node,
               fmt::format("{}: the series is in '{}', expected {}", path, f.unit,
                           fmt::join(rules.units, " or ")));
  }
  RawSeries s;
  for (std::size_t k = 0; k < f.values.size(); ++k) {
    if (!std::isfinite(f.values[k]))
      ctx.Fail(key, node,
               fmt::format("{}: value {} is missing or not finite{}: fill or cut the series", path,
                           k + 1, k < f.lines.size() ? fmt::format(" (line {})", f.lines[k]) : ""));
    s.t.push_back(f.epoch_s[k] - *ctx.start_epoch());
    s.v.push_back(f.values[k]);
  }
  return s;
}

}  // namespace

// Reads the series under `key` of table `t` (with optional sibling `times`).
// `used_times` is set when the sibling `times` was consumed.
TimeSeries ParseSeries(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                       const char* key, const SeriesRules& rules, bool& used_times) {
  const std::string full = Join(prefix, key);
  const toml::node* n = t.get(key);
  const toml::node* times_node = t.get("times");
  used_times = false;
  RawSeries s;
  if (n == nullptr) ctx.Fail(full, &t, "missing required key");
  if (n->is_number()) {
    s.t = {0.0};
    s.v = {AsNumber(ctx, *n, full)};
  } else if (n->is_string()) {
    std::string path, selector;
    const std::string spec = ctx.Resolve(std::string(n->as_string()->get()));
    if (const SeriesFileReader* reader = ReaderFor(ctx, spec, path, selector))
      s = ReadSeriesFile(ctx, full, n, *reader, path, selector, rules);
    else
      s = ReadSeriesCsv(ctx, full, n, spec, rules.value_column);
  } else if (n->is_array()) {
    if (times_node == nullptr)
      ctx.Fail(full, n,
               fmt::format("an array of values needs a sibling '{}' array", Join(prefix, "times")));
    used_times = true;
    s.v = AsNumberArray(ctx, *n, full);
    s.t = AsNumberArray(ctx, *times_node, Join(prefix, "times"));
    if (s.t.size() != s.v.size())
      ctx.Fail(full, n,
               fmt::format("has {} values but '{}' has {} entries", s.v.size(),
                           Join(prefix, "times"), s.t.size()));
    CheckStrictlyIncreasing(ctx, s.t, Join(prefix, "times"), times_node);
  } else {
    ctx.Fail(full, n,
             fmt::format("expected a number, a CSV file path or an array of values, got {}",
                         TypeName(*n)));
  }
  for (std::size_t k = 0; k < s.v.size(); ++k) {
    if (rules.non_negative && s.v[k] < 0)
      ctx.Fail(full, n,
               fmt::format("values must be >= 0: entry {} (t = {} s) is {}", k, s.t[k], s.v[k]));
    s.v[k] *= rules.scale;
  }
  try {
    return TimeSeries(std::move(s.t), std::move(s.v), full);
  } catch (const std::exception& e) {
    ctx.Fail(full, n, e.what());
  }
}

}  // namespace floodwarn::scenario
