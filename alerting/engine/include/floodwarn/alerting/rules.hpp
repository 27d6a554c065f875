// Rules configuration (TOML, validated on load, unknown keys rejected) and the
// pure evaluation functions the engine applies to it. docs/alerting/RULES.md
// describes every key; configs/alerting/town_rules.toml is the worked example.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "floodwarn/alerting/types.hpp"
#include "floodwarn/common/config_error.hpp"
#include "floodwarn/common/duration.hpp"
#include "floodwarn/ingest/reading.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::alerting {

// Thrown by LoadRulesConfig / ParseRulesConfig; the message names the file,
// the line, the key and what was expected ("rules.toml:12: rules[2].levels[0].rising: ...").
class RulesConfigError : public common::ConfigError {
 public:
  using common::ConfigError::ConfigError;
};

// [engine]
struct EngineSettings {
  Mode mode = Mode::kActual;
  std::string exercise_id;  // required when mode = exercise (goes into CAP <note>)
  // QARTOD "suspect" readings (e.g. a rate-of-change flag, which is exactly
  // what a real flood wave trips) are used by default; fail/missing never.
  bool use_suspect_readings = true;
  // An active alert not acknowledged within this time escalates once; empty = never.
  std::optional<Duration> escalation_after = std::chrono::minutes(30);
  std::string escalation_channel = "escalation";  // named in the kEscalated event note
  Level outage_level = 2;                         // level of sensor-outage alerts
};

// [[stations]]: a station of ingest's station registry as the rules see it.
// The station itself (its kind, unit, reporting interval, stale limit and
// location) is ingest's: it comes from the registry the rules file names
// (stations_file) or serve's [ingest] names, by id; an entry with `quantity`
// defines it with its own keys instead (the older spelling, still accepted;
// docs/alerting/RULES.md, "Stations"). The rules add where its alerts go.
struct StationEntry {
  ingest::Station station;  // the registry's entry (or the inline definition)
  std::string area;         // id of a configured area: the area of the station's alerts
  std::string name;         // name in alert texts: the entry's `name`, else the registry's

  const std::string& id() const { return station.id; }
  // Readings are converted to this unit (cm/m/mm) or ignored.
  const std::string& unit() const { return station.unit; }
  // Reporting interval (a rain reading is the depth over the interval ending at its time).
  Duration interval() const { return station.expected_interval; }
  // No usable reading for this long = stale (ingest's StaleLimit of the station).
  Duration stale_after() const { return station.StaleAfter(); }
};

// One warning level of a threshold rule: raised at value >= rising (or >
// rising when strict), kept while value >= falling (hysteresis).
struct LevelThreshold {
  Level level = 0;
  double rising = 0.0;
  double falling = 0.0;
  bool strict = false;  // raise at value > rising instead of >=
  std::string label;    // e.g. "Meldestufe 2"
};

// One rainfall class: the rain sum over `window` against `threshold`.
struct RainClass {
  Level level = 0;
  Duration window{};
  double threshold = 0.0;  // mm
  bool strict = false;     // more_than (>) instead of at_least (>=)
  std::string label;
};

// The DWD heavy-rain classes (Starkregen): 15-25 mm/1 h or 20-35 mm/6 h -> 2,
// > 25-40 mm/1 h or > 35-60 mm/6 h -> 3, > 40 mm/1 h or > 60 mm/6 h -> 4.
std::vector<RainClass> DwdHeavyRainClasses();

// [[rules]]
struct RuleConfig {
  std::string id;  // unique, [A-Za-z0-9._-]
  RuleKind kind = RuleKind::kWaterLevel;
  std::string name;
  std::vector<std::string> stations;  // water_level, rate_of_rise, rainfall: one subject each
  std::vector<std::string> targets;   // forecast_depth: forecast point/zone ids, one subject each
  std::string area;                   // overrides the station's area; required for forecasts
  Duration min_time_above{};          // condition held this long before raising / upgrading
  Duration min_dwell{};               // below the falling threshold this long before down/clear
  std::optional<Duration> escalation_after;  // default from [engine]
  std::vector<LevelThreshold> levels;        // water_level, rate_of_rise, forecast_depth
  std::vector<RainClass> rain_classes;       // rainfall (DWD default)
  // rainfall: per = "area" makes one subject (the rule's area) from all its
  // stations: the worst known station sets the level; unknown only when no
  // station raises and at least one is unknown.
  bool per_area = false;
  Duration window{};     // rate_of_rise: rise per window
  Duration lead_time{};  // forecast_depth
  Duration max_age{};    // forecast_depth: older forecast = unknown
  std::string instruction_de, instruction_en;
};

