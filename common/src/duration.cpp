#include "floodwarn/common/duration.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace floodwarn::common {

const char* const kDurationExamples = "\"90s\", \"15m\" (or \"15min\"), \"1h30m\", \"2d\"";

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::chrono::milliseconds> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.empty()) return fail(fmt::format("empty (expected e.g. {})", kDurationExamples));
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 2;
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && digit(text[j])) ++j;
    if (j == i)
      return fail(fmt::format("expected a whole number before '{}' (e.g. {})", text.substr(i),
                              kDurationExamples));
    if (j - i > 9) return fail("a number with more than 9 digits");
    const std::string_view number = text.substr(i, j - i);
    std::int64_t n = 0;
    for (char c : number) n = n * 10 + (c - '0');
    std::size_t k = j;  // the unit: the letters up to the next number
    while (k < text.size() && !digit(text[k])) ++k;
    const std::string_view unit = text.substr(j, k - j);
    std::int64_t unit_ms = 0;
    if (unit.empty()) {
      return fail(
          fmt::format("a number needs a unit: \"{0}s\", \"{0}m\", \"{0}h\" or \"{0}d\"", number));
    } else if (unit == "ms") {
      unit_ms = 1;
    } else if (unit == "s") {
      unit_ms = 1000;
    } else if (unit == "m" || unit == "min") {
      unit_ms = 60'000;
    } else if (unit == "h") {
      unit_ms = 3'600'000;
    } else if (unit == "d") {
      unit_ms = 86'400'000;
    } else {
      return fail(fmt::format("unknown unit '{}' (expected ms, s, m or min, h, d)", unit));
    }
    if (n > (kMax - total_ms) / unit_ms) return fail("too long");
    total_ms += n * unit_ms;
    i = k;
  }
  return std::chrono::milliseconds(total_ms);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::int64_t days = ms / 86'400'000;
  ms %= 86'400'000;
  const std::int64_t h = ms / 3'600'000;
  ms %= 3'600'000;
  const std::int64_t m = ms / 60'000;
  ms %= 60'000;
  const std::int64_t s = ms / 1000;
  ms %= 1000;
  if (days) out += fmt::format("{}d", days);
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s) out += fmt::format("{}s", s);
  if (ms) out += fmt::format("{}ms", ms);
  return out;
}

}  // namespace floodwarn::common
