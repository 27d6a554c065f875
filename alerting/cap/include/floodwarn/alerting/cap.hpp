// CAP 1.2 (OASIS) XML for every outgoing alert message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

enum class CapMsgType : std::uint8_t { kAlert, kUpdate, kCancel };

// Who sends, and the fixed parts of every message (from the service config).
struct CapProfile {
  std::string sender = "floodwarn@example.invalid";  // no spaces, commas, '<' or '&'
  std::string sender_name_de = "floodwarn Hochwasserwarnung";
  std::string sender_name_en = "floodwarn flood warning";
  std::string web;             // optional <web>
  std::string contact;         // optional <contact>
  int utc_offset_minutes = 0;  // offset used in <sent>/<onset>/<expires>, e.g. +60
  // Adds 60 minutes while EU summer time is in force (last Sunday of March
  // 01:00 UTC to last Sunday of October 01:00 UTC): utc_offset_minutes = 60
  // with this gives German local time (+01:00 / +02:00). The offset is a
  // function of the instant, so references reproduce each <sent> exactly.
  bool eu_summer_time = false;
  Duration default_validity = std::chrono::hours(6);  // expires = sent + this
};

// One outgoing message about `alert`.
struct CapMessage {
  std::string identifier;  // unique, CAP-safe
  TimePoint sent{};
  CapMsgType msg_type = CapMsgType::kAlert;
  std::vector<MessageRef> references;  // required for Update/Cancel
  std::string note;                    // Exercise: the exercise id goes here
};

// Builds the CAP 1.2 XML (namespace urn:oasis:names:tc:emergency:cap:1.2)
// with one <info> in de-DE and one in en-GB.
std::string ToCapXml(const CapProfile& profile, const CapMessage& msg, const Alert& alert);

// New CAP-safe identifier: "<sender-domain-ish>.<alert id>.<n>".
std::string MakeCapIdentifier(const CapProfile& profile, const Alert& alert, std::size_t n);

// Checks what the XSD cannot: closed polygons with >= 4 points, identifier and
// sender characters, the references format (sender,identifier,sent triples),
// numeric time offsets. Returns human-readable problems, empty when fine.
std::vector<std::string> CheckCapRules(const std::string& xml);

// Formats a time as CAP wants it: 2026-11-22T10:15:00+01:00 (never 'Z').
std::string FormatCapTime(TimePoint t, int utc_offset_minutes);

// --- additions (cap helper) ------------------------------------------------
// docs/alerting/CAP.md documents the mapping tables and the identifier scheme.

// The UTC offset (minutes) the profile uses for instant `t`.
int CapUtcOffsetAt(const CapProfile& profile, TimePoint t);
// FormatCapTime(t, CapUtcOffsetAt(profile, t)).
std::string FormatCapTime(const CapProfile& profile, TimePoint t);

// Problems of a profile (service config check): sender characters, web URL,
// offset range. Empty when fine.
std::vector<std::string> CheckCapProfile(const CapProfile& profile);

const char* ToString(CapMsgType t);  // "Alert", "Update", "Cancel"

// Parses a CAP time ("2026-11-22T10:15:00+01:00"; numeric offset required,
// no fractional seconds, field ranges checked). nullopt when it is not one.
std::optional<TimePoint> ParseCapTime(const std::string& text);

// The CAP <references> value for `refs`: space-separated sender,identifier,sent
// triples, each sent formatted with `utc_offset_minutes` exactly as the
// referenced message's <sent> was (keep the profile's offset fixed).
std::string FormatCapReferences(const std::vector<MessageRef>& refs, int utc_offset_minutes);
std::string FormatCapReferences(const std::vector<MessageRef>& refs, const CapProfile& profile);

// Checks an Area before it is used (config loading): polygon >= 4 points,
// closed, lat/lon in range; circle radius > 0; key 8 (AGS) or 12 (ARS)
// digits; some geometry present. Problems name the area id; empty = fine.
std::vector<std::string> CheckCapArea(const Area& area);

// XSD validation in-process (libxml2), so that the service can refuse to send
// a message that would not validate. Load once, validate from any thread.
class CapSchemaValidator {
 public:
  // Parses the XSD (e.g. ../shared/reference/CAP-v1.2.xsd). On failure
  // error() is non-empty and Validate() reports that error.
  explicit CapSchemaValidator(const std::string& xsd_path);
  ~CapSchemaValidator();
  CapSchemaValidator(const CapSchemaValidator&) = delete;
  CapSchemaValidator& operator=(const CapSchemaValidator&) = delete;

  const std::string& error() const;
  // Schema problems with line numbers; empty when the document validates.
  std::vector<std::string> Validate(const std::string& xml) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot form of CapSchemaValidator (parses the XSD on every call).
std::vector<std::string> ValidateCapSchema(const std::string& xml, const std::string& xsd_path);

}  // namespace floodwarn::alerting
