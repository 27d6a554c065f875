#include "floodwarn/alerting/rules.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "floodwarn/common/toml_reader.hpp"

namespace floodwarn::alerting {
namespace {

// ---------------------------------------------------------------------------
// Error context: every message names the rules file, the line and the key
// (the field readers are shared with the other configs: toml_reader.hpp).

using Ctx = common::TomlContext<RulesConfigError>;
using common::AsNumber;
using common::CheckKeys;
using common::GetBool;
using common::GetNumber;
using common::GetString;
using common::GetTableArray;
using common::Join;
using common::RequireNumber;
using common::RequireString;
using common::TypeName;

std::string Index(const std::string& prefix, std::size_t i) {
  return fmt::format("{}[{}]", prefix, i);
}

std::optional<Level> GetLevel(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                              const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const auto v = n->value<std::int64_t>();
  if (!n->is_integer() || !v || *v < 1 || *v > 4)
    ctx.Fail(Join(prefix, key), n, "expected a warning level, an integer 1..4");
  return static_cast<Level>(*v);
}

// A duration in the one grammar of every config (docs/DURATIONS.md), > 0
// unless `allow_zero`.
std::optional<Duration> GetDuration(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                                    const char* key, bool allow_zero = true) {
  return common::GetDuration(ctx, t, prefix, key, Duration(allow_zero ? 0 : 1));
}

std::vector<std::string> GetStringList(const Ctx& ctx, const toml::table& t,
                                       const std::string& prefix, const char* key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr)
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected an array of strings, got {}", TypeName(*n)));
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    if (!e.is_string() || e.value<std::string>()->empty())
      ctx.Fail(Index(Join(prefix, key), i), &e, "expected a non-empty string");
    out.push_back(*e.value<std::string>());
  }
  return out;
}

