// [time], [solver], [output] and the cells of named points.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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

#include "floodwarn/common/iso8601.hpp"
#include "scenario_internal.hpp"

namespace floodwarn::scenario {
// k * step for k = 1, 2, ... below `end`, then `end` (or starting at 0).
std::vector<double> Expand(double step, double end, bool with_zero) {
  std::vector<double> out;
  if (with_zero) out.push_back(0.0);
  for (long k = 1;; ++k) {
    const double t = static_cast<double>(k) * step;
    if (t >= end * (1 - 1e-12)) break;
    out.push_back(t);
  }
  out.push_back(end);
  return out;
}

void ParseTime(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg) {
  const std::string p = "time";
  CheckKeys(ctx, t, p, {"end", "output_interval", "output_times", "max_dt", "cfl", "start"});
  if (const auto start = GetString(ctx, t, p, "start")) {
    // "YYYY-MM-DDThh:mm:ss" followed by "Z", "+00:00" or "-00:00", nothing else.
    std::string why;
    const auto epoch = common::ParseIso8601(*start, common::Iso8601Options::UtcSeconds(), &why);
    if (!epoch)
      ctx.Fail(
          "time.start", t.get("start"),
          fmt::format("expected a UTC time \"YYYY-MM-DDThh:mm:ssZ\" (or +00:00), got \"{}\" ({})",
                      *start, why));
    cfg.start_time = start->substr(0, 19) + "Z";  // one spelling of UTC for the outputs
    ctx.set_start_epoch(static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(epoch->time_since_epoch()).count()));
  }
  cfg.end = RequireNumber(ctx, t, p, "end");
  if (!(cfg.end > 0))
    ctx.Fail("time.end", t.get("end"), fmt::format("must be > 0 s, got {}", cfg.end));

  const toml::node* oi = t.get("output_interval");
  const toml::node* ot = t.get("output_times");
  if (oi != nullptr && ot != nullptr)
    ctx.Fail("time.output_times", ot,
             "give either time.output_interval or time.output_times, not both");
  if (oi != nullptr) {
    const double dt = AsNumber(ctx, *oi, "time.output_interval");
    if (!(dt > 0)) ctx.Fail("time.output_interval", oi, fmt::format("must be > 0 s, got {}", dt));
    if (cfg.end / dt > 1e5)
      ctx.Fail("time.output_interval", oi,
               fmt::format("{} s gives more than 100000 snapshots over {} s", dt, cfg.end));
    cfg.output_times = Expand(dt, cfg.end, false);
  } else if (ot != nullptr) {
    cfg.output_times = AsNumberArray(ctx, *ot, "time.output_times");
    CheckStrictlyIncreasing(ctx, cfg.output_times, "time.output_times", ot);
    for (double x : cfg.output_times)
      if (x < 0 || x > cfg.end)
        ctx.Fail("time.output_times", ot,
                 fmt::format("{} s is outside [0, time.end = {}]", x, cfg.end));
    if (cfg.output_times.back() < cfg.end) cfg.output_times.push_back(cfg.end);
  } else {
    cfg.output_times = {cfg.end};
  }

  if (auto v = GetNumber(ctx, t, p, "max_dt")) {
    if (*v < 0)
      ctx.Fail("time.max_dt", t.get("max_dt"),
               fmt::format("must be >= 0 s (0 = no limit), got {}", *v));
    cfg.options.max_dt = *v;
  }
  if (auto v = GetNumber(ctx, t, p, "cfl")) {
    if (!(*v > 0 && *v <= 1))
      ctx.Fail("time.cfl", t.get("cfl"), fmt::format("must be in (0, 1], got {}", *v));
    cfg.options.cfl = *v;
  }
}

void ParseSolver(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg) {
  const std::string p = "solver";
  CheckKeys(ctx, t, p,
            {"dry_depth", "max_speed_bound", "max_depth_bound", "gravity", "check_conservation"});
  auto positive = [&](const char* key, double& dst, const char* unit) {
    if (auto v = GetNumber(ctx, t, p, key)) {
      if (!(*v > 0))
        ctx.Fail(Join(p, key), t.get(key), fmt::format("must be > 0 {}, got {}", unit, *v));
      dst = *v;
    }
  };
  positive("dry_depth", cfg.options.dry_depth, "m");
  positive("max_speed_bound", cfg.options.max_speed_bound, "m/s");
  positive("max_depth_bound", cfg.options.max_depth_bound, "m");
  positive("gravity", cfg.options.gravity, "m/s^2");
  if (const toml::node* n = t.get("check_conservation")) {
    const std::string key = Join(p, "check_conservation");
    if (n->is_boolean()) {
      cfg.options.check_conservation =
          n->value<bool>().value() ? ConservationCheck::kStop : ConservationCheck::kOff;
    } else if (n->is_string()) {
      const std::string v(n->as_string()->get());
      if (v == "off") {
        cfg.options.check_conservation = ConservationCheck::kOff;
      } else if (v == "warn") {
        cfg.options.check_conservation = ConservationCheck::kWarn;
      } else if (v == "stop") {
        cfg.options.check_conservation = ConservationCheck::kStop;
      } else {
        ctx.Fail(key, n,
                 fmt::format("expected true, false, \"off\", \"warn\" or \"stop\", got \"{}\"", v));
      }
    } else {
      ctx.Fail(
          key, n,
          fmt::format("expected true, false, \"off\", \"warn\" or \"stop\", got {}", TypeName(*n)));
    }
  }
}

