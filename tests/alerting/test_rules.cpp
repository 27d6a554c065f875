// Rules file parsing/validation and the pure rule evaluation (hysteresis, DWD
// heavy-rain classes, rain sums with gaps, rate of rise).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "floodwarn/alerting/rules.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "test_support.hpp"

namespace fa = floodwarn::alerting;
using fa::Condition;
using fa::Duration;
using fa::Sample;
using fa::TimePoint;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

const TimePoint kT0{std::chrono::hours(24 * 20000)};  // a fixed instant

const char* kBase = R"(
[[areas]]
id = "town"
name = "Town"
polygon = [[50.0, 8.0], [50.0, 8.1], [50.1, 8.1], [50.0, 8.0]]

[[stations]]
id = "g1"
name = "Gauge 1"
area = "town"
quantity = "water_level"
unit = "cm"
expected_interval = "15m"

[[stations]]
id = "r1"
name = "Rain 1"
area = "town"
quantity = "rainfall"
unit = "mm"
expected_interval = "1h"
)";

// Parses kBase + extra and returns the error message ("" when it parsed).
std::string ErrorOf(const std::string& extra) {
  try {
    fa::ParseRulesConfig(std::string(kBase) + extra, "test.toml");
  } catch (const fa::RulesConfigError& e) {
    return e.what();
  }
  return "";
}

// Line number (1-based) of the first line of kBase + extra containing `needle`.
int LineOf(const std::string& extra, const std::string& needle) {
  const std::string text = std::string(kBase) + extra;
  const auto pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

std::vector<fa::LevelThreshold> Meldestufen() {
  return {{1, 300, 280, false, "MS1"},
          {2, 400, 380, false, "MS2"},
          {3, 500, 480, false, "MS3"},
          {4, 600, 580, false, "MS4"}};
}

// Hourly rain samples ending at kT0 (last value at kT0), oldest first.
std::vector<Sample> Hourly(const std::vector<double>& values) {
  std::vector<Sample> out;
  const auto n = static_cast<int>(values.size());
  for (int i = 0; i < n; ++i) out.push_back({kT0 - hours(n - 1 - i), values[i]});
  return out;
}

fa::RainEvaluation Dwd(const std::vector<Sample>& s) {
  return fa::EvaluateRain(fa::DwdHeavyRainClasses(), s, kT0, hours(1));
}

}  // namespace

