// JSON encoding of the alerting domain types (types.hpp): the outbox rows of
// the store, webhook bodies and debugging dumps all use it.
//
// Encoding rules (docs/alerting/STORE.md):
//  - times are integers, milliseconds since the Unix epoch (UTC);
//  - enums are their ToString() names ("water_level", "active", "Actual", ...);
//  - doubles are written with round-trip precision; NaN and +/-infinity, which
//    JSON numbers cannot hold, are written as the strings "NaN", "Infinity"
//    and "-Infinity";
//  - optionals (Alert::ack, Area::circle) are null when absent.
// FromJson(ToJson(x)) == x for every value (exact round trip).
//
// Decoding is lenient about keys (a missing key keeps the default, unknown
// keys are ignored, so rows written by a newer or older version still load)
// but strict about values: a key of the wrong type or an unknown enum name
// throws std::invalid_argument naming the key path, e.g.
// "alert.area.polygon[2].lat: expected a number, got string".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

nlohmann::json ToJson(const Alert& alert);
nlohmann::json ToJson(const AlertEvent& event);
nlohmann::json ToJson(const Silence& silence);
nlohmann::json ToJson(const AuditEntry& entry);

// Throw std::invalid_argument naming the offending key (prefixed by `where`).
Alert AlertFromJson(const nlohmann::json& j, const std::string& where = "alert");
AlertEvent AlertEventFromJson(const nlohmann::json& j, const std::string& where = "event");
Silence SilenceFromJson(const nlohmann::json& j, const std::string& where = "silence");
AuditEntry AuditEntryFromJson(const nlohmann::json& j, const std::string& where = "audit");

// Overloads for generic code: FromJson(j, &out).
inline void FromJson(const nlohmann::json& j, Alert* out) { *out = AlertFromJson(j); }
inline void FromJson(const nlohmann::json& j, AlertEvent* out) { *out = AlertEventFromJson(j); }
inline void FromJson(const nlohmann::json& j, Silence* out) { *out = SilenceFromJson(j); }
inline void FromJson(const nlohmann::json& j, AuditEntry* out) { *out = AuditEntryFromJson(j); }

// Compact text form. Throws std::invalid_argument when a string field is not
// valid UTF-8 (JSON text must be UTF-8; nothing is silently replaced).
std::string Dump(const nlohmann::json& j);

// Parse text into a value; throws std::invalid_argument with the parser's
// position on malformed text.
nlohmann::json ParseJson(std::string_view text, const std::string& where = "json");

// Enum names back to values (the inverse of ToString in types.hpp); nullopt
// for an unknown name.
std::optional<RuleKind> ParseRuleKind(std::string_view s);
std::optional<AlertState> ParseAlertState(std::string_view s);
std::optional<Mode> ParseMode(std::string_view s);
std::optional<EventKind> ParseEventKind(std::string_view s);

}  // namespace floodwarn::alerting
