// serve.toml [forecast] (docs/FORECAST.md): every key checked, errors naming
// the file, the line and the key.
#include <fmt/format.h>

#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/forecast/loop.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::forecast {
namespace {

using Ctx = common::TomlContext<common::ConfigError>;
using std::chrono::duration_cast;
using std::chrono::seconds;

seconds Dur(const Ctx& ctx, const toml::table& t, const std::string& p, const char* key,
            seconds fallback) {
  const auto d = common::GetDuration(ctx, t, p, key, std::chrono::milliseconds(1000),
                                     std::chrono::milliseconds(1000));
  return d ? duration_cast<seconds>(*d) : fallback;
}

std::string RequireStringKey(const Ctx& ctx, const toml::table& t, const std::string& p,
                             const char* key) {
  return common::RequireString(ctx, t, p, key);
}

}  // namespace

std::optional<ForecastConfig> ParseForecastConfig(const common::TomlFile& file) {
  const Ctx ctx(file);
  const toml::table* t = common::GetTable(ctx, file.root, "", "forecast", false);
  if (t == nullptr) return std::nullopt;
  const std::string p = "forecast";
  common::CheckKeys(ctx, *t, p,
                    {"scenario",        "state_dir",      "interval",      "lead_time",
                     "output_interval", "analysis_lag",   "warm_up",       "max_gap",
                     "timeout",         "rain_decay",     "keep_cycles",   "check_conservation",
                     "inflow",          "level",          "rain_stations", "point",
                     "zones",           "zones_id_field", "zone_depths",   "skill_stations"});
  ForecastConfig c;
  c.file = file.path;
  c.scenario = ctx.Resolve(RequireStringKey(ctx, *t, p, "scenario"));
  c.state_dir = ctx.Resolve(common::GetString(ctx, *t, p, "state_dir").value_or("forecast"));
  c.interval = Dur(ctx, *t, p, "interval", c.interval);
  c.lead_time = Dur(ctx, *t, p, "lead_time", c.lead_time);
  c.output_interval = Dur(ctx, *t, p, "output_interval", c.output_interval);
  c.analysis_lag = Dur(ctx, *t, p, "analysis_lag", c.analysis_lag);
  c.warm_up = Dur(ctx, *t, p, "warm_up", c.warm_up);
  c.max_gap = Dur(ctx, *t, p, "max_gap", c.max_gap);
  c.timeout = Dur(ctx, *t, p, "timeout", seconds(0));
  c.rain_decay = Dur(ctx, *t, p, "rain_decay", c.rain_decay);
  if (const auto k = common::GetInteger(ctx, *t, p, "keep_cycles", 1, 100000))
    c.keep_cycles = static_cast<std::size_t>(*k);
  c.check_conservation = common::GetBool(ctx, *t, p, "check_conservation").value_or(false);
  auto positive = [&](const char* key, seconds v) {
    if (v.count() <= 0) ctx.Fail(p + "." + key, t->get(key), "expected a positive duration");
  };
  positive("interval", c.interval);
  positive("lead_time", c.lead_time);
  positive("output_interval", c.output_interval);
  if (c.interval.count() % c.output_interval.count() != 0)
    ctx.Fail("forecast.output_interval", t->get("output_interval"),
             fmt::format("the interval ({} s) must be a whole multiple of it ({} s): each cycle's "
                         "forecast times continue the last one's",
                         c.interval.count(), c.output_interval.count()));
  if (c.analysis_lag >= c.lead_time)
    ctx.Fail("forecast.analysis_lag", t->get("analysis_lag"),
             "must be shorter than forecast.lead_time");

  if (const toml::array* a = common::GetTableArray(ctx, *t, p, "inflow")) {
    for (std::size_t k = 0; k < a->size(); ++k) {
      const std::string q = fmt::format("forecast.inflow[{}]", k);
      const toml::table& e = *a->get(k)->as_table();
      common::CheckKeys(
          ctx, e, q, {"station", "boundary", "inflow", "forecast", "recession_time", "base_flow"});
      ForecastConfig::Inflow in;
      in.station = RequireStringKey(ctx, e, q, "station");
      in.boundary = common::GetString(ctx, e, q, "boundary").value_or("");
      in.inflow = common::GetString(ctx, e, q, "inflow").value_or("");
      if (in.boundary.empty() == in.inflow.empty())
        ctx.Fail(q + ".boundary", &e,
                 "give either boundary (a [[boundary]] of kind inflow) or inflow (an [[inflow]] "
                 "point) of the scenario");
      const std::string how = common::GetString(ctx, e, q, "forecast").value_or("persistence");
      if (how != "persistence" && how != "recession")
        ctx.Fail(q + ".forecast", e.get("forecast"),
                 fmt::format("expected \"persistence\" or \"recession\", got \"{}\"", how));
      in.recession = how == "recession";
      in.recession_time = Dur(ctx, e, q, "recession_time", in.recession_time);
      in.base_flow = common::GetNumber(ctx, e, q, "base_flow").value_or(0.0);
      if (in.base_flow < 0) ctx.Fail(q + ".base_flow", e.get("base_flow"), "expected >= 0 m3/s");
      c.inflows.push_back(in);
    }
  }
  if (const toml::array* a = common::GetTableArray(ctx, *t, p, "level")) {
    for (std::size_t k = 0; k < a->size(); ++k) {
      const std::string q = fmt::format("forecast.level[{}]", k);
      const toml::table& e = *a->get(k)->as_table();
      common::CheckKeys(ctx, e, q, {"station", "boundary"});
      c.levels.push_back(
          {RequireStringKey(ctx, e, q, "station"), RequireStringKey(ctx, e, q, "boundary")});
    }
  }
  c.rain_stations =
      common::GetStringArray(ctx, *t, p, "rain_stations").value_or(std::vector<std::string>{});
  c.skill_stations =
      common::GetStringArray(ctx, *t, p, "skill_stations").value_or(std::vector<std::string>{});
  if (const toml::array* a = common::GetTableArray(ctx, *t, p, "point")) {
    for (std::size_t k = 0; k < a->size(); ++k) {
      const std::string q = fmt::format("forecast.point[{}]", k);
      const toml::table& e = *a->get(k)->as_table();
      common::CheckKeys(ctx, e, q, {"id", "x", "y"});
      c.points.push_back({RequireStringKey(ctx, e, q, "id"), common::RequireNumber(ctx, e, q, "x"),
                          common::RequireNumber(ctx, e, q, "y")});
    }
  }
  c.zones_file = ctx.Resolve(common::GetString(ctx, *t, p, "zones").value_or(""));
  c.zones_id_field = common::GetString(ctx, *t, p, "zones_id_field").value_or("id");
  if (const toml::node* n = t->get("zone_depths")) {
    const toml::array* a = n->as_array();
    if (a == nullptr) ctx.Fail("forecast.zone_depths", n, "expected an array of depths in m");
    c.zone_depths.clear();
    for (std::size_t k = 0; k < a->size(); ++k) {
      const double d =
          common::AsNumber(ctx, *a->get(k), fmt::format("forecast.zone_depths[{}]", k));
      if (!(d > 0) || (k > 0 && !(d > c.zone_depths.back())))
        ctx.Fail("forecast.zone_depths", n, "expected positive, increasing depths in m");
      c.zone_depths.push_back(d);
    }
  }
  if (c.points.empty() && c.zones_file.empty())
    ctx.Fail("forecast.point", t,
             "the forecast needs something to be about: [[forecast.point]] or forecast.zones");
  if (c.inflows.empty() && c.levels.empty() && c.rain_stations.empty())
    ctx.Fail("forecast.inflow", t,
             "no forcing: give [[forecast.inflow]], [[forecast.level]] or forecast.rain_stations");
  return c;
}