bool IsSafeId(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string RequireId(const Ctx& ctx, const toml::table& t, const std::string& prefix) {
  const std::string id = RequireString(ctx, t, prefix, "id");
  if (!IsSafeId(id))
    ctx.Fail(Join(prefix, "id"), t.get("id"),
             fmt::format("\"{}\": expected letters, digits, '.', '_' or '-' only", id));
  return id;
}

GeoPoint ParseLatLon(const Ctx& ctx, const toml::node& n, const std::string& key) {
  const toml::array* a = n.as_array();
  if (a == nullptr || a->size() != 2) ctx.Fail(key, &n, "expected a [lat, lon] pair of numbers");
  GeoPoint p;
  p.lat = AsNumber(ctx, *a->get(0), key);
  p.lon = AsNumber(ctx, *a->get(1), key);
  if (p.lat < -90.0 || p.lat > 90.0) ctx.Fail(key, &n, "latitude outside -90..90");
  if (p.lon < -180.0 || p.lon > 180.0) ctx.Fail(key, &n, "longitude outside -180..180");
  return p;
}

// ---------------------------------------------------------------------------

EngineSettings ParseEngine(const Ctx& ctx, const toml::table& t) {
  const std::string p = "engine";
  CheckKeys(ctx, t, p,
            {"mode", "exercise_id", "use_suspect_readings", "escalation_after",
             "escalation_channel", "outage_level"});
  EngineSettings e;
  if (auto m = GetString(ctx, t, p, "mode")) {
    if (*m == "actual") {
      e.mode = Mode::kActual;
    } else if (*m == "exercise") {
      e.mode = Mode::kExercise;
    } else if (*m == "test") {
      e.mode = Mode::kTest;
    } else {
      ctx.Fail(Join(p, "mode"), t.get("mode"),
               fmt::format("\"{}\": expected \"actual\", \"exercise\" or \"test\"", *m));
    }
  }
  e.exercise_id = GetString(ctx, t, p, "exercise_id").value_or("");
  if (e.mode == Mode::kExercise && e.exercise_id.empty())
    ctx.Fail(Join(p, "exercise_id"), &t,
             "mode = \"exercise\" needs an exercise_id (it goes into every CAP message's note)");
  if (e.mode != Mode::kExercise && !e.exercise_id.empty())
    ctx.Fail(Join(p, "exercise_id"), t.get("exercise_id"), "only valid with mode = \"exercise\"");
  if (auto b = GetBool(ctx, t, p, "use_suspect_readings")) e.use_suspect_readings = *b;
  if (const toml::node* n = t.get("escalation_after")) {
    if (n->is_string() && *n->value<std::string>() == "off") {
      e.escalation_after.reset();
    } else {
      e.escalation_after = GetDuration(ctx, t, p, "escalation_after", false);
    }
  }
  if (auto c = GetString(ctx, t, p, "escalation_channel")) {
    if (c->empty()) ctx.Fail(Join(p, "escalation_channel"), t.get("escalation_channel"), "empty");
    e.escalation_channel = *c;
  }
  if (auto l = GetLevel(ctx, t, p, "outage_level")) e.outage_level = *l;
  return e;
}

Area ParseArea(const Ctx& ctx, const toml::table& t, const std::string& p) {
  CheckKeys(ctx, t, p, {"id", "name", "polygon", "circle", "ars"});
  Area a;
  a.id = RequireId(ctx, t, p);
  a.name = RequireString(ctx, t, p, "name");
  if (const toml::node* n = t.get("polygon")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) ctx.Fail(Join(p, "polygon"), n, "expected an array of [lat, lon] pairs");
    for (std::size_t i = 0; i < arr->size(); ++i)
      a.polygon.push_back(ParseLatLon(ctx, *arr->get(i), Index(Join(p, "polygon"), i)));
    if (a.polygon.size() < 4)
      ctx.Fail(Join(p, "polygon"), n,
               fmt::format("a closed polygon needs at least 4 points (first = last), got {}",
                           a.polygon.size()));
    const GeoPoint& f = a.polygon.front();
    const GeoPoint& l = a.polygon.back();
    if (f.lat != l.lat || f.lon != l.lon)
      ctx.Fail(Join(p, "polygon"), n,
               fmt::format("polygon is not closed: first point [{}, {}] != last point [{}, {}]",
                           f.lat, f.lon, l.lat, l.lon));
  }
  if (const toml::node* n = t.get("circle")) {
    const toml::table* c = n->as_table();
    const std::string cp = Join(p, "circle");
    if (c == nullptr) ctx.Fail(cp, n, "expected { lat = .., lon = .., radius_km = .. }");
    CheckKeys(ctx, *c, cp, {"lat", "lon", "radius_km"});
    GeoPoint centre;
    centre.lat = RequireNumber(ctx, *c, cp, "lat");
    centre.lon = RequireNumber(ctx, *c, cp, "lon");
    const double r = RequireNumber(ctx, *c, cp, "radius_km");
    if (centre.lat < -90 || centre.lat > 90 || centre.lon < -180 || centre.lon > 180)
      ctx.Fail(cp, n, "centre outside lat -90..90 / lon -180..180");
    if (!(r > 0.0)) ctx.Fail(Join(cp, "radius_km"), c->get("radius_km"), "expected > 0");
    a.circle = std::make_pair(centre, r);
  }
  if (auto ars = GetString(ctx, t, p, "ars")) {
    const bool digits = std::all_of(ars->begin(), ars->end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (!digits || (ars->size() != 8 && ars->size() != 12))
      ctx.Fail(Join(p, "ars"), t.get("ars"),
               fmt::format("\"{}\": expected an AGS (8 digits) or ARS (12 digits)", *ars));
    a.ars = *ars;
  }
  if (a.polygon.empty() && !a.circle && a.ars.empty())
    ctx.Fail(p, &t, "an area needs a polygon, a circle or an ars (CAP needs a place)");
  return a;
}

// Where the [[stations]] entries come from: a station registry (the one the
// rules file names, or serve's [ingest] one), or the entries themselves.
struct StationSource {
  const ingest::StationRegistry* registry = nullptr;  // nullptr: defined inline
  std::string file;                                   // the registry's path (messages)
};

// The keys that say what a station is. They belong to the station registry
// (docs/ingest/FILES.md). An entry with `quantity` still defines its station
// with them (their older spelling, accepted with or without a registry); an
// entry that refers to a registry station by id gets an error for each of
// them that names the registry's spelling.
struct InlineKey {
  const char* key;
  const char* registry_spelling;
};
constexpr InlineKey kInlineKeys[] = {
    {"quantity", "kind"},
    {"unit", "unit"},
    {"expected_interval", "expected_interval"},
    {"stale_after", "[station.qc] stale_factor, in reporting intervals"},
    {"lat", "location = { lat = .., lon = .. }"},
    {"lon", "location = { lat = .., lon = .. }"},
};

StationEntry ParseStation(const Ctx& ctx, const toml::table& t, const std::string& p,
                          const StationSource& src) {
  CheckKeys(
      ctx, t, p,
      {"id", "name", "area", "quantity", "unit", "expected_interval", "stale_after", "lat", "lon"});
  StationEntry e;
  ingest::Station& s = e.station;
  s.id = RequireId(ctx, t, p);
  s.source_file = ctx.file();
  s.source_line = static_cast<int>(t.source().begin.line);
  if (src.registry != nullptr && t.get("quantity") == nullptr) {
    // A station of the registry, by id: the entry adds its area (and may
    // give it another name in alert texts).
    for (const InlineKey& k : kInlineKeys)
      if (const toml::node* n = t.get(k.key))
        ctx.Fail(Join(p, k.key), n,
                 fmt::format("station \"{}\" comes from the station registry {}: remove {} "
                             "here (the registry's {} says it), or define the station here "
                             "with quantity, unit and expected_interval (the older spelling; "
                             "docs/alerting/RULES.md, \"Stations\")",
                             s.id, src.file, k.key, k.registry_spelling));
    const ingest::Station* found = src.registry->Find(s.id);
    if (found == nullptr)
      ctx.Fail(Join(p, "id"), t.get("id"),
               fmt::format("no station \"{}\" in the station registry {} (add a [[station]] "
                           "there, docs/ingest/FILES.md)",
                           s.id, src.file));
    s = *found;
    e.name = GetString(ctx, t, p, "name").value_or(s.name);
    e.area = RequireString(ctx, t, p, "area");
    return e;
  }
  if (src.registry != nullptr)
    spdlog::warn(
        "rules_config event=inline_station file={} line={} station={} msg=\"{} defines the "
        "station itself (the older spelling); the station registry {} is the place for it: "
        "keep only id, area (and name) here (docs/alerting/RULES.md, Stations)\"",
        ctx.file(), s.source_line, s.id, p, src.file);
  // The entry defines the station, in the older spelling of the registry's
  // keys, read into the registry's type. With a registry the engine uses this
  // definition (as before the registry existed); ingest uses its own.
  s.name = RequireString(ctx, t, p, "name");
  e.name = s.name;
  e.area = RequireString(ctx, t, p, "area");
  const std::string q = RequireString(ctx, t, p, "quantity");
  if (q == "water_level") {
    s.kind = ingest::Quantity::kWaterLevel;
  } else if (q == "discharge") {
    s.kind = ingest::Quantity::kDischarge;
  } else if (q == "rainfall") {
    s.kind = ingest::Quantity::kRainfall;
  } else {
    ctx.Fail(Join(p, "quantity"), t.get("quantity"),
             fmt::format("\"{}\": expected \"water_level\", \"discharge\" or \"rainfall\"", q));
  }
  s.unit = RequireString(ctx, t, p, "unit");
  if (s.kind == ingest::Quantity::kRainfall && s.unit != "mm")
    ctx.Fail(Join(p, "unit"), t.get("unit"), "rainfall stations are in \"mm\"");
  auto ei = GetDuration(ctx, t, p, "expected_interval", false);
  if (!ei) ctx.Fail(Join(p, "expected_interval"), &t, "missing required duration");
  if (ei->count() % 1000 != 0)
    ctx.Fail(Join(p, "expected_interval"), t.get("expected_interval"),
             "expected whole seconds (a station's reporting interval, as the station "
             "registry's expected_interval; docs/ingest/FILES.md)");
  s.expected_interval = std::chrono::duration_cast<std::chrono::seconds>(*ei);
  // stale_after is the registry's stale factor times the interval; without
  // it the registry's default applies (ingest::kDefaultStaleFactor).
  if (auto sa = GetDuration(ctx, t, p, "stale_after", false)) {
    if (*sa < *ei)
      ctx.Fail(Join(p, "stale_after"), t.get("stale_after"),
               "expected at least the expected_interval");
    s.qc.stale_factor = static_cast<double>(sa->count()) / static_cast<double>(ei->count());
  }
  const auto lat = GetNumber(ctx, t, p, "lat");
  const auto lon = GetNumber(ctx, t, p, "lon");
  if (lat.has_value() != lon.has_value()) ctx.Fail(p, &t, "give both lat and lon, or neither");
  if (lat) {
    if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180)
      ctx.Fail(Join(p, "lat"), t.get("lat"), "outside lat -90..90 / lon -180..180");
    s.location.lat = *lat;
    s.location.lon = *lon;
  }
  return e;
}