TEST(RulesConfig, LoadsTheTownExample) {
  const std::string path = floodwarn::testing::SourceDir() + "/configs/alerting/town_rules.toml";
  const fa::RulesConfig cfg = fa::LoadRulesConfig(path);
  EXPECT_EQ(cfg.engine.mode, fa::Mode::kActual);
  EXPECT_EQ(cfg.engine.escalation_after, Duration(minutes(30)));
  EXPECT_EQ(cfg.engine.escalation_channel, "duty-officer-phone");
  ASSERT_EQ(cfg.areas.size(), 3u);
  EXPECT_EQ(cfg.areas[0].polygon.size(), 5u);
  EXPECT_EQ(cfg.areas[0].ars, "064390001001");
  ASSERT_TRUE(cfg.areas[2].circle.has_value());
  EXPECT_DOUBLE_EQ(cfg.areas[2].circle->second, 0.2);
  ASSERT_EQ(cfg.stations.size(), 2u);
  EXPECT_EQ(cfg.stations[0].stale_after(), Duration(minutes(45)));
  EXPECT_EQ(cfg.stations[1].stale_after(), Duration(minutes(15)));  // 3 x 5 min (registry)
  // The stations come from the registry the file names (town_stations.toml).
  EXPECT_NE(cfg.stations_file.find("town_stations.toml"), std::string::npos);
  EXPECT_EQ(cfg.stations[0].station.kind, floodwarn::ingest::Quantity::kWaterLevel);
  EXPECT_EQ(cfg.stations[0].unit(), "cm");
  EXPECT_EQ(cfg.stations[0].interval(), Duration(minutes(15)));
  EXPECT_EQ(cfg.stations[0].name, "Pegel Talstadt");  // the registry's name
  EXPECT_EQ(cfg.stations[0].area, "unterstadt");      // the rules' own
  EXPECT_EQ(cfg.stations[1].station.kind, floodwarn::ingest::Quantity::kRainfall);
  ASSERT_EQ(cfg.rules.size(), 5u);
  const fa::RuleConfig* ms = cfg.FindRule("talstadt_meldestufen");
  ASSERT_NE(ms, nullptr);
  ASSERT_EQ(ms->levels.size(), 4u);
  EXPECT_EQ(ms->levels[1].level, 2);
  EXPECT_DOUBLE_EQ(ms->levels[1].rising, 400.0);
  EXPECT_DOUBLE_EQ(ms->levels[1].falling, 380.0);
  EXPECT_EQ(ms->levels[1].label, "Meldestufe 2");
  EXPECT_EQ(ms->min_time_above, Duration(minutes(15)));
  EXPECT_EQ(ms->min_dwell, Duration(hours(1)));
  const fa::RuleConfig* rise = cfg.FindRule("talstadt_anstieg");
  ASSERT_NE(rise, nullptr);
  EXPECT_FALSE(rise->escalation_after.has_value());  // "off"
  EXPECT_EQ(rise->window, Duration(minutes(15)));
  const fa::RuleConfig* rain = cfg.FindRule("talstadt_starkregen");
  ASSERT_NE(rain, nullptr);
  EXPECT_EQ(rain->rain_classes.size(), fa::DwdHeavyRainClasses().size());  // DWD default
  EXPECT_EQ(rain->escalation_after, Duration(minutes(30)));                // engine default
  const fa::RuleConfig* fc = cfg.FindRule("schule_krankenhaus_prognose");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->targets, (std::vector<std::string>{"school", "hospital"}));
  EXPECT_EQ(fc->max_age, Duration(hours(2)));  // defaults to the lead time
}

TEST(RulesConfig, UnknownKeysNameFileLineAndKey) {
  const std::string rule = R"(
[[rules]]
id = "w"
kind = "water_level"
station = "g1"
levels = [{ level = 2, rising = 400 }]
min_time_abov = "15m"
)";
  const std::string err = ErrorOf(rule);
  EXPECT_NE(err.find("test.toml:" + std::to_string(LineOf(rule, "min_time_abov")) +
                     ": rules[0].min_time_abov: unknown key"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("min_time_above"), std::string::npos) << err;  // lists what is allowed

  const std::string nested = R"(
[[rules]]
id = "w"
kind = "water_level"
station = "g1"
[[rules.levels]]
level = 2
rising = 400
fallng = 380
)";
  const std::string err2 = ErrorOf(nested);
  EXPECT_NE(err2.find("test.toml:" + std::to_string(LineOf(nested, "fallng")) +
                      ": rules[0].levels[0].fallng: unknown key"),
            std::string::npos)
      << err2;

  EXPECT_NE(ErrorOf("\n[engine]\nmodus = \"test\"\n").find("engine.modus: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[alerts]\nx = 1\n").find("alerts: unknown key"), std::string::npos);
  // A key valid for one kind is unknown for another.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"r\"\nkind = \"rainfall\"\nstation = \"r1\"\n"
                    "lead_time = \"1h\"\n")
                .find("rules[0].lead_time: unknown key"),
            std::string::npos);
}