// (x, y) must lie in an active cell off any building (cfg.buildings);
// returns the cell.
void LocatePoint(const Ctx& ctx, const std::string& key, const toml::node* node,
                 const ScenarioConfig& cfg, double x, double y, int& i, int& j) {
  const Domain& d = cfg.domain;
  if (!d.CellOf(x, y, i, j))
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) is outside the grid (x in [{}, {}], y in [{}, {}])", x, y,
                         d.x_west, d.x_west + d.nx * d.dx, d.y_south, d.y_south + d.ny * d.dy));
  if (!cfg.buildings.empty() && cfg.buildings[d.Index(i, j)])
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) lies on a building of domain.buildings ({})", x, y,
                         CellText(d, i, j)));
  if (!d.active[d.Index(i, j)])
    ctx.Fail(key, node,
             fmt::format("point ({}, {}) lies in a nodata cell of the DEM ({})", x, y,
                         CellText(d, i, j)));
}

void CheckName(const Ctx& ctx, const std::string& key, const toml::node* node,
               const std::string& name) {
  if (name.empty() || name.find_first_of(",\"\n\r\t ") != std::string::npos)
    ctx.Fail(key, node,
             fmt::format("'{}': names must be non-empty without spaces, commas or quotes", name));
}

void ParseOutput(const Ctx& ctx, const toml::table* t, ScenarioConfig& cfg) {
  const std::string p = "output";
  std::string dir = "output";
  std::optional<double> interval;
  if (t != nullptr) {
    CheckKeys(ctx, *t, p, {"dir", "point", "point_interval", "digits"});
    if (auto d = GetNumber(ctx, *t, p, "digits")) {
      if (!(*d >= 1 && *d <= 17 && *d == std::floor(*d)))
        ctx.Fail("output.digits", t->get("digits"),
                 fmt::format("must be an integer from 1 to 17, got {}", *d));
      cfg.grid_digits = static_cast<int>(*d);
    }
    dir = GetString(ctx, *t, p, "dir").value_or(dir);
    if (dir.empty()) ctx.Fail("output.dir", t->get("dir"), "must not be empty");
    interval = GetNumber(ctx, *t, p, "point_interval");
    if (interval && !(*interval > 0))
      ctx.Fail("output.point_interval", t->get("point_interval"),
               fmt::format("must be > 0 s, got {}", *interval));
    if (const toml::array* a = GetTableArray(ctx, *t, p, "point")) {
      for (std::size_t k = 0; k < a->size(); ++k) {
        const toml::table& pt = *a->get(k)->as_table();
        const std::string pp = fmt::format("output.point[{}]", k);
        CheckKeys(ctx, pt, pp, {"name", "x", "y"});
        OutputPoint op;
        const auto name = GetString(ctx, pt, pp, "name");
        if (!name) ctx.Fail(Join(pp, "name"), &pt, "missing required key (a string)");
        op.name = *name;
        CheckName(ctx, Join(pp, "name"), pt.get("name"), op.name);
        for (const auto& other : cfg.points)
          if (other.name == op.name)
            ctx.Fail(Join(pp, "name"), pt.get("name"),
                     fmt::format("duplicate point name '{}'", op.name));
        op.x = RequireNumber(ctx, pt, pp, "x");
        op.y = RequireNumber(ctx, pt, pp, "y");
        LocatePoint(ctx, pp, &pt, cfg, op.x, op.y, op.i, op.j);
        cfg.points.push_back(std::move(op));
      }
    }
  }
  cfg.output_dir = ctx.Resolve(dir);
  cfg.point_interval = interval.value_or(cfg.end / 100.0);
  if (cfg.end / cfg.point_interval > 1e7)
    ctx.Fail(
        "output.point_interval", t ? t->get("point_interval") : nullptr,
        fmt::format("{} s gives more than 1e7 samples over {} s", cfg.point_interval, cfg.end));
  cfg.point_times = Expand(cfg.point_interval, cfg.end, true);
}

}  // namespace floodwarn::scenario