std::vector<LevelThreshold> ParseLevels(const Ctx& ctx, const toml::table& t, const std::string& p,
                                        const char* unit_hint) {
  const toml::array* arr = GetTableArray(ctx, t, p, "levels");
  if (arr == nullptr || arr->empty())
    ctx.Fail(Join(p, "levels"), &t,
             fmt::format("missing [[rules.levels]] (level, rising{}, optional falling, label)",
                         unit_hint));
  std::vector<LevelThreshold> out;
  std::vector<const toml::node*> nodes;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& lt = *arr->get(i)->as_table();
    const std::string lp = Index(Join(p, "levels"), i);
    CheckKeys(ctx, lt, lp, {"level", "rising", "falling", "label"});
    LevelThreshold th;
    auto level = GetLevel(ctx, lt, lp, "level");
    if (!level) ctx.Fail(Join(lp, "level"), &lt, "missing required level (1..4)");
    th.level = *level;
    th.rising = RequireNumber(ctx, lt, lp, "rising");
    th.falling = GetNumber(ctx, lt, lp, "falling").value_or(th.rising);
    if (th.falling > th.rising)
      ctx.Fail(Join(lp, "falling"), lt.get("falling"),
               fmt::format("falling threshold {} must not exceed the rising threshold {}",
                           th.falling, th.rising));
    th.label = GetString(ctx, lt, lp, "label").value_or(fmt::format("level {}", th.level));
    out.push_back(th);
    nodes.push_back(&lt);
  }
  std::vector<std::size_t> order(out.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return out[a].level < out[b].level; });
  for (std::size_t k = 1; k < order.size(); ++k) {
    const LevelThreshold& lo = out[order[k - 1]];
    const LevelThreshold& hi = out[order[k]];
    const std::string hp = Index(Join(p, "levels"), order[k]);
    if (lo.level == hi.level)
      ctx.Fail(Join(hp, "level"), nodes[order[k]], fmt::format("level {} given twice", hi.level));
    if (!(hi.rising > lo.rising))
      ctx.Fail(Join(hp, "rising"), nodes[order[k]],
               fmt::format("rising thresholds must increase with the level: level {} has {} but "
                           "level {} has {}",
                           hi.level, hi.rising, lo.level, lo.rising));
    if (hi.falling < lo.falling)
      ctx.Fail(Join(hp, "falling"), nodes[order[k]],
               fmt::format("falling thresholds must not decrease with the level: level {} has {} "
                           "but level {} has {}",
                           hi.level, hi.falling, lo.level, lo.falling));
  }
  std::sort(out.begin(), out.end(),
            [](const LevelThreshold& a, const LevelThreshold& b) { return a.level < b.level; });
  return out;
}

