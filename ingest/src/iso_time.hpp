// ISO 8601 timestamps as the live sources send them (internal to ingest/).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest::detail {

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM)". A time without an
// offset is rejected: a local time is ambiguous twice a year. On failure
// returns nullopt and, if `error` is set, what was expected.
std::optional<TimePoint> ParseIso8601(std::string_view text, std::string* error = nullptr);

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (".mmm" only when the milliseconds are not 0).
std::string FormatIso8601(TimePoint t);

}  // namespace floodwarn::ingest::detail
