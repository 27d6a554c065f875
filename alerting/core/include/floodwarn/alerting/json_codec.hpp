// JSON encoding of the alerting domain types (types.hpp): the one encoder of
// an Alert (and of an event and an area), used by the store's outbox rows,
// the channels' documents (webhook bodies, the cell broadcast area) and
// debugging dumps. It has two documented forms (JsonForm):
//
// JsonForm::kStore, the store's rows (docs/alerting/STORE.md), an exact round
// trip:
//  - times are integers, milliseconds since the Unix epoch (UTC);
//  - enums are their ToString() names ("water_level", "active", "Actual", ...);
//  - doubles are written with round-trip precision; NaN and +/-infinity, which
//    JSON numbers cannot hold, are written as the strings "NaN", "Infinity"
//    and "-Infinity";
//  - optionals (Alert::ack, Area::circle) are null when absent.
// FromJson(ToJson(x)) == x for every value (exact round trip).
//
// JsonForm::kChannel, the documents channels send (docs/alerting/CHANNELS.md,
// webhook `format = "json"`), written for receivers rather than for reading
// back: times are ISO 8601 UTC strings with milliseconds
// ("2026-11-22T08:10:00.000Z", "" when unset; ChannelTime); doubles are JSON
// numbers (null when NaN or infinite); an area's polygon is [[lat, lon], ...]
// and its circle {lat, lon, radius_km} (absent without one); an alert carries
// `ack` only when acknowledged and `onset` only when known, as the CAP
// message's onset (OnsetOf), and leaves out the CAP message chain; an event
// carries `cap_xml` only when it has one. There is no decoder for it.
//
// Decoding (the store form) is lenient about keys (a missing key keeps the default, unknown
// keys are ignored, so rows written by a newer or older version still load)
// but strict about values: a key of the wrong type or an unknown enum name
// throws std::invalid_argument naming the key path, e.g.
// "alert.area.polygon[2].lat: expected a number, got string".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

// The two documented forms of the encoding (see above).
enum class JsonForm : std::uint8_t {
  kStore,    // outbox rows: exact round trip
  kChannel,  // channel documents (webhook JSON, cell broadcast area)
};

nlohmann::json ToJson(const Alert& alert, JsonForm form = JsonForm::kStore);
nlohmann::json ToJson(const AlertEvent& event, JsonForm form = JsonForm::kStore);
nlohmann::json ToJson(const Area& area, JsonForm form = JsonForm::kStore);
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

// A time in the channel form: ISO 8601 UTC with milliseconds, "" for the
// zero time ("never").
std::string ChannelTime(TimePoint t);

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