std::vector<RainClass> ParseRainClasses(const Ctx& ctx, const toml::table& t,
                                        const std::string& p) {
  const toml::array* arr = GetTableArray(ctx, t, p, "classes");
  if (arr == nullptr) return DwdHeavyRainClasses();
  if (arr->empty())
    ctx.Fail(Join(p, "classes"), t.get("classes"), "empty (omit it for the DWD classes)");
  std::vector<RainClass> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& ct = *arr->get(i)->as_table();
    const std::string cp = Index(Join(p, "classes"), i);
    CheckKeys(ctx, ct, cp, {"level", "window", "at_least", "more_than", "label"});
    RainClass c;
    auto level = GetLevel(ctx, ct, cp, "level");
    if (!level) ctx.Fail(Join(cp, "level"), &ct, "missing required level (1..4)");
    c.level = *level;
    auto w = GetDuration(ctx, ct, cp, "window", false);
    if (!w) ctx.Fail(Join(cp, "window"), &ct, "missing required duration");
    c.window = *w;
    const auto at_least = GetNumber(ctx, ct, cp, "at_least");
    const auto more_than = GetNumber(ctx, ct, cp, "more_than");
    if (at_least.has_value() == more_than.has_value())
      ctx.Fail(cp, &ct, "give exactly one of at_least (>=) or more_than (>) in mm");
    c.threshold = at_least ? *at_least : *more_than;
    c.strict = more_than.has_value();
    if (!(c.threshold > 0.0)) ctx.Fail(cp, &ct, "rain threshold must be > 0 mm");
    c.label = GetString(ctx, ct, cp, "label").value_or(fmt::format("level {}", c.level));
    out.push_back(c);
  }
  // Per window, thresholds must increase with the level.
  for (std::size_t a = 0; a < out.size(); ++a)
    for (std::size_t b = 0; b < out.size(); ++b) {
      if (a == b || out[a].window != out[b].window) continue;
      if (out[a].level == out[b].level)
        ctx.Fail(Index(Join(p, "classes"), b), arr->get(b),
                 fmt::format("level {} given twice for window {}", out[b].level,
                             FormatDuration(out[b].window)));
      if (out[a].level < out[b].level && !(out[a].threshold < out[b].threshold))
        ctx.Fail(Index(Join(p, "classes"), b), arr->get(b),
                 "rain thresholds must increase with the level within one window");
    }
  return out;
}

