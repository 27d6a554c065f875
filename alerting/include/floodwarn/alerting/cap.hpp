// CAP 1.2 (OASIS) XML for every outgoing alert message.
#pragma once

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

}  // namespace floodwarn::alerting
