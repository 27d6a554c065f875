// LoadScenario: the file parsed once into a validated ScenarioConfig, section
// by section, and [checkpoint].
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

}  // namespace

ScenarioConfig LoadScenario(const std::string& path, const SeriesReaders& readers) {
  const Ctx ctx(path, readers);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw ConfigError(fmt::format("{}: config file not found", path));
  const toml::table root = common::ReadTomlFile<ConfigError>(path, "scenario config").root;
  ScenarioConfig cfg;
  cfg.config_path = path;
  CheckKeys(ctx, root, "",
            {"title", "domain", "manning_table", "time", "rain", "infiltration", "inflow",
             "boundary", "output", "solver", "checkpoint"});
  cfg.title = GetString(ctx, root, "", "title").value_or("");
  const grids::RasterD dem = ParseDomain(ctx, *GetTable(ctx, root, "", "domain", true), root, cfg);
  if (const auto* t = GetTable(ctx, root, "", "infiltration", false))
    ParseInfiltration(ctx, *t, dem, cfg);
  ParseTime(ctx, *GetTable(ctx, root, "", "time", true), cfg);
  if (const auto* t = GetTable(ctx, root, "", "solver", false)) ParseSolver(ctx, *t, cfg);
  if (const auto* t = GetTable(ctx, root, "", "rain", false)) ParseRain(ctx, *t, dem, cfg);
  if (const auto* a = GetTableArray(ctx, root, "", "inflow")) ParseInflows(ctx, *a, cfg);
  if (const auto* a = GetTableArray(ctx, root, "", "boundary")) ParseBoundaries(ctx, *a, cfg);
  ParseOutput(ctx, GetTable(ctx, root, "", "output", false), cfg);
  if (const auto* t = GetTable(ctx, root, "", "checkpoint", false)) {
    CheckKeys(ctx, *t, "checkpoint", {"times", "interval"});
    const toml::node* times = t->get("times");
    if (times && t->get("interval"))
      ctx.Fail("checkpoint.times", times, "give either checkpoint.times or checkpoint.interval");
    if (times) {
      cfg.checkpoint_times = AsNumberArray(ctx, *times, "checkpoint.times");
      CheckStrictlyIncreasing(ctx, cfg.checkpoint_times, "checkpoint.times", times);
    } else if (auto iv = GetNumber(ctx, *t, "checkpoint", "interval")) {
      if (!(*iv > 0))
        ctx.Fail("checkpoint.interval", t->get("interval"),
                 fmt::format("must be > 0 s, got {}", *iv));
      cfg.checkpoint_times = Expand(*iv, cfg.end, false);
    }
    for (double tc : cfg.checkpoint_times)
      if (!(tc > 0 && tc <= cfg.end))
        ctx.Fail("checkpoint.times", times ? times : t,
                 fmt::format("{} s is outside (0, time.end = {} s]", tc, cfg.end));
  }
  return cfg;
}

}  // namespace floodwarn::scenario