RuleConfig ParseRule(const Ctx& ctx, const toml::table& t, const std::string& p,
                     const RulesConfig& cfg) {
  const std::string kind = RequireString(ctx, t, p, "kind");
  std::vector<const char*> common = {"id",
                                     "kind",
                                     "name",
                                     "area",
                                     "min_time_above",
                                     "min_dwell",
                                     "escalation_after",
                                     "instruction_de",
                                     "instruction_en"};
  RuleConfig r;
  auto with = [&](std::vector<const char*> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    CheckKeys(ctx, t, p, extra);
  };
  if (kind == "water_level") {
    r.kind = RuleKind::kWaterLevel;
    with({"station", "stations", "levels"});
  } else if (kind == "rate_of_rise") {
    r.kind = RuleKind::kRateOfRise;
    with({"station", "stations", "levels", "window"});
  } else if (kind == "rainfall") {
    r.kind = RuleKind::kRainfall;
    with({"station", "stations", "classes", "per"});
  } else if (kind == "forecast_depth") {
    r.kind = RuleKind::kForecastDepth;
    with({"target", "targets", "levels", "lead_time", "max_age"});
  } else {
    ctx.Fail(Join(p, "kind"), t.get("kind"),
             fmt::format("\"{}\": expected water_level, rate_of_rise, rainfall or forecast_depth",
                         kind));
  }
  r.id = RequireId(ctx, t, p);
  if (r.id == "manual" || r.id == "sensor_outage")
    ctx.Fail(Join(p, "id"), t.get("id"), fmt::format("\"{}\" is reserved", r.id));
  r.name = GetString(ctx, t, p, "name").value_or(r.id);
  r.area = GetString(ctx, t, p, "area").value_or("");
  if (!r.area.empty() && cfg.FindArea(r.area) == nullptr)
    ctx.Fail(Join(p, "area"), t.get("area"), fmt::format("no [[areas]] with id \"{}\"", r.area));
  r.min_time_above = GetDuration(ctx, t, p, "min_time_above").value_or(Duration{0});
  r.min_dwell = GetDuration(ctx, t, p, "min_dwell").value_or(Duration{0});
  if (const toml::node* n = t.get("escalation_after")) {
    if (n->is_string() && *n->value<std::string>() == "off") {
      r.escalation_after.reset();
    } else {
      r.escalation_after = GetDuration(ctx, t, p, "escalation_after", false);
    }
  } else {
    r.escalation_after = cfg.engine.escalation_after;
  }
  r.instruction_de = GetString(ctx, t, p, "instruction_de").value_or("");
  r.instruction_en = GetString(ctx, t, p, "instruction_en").value_or("");

  if (r.kind == RuleKind::kForecastDepth) {
    if (auto one = GetString(ctx, t, p, "target")) r.targets.push_back(*one);
    for (auto& s : GetStringList(ctx, t, p, "targets")) r.targets.push_back(s);
    if (r.targets.empty()) ctx.Fail(Join(p, "targets"), &t, "missing target or targets");
    for (const auto& id : r.targets)
      if (!IsSafeId(id))
        ctx.Fail(Join(p, "targets"), &t, fmt::format("\"{}\": expected a point/zone id", id));
    if (r.area.empty()) ctx.Fail(Join(p, "area"), &t, "forecast rules need an area");
    auto lt = GetDuration(ctx, t, p, "lead_time", false);
    if (!lt) ctx.Fail(Join(p, "lead_time"), &t, "missing required duration");
    r.lead_time = *lt;
    r.max_age = GetDuration(ctx, t, p, "max_age", false).value_or(r.lead_time);
    r.levels = ParseLevels(ctx, t, p, " in m");
  } else {
    if (auto one = GetString(ctx, t, p, "station")) r.stations.push_back(*one);
    for (auto& s : GetStringList(ctx, t, p, "stations")) r.stations.push_back(s);
    if (r.stations.empty()) ctx.Fail(Join(p, "station"), &t, "missing station or stations");
    for (const auto& id : r.stations) {
      const StationEntry* s = cfg.FindStation(id);
      if (s == nullptr)
        ctx.Fail(Join(p, "station"), t.get("station") ? t.get("station") : t.get("stations"),
                 fmt::format("no [[stations]] with id \"{}\"", id));
      const bool rain = s->station.kind == ingest::Quantity::kRainfall;
      if (r.kind == RuleKind::kRainfall && !rain)
        ctx.Fail(Join(p, "station"), &t,
                 fmt::format("station \"{}\" is not a rainfall station", id));
      if (r.kind != RuleKind::kRainfall && rain)
        ctx.Fail(Join(p, "station"), &t,
                 fmt::format("station \"{}\" is a rainfall station; use kind = \"rainfall\"", id));
    }
    if (r.kind == RuleKind::kRainfall) {
      r.rain_classes = ParseRainClasses(ctx, t, p);
      if (auto per = GetString(ctx, t, p, "per")) {
        if (*per == "area") {
          r.per_area = true;
        } else if (*per != "station") {
          ctx.Fail(Join(p, "per"), t.get("per"),
                   fmt::format("\"{}\": expected \"station\" (one subject per station) or "
                               "\"area\" (one subject: the rule's area, the worst station)",
                               *per));
        }
      }
      if (r.per_area && r.area.empty())
        ctx.Fail(Join(p, "area"), &t, "per = \"area\" needs the rule's area (the subject)");
    } else {
      r.levels = ParseLevels(ctx, t, p, " in the station's unit");
    }
    if (r.kind == RuleKind::kRateOfRise) {
      auto w = GetDuration(ctx, t, p, "window", false);
      if (!w) ctx.Fail(Join(p, "window"), &t, "missing required duration (e.g. \"15m\")");
      r.window = *w;
      for (const auto& l : r.levels)
        if (!(l.rising > 0.0))
          ctx.Fail(Join(p, "levels"), &t, "a rate-of-rise threshold must be > 0");
    }
  }
  return r;
}

}  // namespace