TEST(RulesConfig, ValidationErrors) {
  // Rising thresholds must increase with the level.
  EXPECT_NE(ErrorOf(R"(
[[rules]]
id = "w"
kind = "water_level"
station = "g1"
levels = [{ level = 1, rising = 300 }, { level = 2, rising = 300 }]
)")
                .find("rising thresholds must increase with the level"),
            std::string::npos);
  // Falling above rising.
  EXPECT_NE(ErrorOf(R"(
[[rules]]
id = "w"
kind = "water_level"
station = "g1"
levels = [{ level = 2, rising = 400, falling = 410 }]
)")
                .find("must not exceed the rising threshold"),
            std::string::npos);
  // Level out of range.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"w\"\nkind = \"water_level\"\nstation = \"g1\"\n"
                    "levels = [{ level = 5, rising = 400 }]\n")
                .find("expected a warning level, an integer 1..4"),
            std::string::npos);
  // Unknown station, station of the wrong quantity.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"w\"\nkind = \"water_level\"\nstation = \"nope\"\n"
                    "levels = [{ level = 2, rising = 400 }]\n")
                .find("no [[stations]] with id \"nope\""),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"w\"\nkind = \"rainfall\"\nstation = \"g1\"\n")
                .find("is not a rainfall station"),
            std::string::npos);
  // Durations.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"w\"\nkind = \"water_level\"\nstation = \"g1\"\n"
                    "min_dwell = \"ten minutes\"\nlevels = [{ level = 2, rising = 400 }]\n")
                .find("expected a duration"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"w\"\nkind = \"rate_of_rise\"\nstation = \"g1\"\n"
                    "levels = [{ level = 2, rising = 10 }]\n")
                .find("rules[0].window: missing required duration"),
            std::string::npos);
  // Duplicate rule id.
  const std::string rule =
      "\n[[rules]]\nid = \"w\"\nkind = \"water_level\"\nstation = \"g1\"\n"
      "levels = [{ level = 2, rising = 400 }]\n";
  EXPECT_NE(ErrorOf(rule + rule).find("duplicate rule id \"w\""), std::string::npos);
  // Exercise needs its id; unknown mode.
  EXPECT_NE(ErrorOf("\n[engine]\nmode = \"exercise\"\n").find("needs an exercise_id"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[engine]\nmode = \"drill\"\n").find("expected \"actual\", \"exercise\""),
            std::string::npos);
  // Rain per area needs the area; "per" takes station or area only.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"r\"\nkind = \"rainfall\"\nstation = \"r1\"\n"
                    "per = \"area\"\n")
                .find("per = \"area\" needs the rule's area"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"r\"\nkind = \"rainfall\"\nstation = \"r1\"\n"
                    "per = \"zone\"\n")
                .find("rules[0].per: \"zone\": expected \"station\""),
            std::string::npos);
  // Forecast rules need an area; rain classes need exactly one comparison.
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"f\"\nkind = \"forecast_depth\"\ntarget = \"x\"\n"
                    "lead_time = \"2h\"\nlevels = [{ level = 2, rising = 0.1 }]\n")
                .find("forecast rules need an area"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[[rules]]\nid = \"r\"\nkind = \"rainfall\"\nstation = \"r1\"\n"
                    "classes = [{ level = 2, window = \"1h\", at_least = 10, more_than = 10 }]\n")
                .find("exactly one of at_least"),
            std::string::npos);
}

TEST(RulesConfig, AreaValidation) {
  auto area_error = [](const std::string& area) {
    try {
      fa::ParseRulesConfig("[[areas]]\n" + area, "areas.toml");
    } catch (const fa::RulesConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(area_error("id = \"a\"\nname = \"A\"\n"
                       "polygon = [[50.0, 8.0], [50.0, 8.1], [50.1, 8.1], [50.1, 8.0]]\n")
                .find("areas.toml:4: areas[0].polygon: polygon is not closed"),
            std::string::npos);
  EXPECT_NE(area_error("id = \"a\"\nname = \"A\"\npolygon = [[50.0, 8.0], [50.1, 8.1], [50.0, "
                       "8.0]]\n")
                .find("at least 4 points"),
            std::string::npos);
  EXPECT_NE(area_error("id = \"a\"\nname = \"A\"\nars = \"0643\"\n").find("AGS (8 digits)"),
            std::string::npos);
  EXPECT_NE(area_error("id = \"a b\"\nname = \"A\"\nars = \"06439000\"\n").find("letters, digits"),
            std::string::npos);
  EXPECT_NE(area_error("id = \"a\"\nname = \"A\"\n").find("needs a polygon, a circle or an ars"),
            std::string::npos);
  EXPECT_NE(area_error("id = \"a\"\nname = \"A\"\ncircle = { lat = 50, lon = 8, radius_km = 0 }\n")
                .find("radius_km: expected > 0"),
            std::string::npos);
  // A station in an area that does not exist.
  EXPECT_NE(ErrorOf("\n[[stations]]\nid = \"g2\"\nname = \"G\"\narea = \"elsewhere\"\n"
                    "quantity = \"water_level\"\nunit = \"cm\"\nexpected_interval = \"15m\"\n")
                .find("no [[areas]] with id \"elsewhere\""),
            std::string::npos);
}

// Stations live in ingest's registry: with one, a [[stations]] entry refers
// to a registry station by id and adds only what alerting adds (area,
// optionally a name for alert texts); the older keys that duplicate the
// registry are errors that name the registry's spelling, unless the entry
// defines its station inline (the older spelling, with `quantity`), which is
// still accepted (docs/alerting/RULES.md, "Stations").
namespace {

const char* kRegistry = R"toml(
[[station]]
id = "g1"
name = "Gauge One (registry)"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 50.05, lon = 8.05 }
[station.qc]
stale_factor = 4

[[station]]
id = "r1"
name = "Rain One"
kind = "rainfall"
unit = "mm"
expected_interval = "1h"
location = { lat = 50.06, lon = 8.06 }
)toml";

const char* kAreas = R"(
[[areas]]
id = "town"
name = "Town"
polygon = [[50.0, 8.0], [50.0, 8.1], [50.1, 8.1], [50.0, 8.0]]
)";

