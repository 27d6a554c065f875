// The one duration grammar of every floodwarn config file (docs/DURATIONS.md):
// a string of one or more <integer><unit> parts, units
//   ms (milliseconds), s (seconds), m or min (minutes), h (hours), d (days),
// e.g. "90s", "15m", "15min", "1h30m", "2d", "250ms". No sign, no spaces, no
// decimals; parts may come in any order and add up. A plain number is not a
// duration (the unit is never guessed); keys that take a number of seconds
// say so in their name (`connect_timeout_s`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace floodwarn::common {

// Examples for messages: "\"90s\", \"15m\" (or \"15min\"), \"1h30m\", \"2d\"".
extern const char* const kDurationExamples;

// The duration `text` spells, or nullopt when it is not in the grammar; then
// `error` (if given) says why, e.g. "a number needs a unit: \"15s\", \"15m\"...".
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                       std::string* error = nullptr);

// The shortest spelling in the grammar: "1h30m", "6h", "0s", "1d2h", "250ms"
// (negative durations with a leading '-', which ParseDuration refuses).
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace floodwarn::common