std::vector<RainClass> DwdHeavyRainClasses() {
  using std::chrono::hours;
  const Duration h1 = hours(1);
  const Duration h6 = hours(6);
  return {
      {2, h1, 15.0, false, "Starkregen (DWD)"},
      {3, h1, 25.0, true, "heftiger Starkregen (DWD)"},
      {4, h1, 40.0, true, "extrem heftiger Starkregen (DWD)"},
      {2, h6, 20.0, false, "Starkregen (DWD)"},
      {3, h6, 35.0, true, "heftiger Starkregen (DWD)"},
      {4, h6, 60.0, true, "extrem heftiger Starkregen (DWD)"},
  };
}

const Area* RulesConfig::FindArea(const std::string& id) const {
  for (const auto& a : areas)
    if (a.id == id) return &a;
  return nullptr;
}
const StationEntry* RulesConfig::FindStation(const std::string& id) const {
  for (const auto& s : stations)
    if (s.id() == id) return &s;
  return nullptr;
}
const RuleConfig* RulesConfig::FindRule(const std::string& id) const {
  for (const auto& r : rules)
    if (r.id == id) return &r;
  return nullptr;
}

namespace {

// Two paths name the same file (the registry of the rules file and of [ingest]).
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec_a, ec_b;
  const auto ca = std::filesystem::weakly_canonical(a, ec_a);
  const auto cb = std::filesystem::weakly_canonical(b, ec_b);
  if (ec_a || ec_b)
    return std::filesystem::path(a).lexically_normal() ==
           std::filesystem::path(b).lexically_normal();
  return ca == cb;
}

