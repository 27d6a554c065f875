// `floodwarn stations --store DB [--stations FILE]`: one line per station with
// its last reading (value, unit, QC flag, observed time), the age of that
// reading, and whether the station is stale (no reading within
// stale_factor x expected_interval: "unknown", never "ok"). Wiring only.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::apps {
namespace {

namespace fi = floodwarn::ingest;

struct StationsArgs {
  std::string store;
  std::string stations;
  bool fail_on_stale = false;
};

// "2024-01-05 13:15:00Z": whole seconds, a space for the T (a console column).
std::string Utc(fi::TimePoint t) {
  floodwarn::common::Iso8601Format f;
  f.separator = ' ';
  f.fraction = floodwarn::common::Iso8601Format::Fraction::kNone;
  return floodwarn::common::FormatIso8601(t, f);
}

std::string Age(std::chrono::milliseconds age) {
  const long long s = age.count() / 1000;
  if (s < 0) return "in future";
  if (s < 120) return fmt::format("{} s", s);
  if (s < 7200) return fmt::format("{} min", s / 60);
  if (s < 172800) return fmt::format("{:.1f} h", static_cast<double>(s) / 3600.0);
  return fmt::format("{:.1f} d", static_cast<double>(s) / 86400.0);
}

int Stations(const StationsArgs& args) {
  std::optional<fi::StationRegistry> registry;
  if (!args.stations.empty()) registry = fi::LoadStations(args.stations);
  fi::ReadingStore store(args.store);
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now());

  std::vector<std::string> ids;
  std::set<std::string> known;
  if (registry)
    for (const auto& s : registry->stations()) {
      ids.push_back(s.id);
      known.insert(s.id);
    }
  for (const auto& id : store.StationIds())
    if (!known.count(id)) ids.push_back(id);

  fmt::print("{:<20} {:<28} {:>12} {:<6} {:<14} {:<21} {:>9}  {}\n", "station", "name", "last",
             "unit", "flag", "observed (UTC)", "age", "status");
  int stale = 0;
  for (const auto& id : ids) {
    const fi::Station* st = registry ? registry->Find(id) : nullptr;
    const auto last = store.Latest(id);
    std::string status;
    if (!st) {
      status = registry ? "not in registry" : "-";
    } else if (!last) {
      status = "STALE (no reading)";
      ++stale;
    } else {
      const auto limit = st->StaleAfter();
      if (now - last->observed > limit) {
        status = fmt::format("STALE (expected every {} min)", st->expected_interval.count() / 60);
        ++stale;
      } else {
        status = "ok";
      }
    }
    if (!last) {
      fmt::print("{:<20} {:<28} {:>12} {:<6} {:<14} {:<21} {:>9}  {}\n", id, st ? st->name : "",
                 "-", st ? st->unit : "", "-", "-", "-", status);
      continue;
    }
    const std::string value =
        std::isnan(last->value) ? "missing" : fmt::format("{:.2f}", last->value);
    std::string flag = fi::ToString(last->flag);
    if (!last->reason.empty()) flag += " (" + last->reason + ")";
    fmt::print("{:<20} {:<28} {:>12} {:<6} {:<14} {:<21} {:>9}  {}\n", id, st ? st->name : "",
               value, last->unit, flag, Utc(last->observed), Age(now - last->observed), status);
  }
  if (ids.empty()) fmt::print("(no stations)\n");
  return args.fail_on_stale && stale > 0 ? 4 : 0;
}

}  // namespace

void AddIngestLiveCommands(CLI::App& app, Commands& out) {
  auto args = std::make_shared<StationsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "stations", "Table of stations: last value, QC flag, age of the last reading, stale or ok");
  cmd->add_option("--store", args->store, "Reading store (SQLite file)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--stations", args->stations,
                  "Station registry (TOML): names, expected intervals, stale factors")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--fail-on-stale", args->fail_on_stale,
                "Exit with status 4 when a registered station is stale (for monitoring scripts)");
  out.push_back({cmd, [args] { return Stations(*args); }});
}

}  // namespace floodwarn::apps