void CheckForecastStations(const ForecastConfig& c, const ingest::StationRegistry& stations) {
  auto need = [&](const std::string& id, const std::string& key, ingest::Quantity kind,
                  bool any_level_or_discharge) {
    const ingest::Station* s = stations.Find(id);
    if (s == nullptr)
      throw common::ConfigError(c.file, 0, key,
                                fmt::format("station '{}' is not in the station registry", id));
    const bool ok = any_level_or_discharge ? (s->kind == ingest::Quantity::kWaterLevel ||
                                              s->kind == ingest::Quantity::kDischarge)
                                           : s->kind == kind;
    if (!ok)
      throw common::ConfigError(
          c.file, 0, key,
          fmt::format("station '{}' measures {}, which cannot drive this", id, ToString(s->kind)));
  };
  for (std::size_t k = 0; k < c.inflows.size(); ++k)
    need(c.inflows[k].station, fmt::format("forecast.inflow[{}].station", k),
         ingest::Quantity::kDischarge, true);
  for (std::size_t k = 0; k < c.levels.size(); ++k)
    need(c.levels[k].station, fmt::format("forecast.level[{}].station", k),
         ingest::Quantity::kWaterLevel, false);
  for (const auto& id : c.rain_stations)
    need(id, "forecast.rain_stations", ingest::Quantity::kRainfall, false);
  for (const auto& id : c.skill_stations)
    need(id, "forecast.skill_stations", ingest::Quantity::kWaterLevel, false);
}

}  // namespace floodwarn::forecast