// The rules file parsed once (ParseRulesConfig, LoadRulesConfig); `given` is
// the caller's station registry (serve's [ingest]), nullptr if none.
RulesConfig ParseRulesFile(const common::TomlFile& file, const StationSource* given) {
  const std::string& name = file.path;
  const Ctx ctx(file);
  const toml::table& root = file.root;
  CheckKeys(ctx, root, "", {"stations_file", "engine", "areas", "stations", "rules"});
  RulesConfig cfg;
  cfg.source = name;
  if (const toml::node* n = root.get("engine")) {
    if (!n->is_table()) ctx.Fail("engine", n, "expected a table [engine]");
    cfg.engine = ParseEngine(ctx, *n->as_table());
  }
  std::set<std::string> ids;
  if (const toml::array* arr = GetTableArray(ctx, root, "", "areas")) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      Area a = ParseArea(ctx, *arr->get(i)->as_table(), Index("areas", i));
      if (cfg.FindArea(a.id) != nullptr)
        ctx.Fail(Index("areas", i) + ".id", arr->get(i),
                 fmt::format("duplicate area id \"{}\"", a.id));
      cfg.areas.push_back(std::move(a));
    }
  }
  // Where the stations come from: serve's registry, the one this file names,
  // or (neither) the entries themselves.
  StationSource src;
  std::optional<ingest::StationRegistry> loaded;
  const toml::node* file_node = root.get("stations_file");
  if (auto f = GetString(ctx, root, "", "stations_file")) {
    if (f->empty())
      ctx.Fail("stations_file", file_node,
               "empty: name the station registry (docs/ingest/FILES.md) or leave the key out");
    cfg.stations_file = ctx.Resolve(*f);
  }
  if (given != nullptr) {
    if (!cfg.stations_file.empty() && !SameFile(cfg.stations_file, given->file))
      ctx.Fail("stations_file", file_node,
               fmt::format("{} is not the station registry of the service config ([ingest] "
                           "stations_file = {}): the rules and ingest use one registry; name "
                           "that file here or leave the key out",
                           cfg.stations_file, given->file));
    cfg.stations_file = given->file;
    src = *given;
  } else if (!cfg.stations_file.empty()) {
    if (!std::filesystem::exists(cfg.stations_file))
      ctx.Fail("stations_file", file_node,
               fmt::format("{}: file not found (the station registry, docs/ingest/FILES.md)",
                           cfg.stations_file));
    loaded = ingest::LoadStations(cfg.stations_file);
    src.registry = &*loaded;
    src.file = cfg.stations_file;
  }
  if (const toml::array* arr = GetTableArray(ctx, root, "", "stations")) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string p = Index("stations", i);
      StationEntry s = ParseStation(ctx, *arr->get(i)->as_table(), p, src);
      if (cfg.FindStation(s.id()) != nullptr)
        ctx.Fail(p + ".id", arr->get(i), fmt::format("duplicate station id \"{}\"", s.id()));
      if (cfg.FindArea(s.area) == nullptr)
        ctx.Fail(p + ".area", arr->get(i)->as_table()->get("area"),
                 fmt::format("no [[areas]] with id \"{}\"", s.area));
      cfg.stations.push_back(std::move(s));
    }
  }
  if (const toml::array* arr = GetTableArray(ctx, root, "", "rules")) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string p = Index("rules", i);
      RuleConfig r = ParseRule(ctx, *arr->get(i)->as_table(), p, cfg);
      if (cfg.FindRule(r.id) != nullptr)
        ctx.Fail(p + ".id", arr->get(i), fmt::format("duplicate rule id \"{}\"", r.id));
      cfg.rules.push_back(std::move(r));
    }
  }
  return cfg;
}

}  // namespace

RulesConfig ParseRulesConfig(const std::string& text, const std::string& name) {
  return ParseRulesFile(common::ParseTomlText<RulesConfigError>(text, name), nullptr);
}

RulesConfig LoadRulesConfig(const std::string& path) {
  return ParseRulesFile(common::ReadTomlFile<RulesConfigError>(path, "rules file"), nullptr);
}

RulesConfig ParseRulesConfig(const std::string& text, const std::string& name,
                             const ingest::StationRegistry& registry,
                             const std::string& registry_file) {
  const StationSource given{&registry, registry_file};
  return ParseRulesFile(common::ParseTomlText<RulesConfigError>(text, name), &given);
}

RulesConfig LoadRulesConfig(const std::string& path, const ingest::StationRegistry& registry,
                            const std::string& registry_file) {
  const StationSource given{&registry, registry_file};
  return ParseRulesFile(common::ReadTomlFile<RulesConfigError>(path, "rules file"), &given);
}

// ---------------------------------------------------------------------------
// Pure evaluation

bool MeetsRising(const LevelThreshold& t, double value) {
  return t.strict ? value > t.rising : value >= t.rising;
}

Level EvaluateLevel(const std::vector<LevelThreshold>& levels, Level current, double value) {
  Level out = 0;
  for (const auto& t : levels) {
    if (MeetsRising(t, value)) out = std::max(out, t.level);
    if (t.level <= current && value >= t.falling) out = std::max(out, t.level);
  }
  return out;
}