fa::RulesConfig WithRegistry(const std::string& rules) {
  const auto registry = floodwarn::ingest::ParseStations(kRegistry, "stations.toml");
  return fa::ParseRulesConfig(std::string(kAreas) + rules, "rules.toml", registry, "stations.toml");
}

std::string ErrorWithRegistry(const std::string& rules) {
  try {
    WithRegistry(rules);
  } catch (const fa::RulesConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RulesStations, ComeFromTheRegistryWithTheirAreas) {
  const fa::RulesConfig cfg = WithRegistry(R"(
[[stations]]
id = "g1"
area = "town"
name = "Pegel Eins"

[[stations]]
id = "r1"
area = "town"

[[rules]]
id = "rain"
kind = "rainfall"
station = "r1"

[[rules]]
id = "level"
kind = "water_level"
station = "g1"
levels = [{ level = 1, rising = 300 }]
)");
  ASSERT_EQ(cfg.stations.size(), 2u);
  EXPECT_EQ(cfg.stations_file, "stations.toml");
  const fa::StationEntry* g = cfg.FindStation("g1");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->id(), "g1");
  EXPECT_EQ(g->area, "town");                          // the rules' own
  EXPECT_EQ(g->name, "Pegel Eins");                    // the rules' name for alert texts
  EXPECT_EQ(g->station.name, "Gauge One (registry)");  // the registry's stays
  // Kind, unit, interval, stale limit and location: the registry's.
  EXPECT_EQ(g->station.kind, floodwarn::ingest::Quantity::kWaterLevel);
  EXPECT_EQ(g->unit(), "cm");
  EXPECT_EQ(g->interval(), Duration(minutes(15)));
  EXPECT_EQ(g->stale_after(), Duration(minutes(60)));  // 4 x 15 min from the registry
  EXPECT_EQ(g->station.location.lat, 50.05);
  const fa::StationEntry* r = cfg.FindStation("r1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "Rain One");  // no name: the registry's
  EXPECT_EQ(r->station.kind, floodwarn::ingest::Quantity::kRainfall);
  EXPECT_EQ(r->unit(), "mm");
  EXPECT_EQ(r->interval(), Duration(hours(1)));
}

TEST(RulesStations, RulesCheckTheRegistrysKind) {
  // g1 is a water-level gauge in the registry: a rainfall rule on it is refused.
  const std::string err = ErrorWithRegistry(R"(
[[stations]]
id = "g1"
area = "town"

[[rules]]
id = "rain"
kind = "rainfall"
station = "g1"
)");
  EXPECT_NE(err.find("station \"g1\" is not a rainfall station"), std::string::npos) << err;
}

TEST(RulesStations, UnknownStationIdNamesTheFileTheLineAndTheId) {
  const std::string rules = "\n[[stations]]\nid = \"g9\"\narea = \"town\"\n";
  const std::string err = ErrorWithRegistry(rules);
  // line of `id = "g9"` in kAreas + rules
  const std::string text = std::string(kAreas) + rules;
  const int line = 1 + static_cast<int>(std::count(
                           text.begin(), text.begin() + static_cast<long>(text.find("g9")), '\n'));
  EXPECT_NE(err.find("rules.toml:" + std::to_string(line) + ": stations[0].id"), std::string::npos)
      << err;
  EXPECT_NE(err.find("no station \"g9\" in the station registry stations.toml"), std::string::npos)
      << err;
}

TEST(RulesStations, OldKeysOnARegistryStationNameTheNewSpelling) {
  const std::string head = "\n[[stations]]\nid = \"g1\"\narea = \"town\"\n";
  struct Case {
    std::string key, registry_spelling;
  };
  for (const Case& c : {Case{"unit = \"cm\"", "the registry's unit"},
                        Case{"expected_interval = \"15m\"", "the registry's expected_interval"},
                        Case{"stale_after = \"45m\"", "the registry's [station.qc] stale_factor"},
                        Case{"lat = 50.1\nlon = 8.2", "the registry's location"}}) {
    const std::string err = ErrorWithRegistry(head + c.key + "\n");
    const std::string key = c.key.substr(0, c.key.find(' '));
    EXPECT_NE(err.find("rules.toml:"), std::string::npos) << err;
    EXPECT_NE(err.find("stations[0]." + key), std::string::npos) << err;
    EXPECT_NE(err.find("station registry stations.toml"), std::string::npos) << err;
    EXPECT_NE(err.find(c.registry_spelling), std::string::npos) << err;
  }
  // The rules' registry must be serve's ([ingest]) registry.
  const auto registry = floodwarn::ingest::ParseStations(kRegistry, "stations.toml");
  try {
    fa::ParseRulesConfig("stations_file = \"other.toml\"\n", "rules.toml", registry,
                         "stations.toml");
    ADD_FAILURE() << "expected an error";
  } catch (const fa::RulesConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "rules.toml:1: stations_file: other.toml is not the station registry of the "
                  "service config ([ingest] stations_file = stations.toml)"),
              std::string::npos)
        << e.what();
  }
}