struct RulesConfig {
  std::vector<Area> areas;
  std::string source;  // file name (for messages)
  // The station registry the [[stations]] entries come from (resolved path);
  // empty when they are defined in the rules file itself.
  std::string stations_file;
  EngineSettings engine;
  std::vector<StationEntry> stations;
  std::vector<RuleConfig> rules;

  const Area* FindArea(const std::string& id) const;
  const StationEntry* FindStation(const std::string& id) const;
  const RuleConfig* FindRule(const std::string& id) const;
};

// Reads and validates a rules file; the station registry it names
// (stations_file, relative to the rules file) is loaded with it. Throws
// RulesConfigError (and ingest::StationConfigError for a broken registry).
RulesConfig LoadRulesConfig(const std::string& path);
// Same from text; `name` is used in messages (and its folder resolves
// stations_file).
RulesConfig ParseRulesConfig(const std::string& text, const std::string& name);
// With the station registry the caller already has (`floodwarn serve`: the
// one of [ingest]; `registry_file` is its path): the [[stations]] entries
// that refer to a station by id come from it (inline ones stay as they are),
// and a stations_file in the rules file must name the same file.
RulesConfig LoadRulesConfig(const std::string& path, const ingest::StationRegistry& registry,
                            const std::string& registry_file);
RulesConfig ParseRulesConfig(const std::string& text, const std::string& name,
                             const ingest::StationRegistry& registry,
                             const std::string& registry_file);

// Durations in the one grammar of every config file ("90s", "15m", "15min",
// "1h30m", "2d", "250ms"; docs/DURATIONS.md) and their shortest spelling.
using common::FormatDuration;
using common::ParseDuration;

// --- pure evaluation ----------------------------------------------------------

// Level a threshold rule asks for now, given the level it is at: the highest
// level whose rising threshold the value meets, or the highest level <= current
// whose falling threshold the value still meets (hysteresis), whichever is higher.
Level EvaluateLevel(const std::vector<LevelThreshold>& levels, Level current, double value);
// Whether `value` meets the rising threshold of `t`.
bool MeetsRising(const LevelThreshold& t, double value);

// A sample of a station's series (value in the station's unit).
struct Sample {
  TimePoint observed{};
  double value = 0.0;
};

// Sum of rain depths over (end - window, end]. Each sample is the depth over
// the `interval` ending at its time; nullopt when the window is not fully
// covered (a gap, or no data back to the window start): unknown, never "low".
std::optional<double> RainSum(const std::vector<Sample>& samples, TimePoint end, Duration window,
                              Duration interval);

struct RainEvaluation {
  Condition condition = Condition::kClear;
  Level level = 0;
  double value = 0.0;      // the sum that set the level
  double threshold = 0.0;  // its class threshold
  Duration window{};
  std::string reason;
};
// Highest class met by any window that is known. If no window is met and at
// least one window is unknown, the result is kUnknown. `current` holds the
// level while the sum stays >= the class threshold (no separate falling value).
RainEvaluation EvaluateRain(const std::vector<RainClass>& classes,
                            const std::vector<Sample>& samples, TimePoint end, Duration interval);

// Rise of the series over (end - window, end]: latest value minus the value
// at end - window (linearly interpolated between the two samples around it).
// nullopt when there is no sample at or before end - window, or the samples
// around it are more than `max_gap` apart.
std::optional<double> RiseOver(const std::vector<Sample>& samples, TimePoint end, Duration window,
                               Duration max_gap);

// Converts `value` from `from` to `to` for lengths (mm, cm, m) or returns it
// unchanged when the units are equal; nullopt when not convertible.
std::optional<double> ConvertUnit(double value, const std::string& from, const std::string& to);

}  // namespace floodwarn::alerting