std::optional<double> RainSum(const std::vector<Sample>& samples, TimePoint end, Duration window,
                              Duration interval) {
  // Samples are sorted by time. Each covers (t - interval, t]. The window
  // (end - window, end] is covered when consecutive samples inside it are at
  // most one interval apart (a tolerance of half an interval for clock jitter)
  // and the first one reaches back to the window start.
  const TimePoint start = end - window;
  const Duration slack = interval / 2;
  double sum = 0.0;
  TimePoint covered_to = start;  // coverage must continue from the window start
  bool any = false;
  for (const Sample& s : samples) {
    if (s.observed <= start) continue;
    if (s.observed > end) break;
    if (s.observed - interval > covered_to + slack) return std::nullopt;  // a gap
    sum += s.value;
    covered_to = s.observed;
    any = true;
  }
  if (!any) return std::nullopt;
  if (end - covered_to > slack) return std::nullopt;  // no data up to the end
  return sum;
}

RainEvaluation EvaluateRain(const std::vector<RainClass>& classes,
                            const std::vector<Sample>& samples, TimePoint end, Duration interval) {
  RainEvaluation out;
  bool unknown = false;
  std::vector<Duration> windows;
  for (const auto& c : classes)
    if (std::find(windows.begin(), windows.end(), c.window) == windows.end())
      windows.push_back(c.window);
  std::string unknown_windows;
  std::string sums;
  for (Duration w : windows) {
    const auto sum = RainSum(samples, end, w, interval);
    if (!sum) {
      unknown = true;
      unknown_windows += (unknown_windows.empty() ? "" : ", ") + FormatDuration(w);
      continue;
    }
    sums += fmt::format("{}{:.1f} mm/{}", sums.empty() ? "" : ", ", *sum, FormatDuration(w));
    for (const auto& c : classes) {
      if (c.window != w) continue;
      const bool met = c.strict ? *sum > c.threshold : *sum >= c.threshold;
      if (met && c.level > out.level) {
        out.level = c.level;
        out.value = *sum;
        out.threshold = c.threshold;
        out.window = w;
        out.reason = fmt::format("{:.1f} mm in {} {} {:.1f} mm ({})", *sum, FormatDuration(w),
                                 c.strict ? ">" : ">=", c.threshold, c.label);
      }
    }
  }
  if (out.level > 0) {
    out.condition = Condition::kRaised;
    if (unknown) out.reason += fmt::format("; no complete data for {}", unknown_windows);
  } else if (unknown) {
    out.condition = Condition::kUnknown;
    out.reason = fmt::format("no complete rain data for {}{}{}", unknown_windows,
                             sums.empty() ? "" : "; ", sums);
  } else {
    out.condition = Condition::kClear;
    out.reason = sums;
  }
  return out;
}

std::optional<double> RiseOver(const std::vector<Sample>& samples, TimePoint end, Duration window,
                               Duration max_gap) {
  if (samples.empty()) return std::nullopt;
  // Latest sample at or before end.
  auto last = std::upper_bound(samples.begin(), samples.end(), end,
                               [](TimePoint t, const Sample& s) { return t < s.observed; });
  if (last == samples.begin()) return std::nullopt;
  --last;
  if (end - last->observed > max_gap) return std::nullopt;
  const TimePoint start = end - window;
  auto after = std::upper_bound(samples.begin(), samples.end(), start,
                                [](TimePoint t, const Sample& s) { return t < s.observed; });
  if (after == samples.begin()) return std::nullopt;  // nothing at or before the start
  auto before = std::prev(after);
  double base = before->value;
  if (before->observed != start) {
    if (after == samples.end() || after->observed > end) return std::nullopt;
    if (after->observed - before->observed > max_gap) return std::nullopt;
    const double f = std::chrono::duration<double>(start - before->observed).count() /
                     std::chrono::duration<double>(after->observed - before->observed).count();
    base = before->value + f * (after->value - before->value);
  }
  return last->value - base;
}

std::optional<double> ConvertUnit(double value, const std::string& from, const std::string& to) {
  if (from == to) return value;
  auto factor = [](const std::string& u) -> double {
    if (u == "mm") return 0.001;
    if (u == "cm") return 0.01;
    if (u == "m") return 1.0;
    return 0.0;
  };
  const double f = factor(from);
  const double t = factor(to);
  if (f == 0.0 || t == 0.0) return std::nullopt;
  return value * f / t;
}

}  // namespace floodwarn::alerting