// A rules file that defines its stations inline (the older spelling) keeps
// working, without a registry and with one (`floodwarn serve` with [ingest]):
// the engine uses the inline definition, as it did before the registry.
TEST(RulesStations, InlineStationsKeepWorking) {
  const fa::RulesConfig cfg = fa::ParseRulesConfig(std::string(kBase), "test.toml");
  ASSERT_EQ(cfg.stations.size(), 2u);
  EXPECT_TRUE(cfg.stations_file.empty());
  EXPECT_EQ(cfg.stations[0].station.kind, floodwarn::ingest::Quantity::kWaterLevel);
  EXPECT_EQ(cfg.stations[0].name, "Gauge 1");
  EXPECT_EQ(cfg.stations[0].area, "town");
  EXPECT_EQ(cfg.stations[0].unit(), "cm");
  EXPECT_EQ(cfg.stations[1].station.kind, floodwarn::ingest::Quantity::kRainfall);

  const fa::RulesConfig mixed = WithRegistry(R"toml(
[[stations]]
id = "g1"
name = "Gauge 1 (inline)"
area = "town"
quantity = "water_level"
unit = "m"
expected_interval = "10m"
stale_after = "25m"
lat = 50.1
lon = 8.2

[[stations]]
id = "r1"
area = "town"
)toml");
  const fa::StationEntry* g = mixed.FindStation("g1");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->name, "Gauge 1 (inline)");
  EXPECT_EQ(g->unit(), "m");  // thresholds in m; the registry's cm readings are converted
  EXPECT_EQ(g->interval(), Duration(minutes(10)));
  EXPECT_EQ(g->stale_after(), Duration(minutes(25)));
  EXPECT_EQ(g->station.location.lon, 8.2);
  EXPECT_EQ(mixed.FindStation("r1")->interval(), Duration(hours(1)));  // the registry's

  // An inline station still needs its keys, registry or not.
  EXPECT_NE(ErrorWithRegistry("\n[[stations]]\nid = \"g1\"\nname = \"G\"\narea = \"town\"\n"
                              "quantity = \"water_level\"\nunit = \"cm\"\n")
                .find("rules.toml:7: stations[0].expected_interval: missing required duration"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n[[stations]]\nid = \"g2\"\nname = \"G\"\narea = \"town\"\n"
                    "quantity = \"water_level\"\nunit = \"cm\"\nexpected_interval = \"1500ms\"\n")
                .find("expected_interval: expected whole seconds"),
            std::string::npos);
  // A named registry that is not there names the file and the key.
  const std::string err = [] {
    try {
      fa::ParseRulesConfig("stations_file = \"/nonexistent/stations.toml\"\n", "rules.toml");
    } catch (const fa::RulesConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(err.find("rules.toml:1: stations_file: /nonexistent/stations.toml: file not found"),
            std::string::npos)
      << err;
}

// One default for "stale": ingest's kDefaultStaleFactor, for a registry
// station without [station.qc] stale_factor and an inline station without
// stale_after alike.
TEST(RulesStations, OneStaleDefault) {
  EXPECT_EQ(floodwarn::ingest::kDefaultStaleFactor, 2.0);
  const fa::RulesConfig inline_cfg = fa::ParseRulesConfig(std::string(kBase), "test.toml");
  EXPECT_EQ(inline_cfg.FindStation("g1")->stale_after(), Duration(minutes(30)));  // 2 x 15 min
  EXPECT_EQ(inline_cfg.FindStation("r1")->stale_after(), Duration(hours(2)));     // 2 x 1 h
  const fa::RulesConfig reg = WithRegistry("\n[[stations]]\nid = \"r1\"\narea = \"town\"\n");
  EXPECT_EQ(reg.FindStation("r1")->station.qc.stale_factor, floodwarn::ingest::kDefaultStaleFactor);
  EXPECT_EQ(reg.FindStation("r1")->stale_after(), Duration(hours(2)));  // the same 2 x 1 h
}

TEST(RulesConfig, MissingFileNamesThePath) {
  try {
    fa::LoadRulesConfig("/nonexistent/rules.toml");
    FAIL() << "expected an error";
  } catch (const fa::RulesConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rules.toml"), std::string::npos);
  }
}

TEST(Durations, ParseAndFormat) {
  EXPECT_EQ(fa::ParseDuration("90s"), Duration(90'000));
  EXPECT_EQ(fa::ParseDuration("15m"), Duration(minutes(15)));
  EXPECT_EQ(fa::ParseDuration("1h30m"), Duration(minutes(90)));
  EXPECT_EQ(fa::ParseDuration("2d"), Duration(hours(48)));
  EXPECT_EQ(fa::ParseDuration("250ms"), Duration(250));
  EXPECT_FALSE(fa::ParseDuration("15").has_value());
  EXPECT_FALSE(fa::ParseDuration("m").has_value());
  EXPECT_FALSE(fa::ParseDuration("1x").has_value());
  EXPECT_FALSE(fa::ParseDuration("").has_value());
  EXPECT_EQ(fa::FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(fa::FormatDuration(hours(6)), "6h");
}

// The one duration grammar (docs/DURATIONS.md): the station registry's
// "15min" works in a rules file too, and the error names file, line and key.
TEST(Durations, TheStationRegistrySpellingWorksInRulesFiles) {
  EXPECT_EQ(fa::ParseDuration("15min"), Duration(minutes(15)));
  EXPECT_EQ(fa::ParseDuration("1h30min"), Duration(minutes(90)));
  const fa::RulesConfig c =
      fa::ParseRulesConfig("[engine]\nescalation_after = \"45min\"\n", "rules.toml");
  EXPECT_EQ(c.engine.escalation_after, Duration(minutes(45)));
  try {
    fa::ParseRulesConfig("[engine]\nescalation_after = 30\n", "rules.toml");
    ADD_FAILURE() << "a number without unit was accepted";
  } catch (const fa::RulesConfigError& e) {
    EXPECT_EQ(e.file(), "rules.toml");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "engine.escalation_after");
    EXPECT_NE(e.detail().find("a duration needs its unit, e.g. \"30s\""), std::string::npos)
        << e.what();
  }
}

TEST(Evaluate, WaterLevelHysteresis) {
  const auto t = Meldestufen();
  EXPECT_EQ(fa::EvaluateLevel(t, 0, 299.9), 0);
  EXPECT_EQ(fa::EvaluateLevel(t, 0, 300.0), 1);
  EXPECT_EQ(fa::EvaluateLevel(t, 0, 400.0), 2);
  EXPECT_EQ(fa::EvaluateLevel(t, 0, 395.0), 1);  // rising: 395 is only level 1
  EXPECT_EQ(fa::EvaluateLevel(t, 2, 395.0), 2);  // at level 2: held down to 380
  EXPECT_EQ(fa::EvaluateLevel(t, 2, 380.0), 2);
  EXPECT_EQ(fa::EvaluateLevel(t, 2, 379.9), 1);  // below the falling threshold of 2
  EXPECT_EQ(fa::EvaluateLevel(t, 2, 285.0), 1);  // level 1 held down to 280
  EXPECT_EQ(fa::EvaluateLevel(t, 2, 279.0), 0);
  EXPECT_EQ(fa::EvaluateLevel(t, 1, 610.0), 4);  // a jump straight to 4
  EXPECT_EQ(fa::EvaluateLevel(t, 4, 585.0), 4);
  EXPECT_EQ(fa::EvaluateLevel(t, 4, 575.0), 3);
}

// External truth: the DWD Starkregen table (NOTES-alerting-ingest.md 2.5):
// level 2 = 15-25 mm/1 h or 20-35 mm/6 h, level 3 = >25-40 mm/1 h or
// >35-60 mm/6 h, level 4 = >40 mm/1 h or >60 mm/6 h.
TEST(Evaluate, DwdHeavyRainOneHourBoundaries) {
  auto one_hour = [](double mm) {  // 5 dry hours, then `mm` in the last hour
    return Dwd(Hourly({0, 0, 0, 0, 0, mm}));
  };
  EXPECT_EQ(one_hour(14.9).level, 0);
  EXPECT_EQ(one_hour(14.9).condition, Condition::kClear);
  EXPECT_EQ(one_hour(15.0).level, 2);
  EXPECT_EQ(one_hour(15.0).condition, Condition::kRaised);
  EXPECT_EQ(one_hour(25.0).level, 2);
  EXPECT_EQ(one_hour(25.1).level, 3);
  EXPECT_EQ(one_hour(40.0).level, 3);
  EXPECT_EQ(one_hour(40.1).level, 4);
  EXPECT_EQ(one_hour(40.1).window, Duration(hours(1)));
  // The saved RADOLAN RW sample peaks at 42.1 mm/h: level 4.
  EXPECT_EQ(one_hour(42.1).level, 4);
}

TEST(Evaluate, DwdHeavyRainSixHourBoundaries) {
  auto six_hours = [](double mm) {  // all rain in the first hour, 5 dry hours
    return Dwd(Hourly({mm, 0, 0, 0, 0, 0}));
  };
  EXPECT_EQ(six_hours(19.9).level, 0);
  EXPECT_EQ(six_hours(20.0).level, 2);
  EXPECT_EQ(six_hours(20.0).window, Duration(hours(6)));
  EXPECT_EQ(six_hours(35.0).level, 2);
  EXPECT_EQ(six_hours(35.5).level, 3);
  EXPECT_EQ(six_hours(60.0).level, 3);
  EXPECT_EQ(six_hours(60.5).level, 4);
  // Spread over the six hours the same sums give the same classes.
  EXPECT_EQ(Dwd(Hourly({6, 6, 6, 6, 6, 6})).level, 3);  // 36 mm / 6 h, 6 mm / 1 h
  EXPECT_EQ(Dwd(Hourly({5, 5, 5, 5, 5, 5})).level, 2);  // 30 mm / 6 h
}

TEST(Evaluate, RainWithAGapIsUnknownNotLow) {
  // Hour 3 of 6 missing: the 6 h sum is unknown; the 1 h sum is known and low.
  std::vector<Sample> s = Hourly({1, 1, 1, 1, 1, 1});
  s.erase(s.begin() + 2);
  const auto r = Dwd(s);
  EXPECT_EQ(r.condition, Condition::kUnknown);
  EXPECT_EQ(r.level, 0);
  EXPECT_NE(r.reason.find("6h"), std::string::npos) << r.reason;
  EXPECT_FALSE(fa::RainSum(s, kT0, hours(6), hours(1)).has_value());
  EXPECT_EQ(fa::RainSum(s, kT0, hours(1), hours(1)), 1.0);
  // Only 3 h of history: the 6 h window is not covered either.
  EXPECT_EQ(Dwd(Hourly({1, 1, 1})).condition, Condition::kUnknown);
  // No reading up to the end of the window: unknown.
  EXPECT_FALSE(fa::RainSum(Hourly({1, 1, 1, 1, 1, 1}), kT0 + hours(2), hours(1), hours(1)));
  // A known window that is met raises even when another is unknown (a lower bound).
  std::vector<Sample> heavy = Hourly({1, 1, 1, 1, 1, 30});
  heavy.erase(heavy.begin() + 1);
  const auto h = Dwd(heavy);
  EXPECT_EQ(h.condition, Condition::kRaised);
  EXPECT_EQ(h.level, 3);
  EXPECT_NE(h.reason.find("no complete data for 6h"), std::string::npos) << h.reason;
}

TEST(Evaluate, RainSumOfFiveMinuteReadings) {
  std::vector<Sample> s;
  for (int i = 0; i < 12; ++i) s.push_back({kT0 - minutes(5 * (11 - i)), 1.25});
  EXPECT_DOUBLE_EQ(*fa::RainSum(s, kT0, hours(1), minutes(5)), 15.0);
  // 15 mm in 1 h is level 2 even without 6 h of history (a lower bound that says so).
  const auto e = fa::EvaluateRain(fa::DwdHeavyRainClasses(), s, kT0, minutes(5));
  EXPECT_EQ(e.condition, Condition::kRaised);
  EXPECT_EQ(e.level, 2);
  EXPECT_NE(e.reason.find("no complete data for 6h"), std::string::npos) << e.reason;
  s.erase(s.begin() + 6);
  EXPECT_FALSE(fa::RainSum(s, kT0, hours(1), minutes(5)).has_value());
}

TEST(Evaluate, RateOfRise) {
  std::vector<Sample> s = {
      {kT0 - minutes(30), 300}, {kT0 - minutes(15), 310}, {kT0 - minutes(5), 325}, {kT0, 340}};
  EXPECT_DOUBLE_EQ(*fa::RiseOver(s, kT0, minutes(15), minutes(20)), 30.0);
  // Window start between samples: interpolated (kT0-20 min lies 2/3 of the way from
  // the 300 at kT0-30 min to the 310 at kT0-15 min).
  EXPECT_NEAR(*fa::RiseOver(s, kT0, minutes(20), minutes(20)), 340 - (300 + 20.0 / 3.0), 1e-9);
  // No sample back to the window start: unknown.
  EXPECT_FALSE(fa::RiseOver(s, kT0, minutes(45), minutes(20)).has_value());
  // Samples around the window start too far apart: unknown.
  EXPECT_FALSE(fa::RiseOver(s, kT0, minutes(20), minutes(10)).has_value());
  // Falling water: negative rise.
  std::vector<Sample> f = {{kT0 - minutes(15), 400}, {kT0, 390}};
  EXPECT_DOUBLE_EQ(*fa::RiseOver(f, kT0, minutes(15), minutes(20)), -10.0);
}

TEST(Units, LengthConversion) {
  EXPECT_NEAR(*fa::ConvertUnit(4.12, "m", "cm"), 412.0, 1e-9);
  EXPECT_DOUBLE_EQ(*fa::ConvertUnit(412.0, "cm", "cm"), 412.0);
  EXPECT_FALSE(fa::ConvertUnit(1.0, "m3/s", "cm").has_value());
}
