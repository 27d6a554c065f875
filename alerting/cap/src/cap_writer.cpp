// The CAP 1.2 writer: one <alert> with an <info> in de-DE and one in en-GB
// (docs/alerting/CAP.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cap_area.hpp"
#include "cap_text.hpp"
#include "cap_texts.hpp"
#include "cap_vocabulary.hpp"
#include "floodwarn/alerting/cap.hpp"

namespace floodwarn::alerting {
namespace {

using cap_internal::CapCircleOk;
using cap_internal::CapPolygon;
using cap_internal::CapSafe;
using cap_internal::Category;
using cap_internal::Certainty;
using cap_internal::CleanText;
using cap_internal::Coord;
using cap_internal::GeocodeName;
using cap_internal::kCapNamespace;
using cap_internal::kMaxHeadlineChars;
using cap_internal::OneLine;
using cap_internal::ResponseTypes;
using cap_internal::Severity;
using cap_internal::Urgency;
using cap_internal::XmlEscape;

class XmlWriter {
 public:
  void Raw(const std::string& s) { out_ += s; }
  void Open(int depth, const char* name) {
    Indent(depth);
    out_ += fmt::format("<{}>\n", name);
  }
  void Close(int depth, const char* name) {
    Indent(depth);
    out_ += fmt::format("</{}>\n", name);
  }
  void Elem(int depth, const char* name, const std::string& text) {
    Indent(depth);
    out_ += fmt::format("<{0}>{1}</{0}>\n", name, XmlEscape(text));
  }
  void NameValue(int depth, const char* name, const std::string& value_name,
                 const std::string& value) {
    Open(depth, name);
    Elem(depth + 1, "valueName", value_name);
    Elem(depth + 1, "value", value);
    Close(depth, name);
  }
  std::string Take() { return std::move(out_); }

 private:
  void Indent(int depth) { out_.append(static_cast<std::size_t>(depth) * 2, ' '); }
  std::string out_;
};

std::string MachineNumber(double v) { return fmt::format("{}", v); }

TimePoint Expires(const CapProfile& profile, const CapMessage& msg, const Alert& alert) {
  TimePoint e = msg.sent + profile.default_validity;
  if (alert.expires.time_since_epoch().count() != 0 && alert.expires > e) e = alert.expires;
  return e;
}

void WriteInfo(XmlWriter& w, cap_texts::Lang lang, const CapProfile& profile, const CapMessage& msg,
               const Alert& alert) {
  const bool de = lang == cap_texts::Lang::kDe;
  cap_texts::TextTimes times;
  times.sent = msg.sent;
  if (alert.kind == RuleKind::kForecastDepth && alert.onset != TimePoint{})
    times.onset_local = FormatCapTime(profile, alert.onset).substr(11, 5);  // hh:mm
  const cap_texts::InfoTexts t = cap_texts::MakeTexts(lang, msg.msg_type, alert, times);
  w.Open(1, "info");
  w.Elem(2, "language", de ? "de-DE" : "en-GB");
  w.Elem(2, "category", Category(alert.kind));
  w.Elem(2, "event", t.event);
  for (const char* r : ResponseTypes(msg.msg_type, alert)) w.Elem(2, "responseType", r);
  w.Elem(2, "urgency", Urgency(msg.msg_type, alert));
  w.Elem(2, "severity", Severity(msg.msg_type, alert));
  w.Elem(2, "certainty", Certainty(msg.msg_type, alert));
  if (!alert.rule_id.empty()) w.NameValue(2, "eventCode", "floodwarn:rule", alert.rule_id);
  w.NameValue(2, "eventCode", "floodwarn:kind", ToString(alert.kind));
  // onset: when the observed condition began, or for a forecast when the
  // forecast expects the threshold to be reached (none if unknown, rather
  // than a wrong one).
  if (msg.msg_type != CapMsgType::kCancel) {
    const TimePoint onset = OnsetOf(alert);
    if (onset != TimePoint{}) w.Elem(2, "onset", FormatCapTime(profile, onset));
  }
  w.Elem(2, "expires", FormatCapTime(profile, Expires(profile, msg, alert)));
  const std::string& sender_name = de ? profile.sender_name_de : profile.sender_name_en;
  if (!sender_name.empty()) w.Elem(2, "senderName", sender_name);
  w.Elem(2, "headline", CleanText(OneLine(t.headline), kMaxHeadlineChars));
  if (!t.description.empty()) w.Elem(2, "description", t.description);
  if (!t.instruction.empty()) w.Elem(2, "instruction", t.instruction);
  if (!profile.web.empty()) w.Elem(2, "web", profile.web);
  if (!profile.contact.empty()) w.Elem(2, "contact", profile.contact);
  w.NameValue(2, "parameter", "level", std::to_string(alert.level));
  if (!alert.station_id.empty()) w.NameValue(2, "parameter", "station", alert.station_id);
  if (!alert.subject.empty()) w.NameValue(2, "parameter", "subject", alert.subject);
  const bool measured = alert.kind != RuleKind::kSensorOutage && alert.kind != RuleKind::kManual &&
                        alert.kind != RuleKind::kForecastOutage;
  if (measured && std::isfinite(alert.value)) {
    w.NameValue(2, "parameter", "value", MachineNumber(alert.value));
    if (std::isfinite(alert.threshold))
      w.NameValue(2, "parameter", "threshold", MachineNumber(alert.threshold));
    if (!alert.unit.empty()) w.NameValue(2, "parameter", "unit", alert.unit);
  }
  if (!alert.reason.empty()) w.NameValue(2, "parameter", "reason", alert.reason);
  w.NameValue(2, "parameter", "alert", alert.id);

  const Area& area = alert.area;
  w.Open(2, "area");
  std::string desc = area.name;
  if (desc.empty()) desc = cap_texts::SubjectName(alert);
  w.Elem(3, "areaDesc", desc);
  const std::vector<GeoPoint> poly = CapPolygon(area.polygon);
  if (!poly.empty()) {
    std::string s;
    for (const GeoPoint& p : poly) {
      if (!s.empty()) s += ' ';
      s += Coord(p.lat) + "," + Coord(p.lon);
    }
    w.Elem(3, "polygon", s);
  }
  if (CapCircleOk(area)) {
    w.Elem(3, "circle",
           Coord(area.circle->first.lat) + "," + Coord(area.circle->first.lon) + " " +
               Coord(area.circle->second));
  }
  if (const char* name = GeocodeName(area.ars)) w.NameValue(3, "geocode", name, area.ars);
  if (!area.id.empty()) w.NameValue(3, "geocode", "floodwarn:area", area.id);
  w.Close(2, "area");
  w.Close(1, "info");
}

}  // namespace

std::string MakeCapIdentifier(const CapProfile& profile, const Alert& alert, std::size_t n) {
  // "<sender>.<alert id>.<n>" with '@' read as '.', every other character
  // outside [A-Za-z0-9._-] escaped as _XX: deterministic (a restart re-creates
  // the same identifier for the same message) and unique per (sender, alert, n)
  // because alert ids are unique.
  std::string sender = profile.sender;
  std::replace(sender.begin(), sender.end(), '@', '.');
  return CapSafe(sender) + "." + CapSafe(alert.id) + "." + std::to_string(n);
}

std::string ToCapXml(const CapProfile& profile, const CapMessage& msg, const Alert& alert) {
  XmlWriter w;
  w.Raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  w.Raw(fmt::format("<alert xmlns=\"{}\">\n", kCapNamespace));
  w.Elem(1, "identifier",
         msg.identifier.empty() ? MakeCapIdentifier(profile, alert, alert.messages.size())
                                : msg.identifier);
  w.Elem(1, "sender", profile.sender);
  w.Elem(1, "sent", FormatCapTime(profile, msg.sent));
  w.Elem(1, "status", ToString(alert.mode));
  w.Elem(1, "msgType", ToString(msg.msg_type));
  w.Elem(1, "scope", "Public");
  std::string note = msg.note;
  const std::string incident = alert.incident.empty() ? alert.id : alert.incident;
  if (alert.mode == Mode::kExercise) {
    note = "ÜBUNG / EXERCISE: " + (note.empty() ? "incident " + incident : note);
  } else if (alert.mode == Mode::kTest) {
    note = "TEST - bitte ignorieren / please disregard" + (note.empty() ? "" : ": " + note);
  }
  if (!note.empty()) w.Elem(1, "note", note);
  // References: every earlier message of this alert (msg.references, or the
  // alert's message chain when the caller left them empty).
  std::vector<MessageRef> refs = msg.references;
  if (refs.empty() && msg.msg_type != CapMsgType::kAlert) {
    for (const MessageRef& r : alert.messages)
      if (r.identifier != msg.identifier) refs.push_back(r);
  }
  if (!refs.empty()) w.Elem(1, "references", FormatCapReferences(refs, profile));
  if (!incident.empty()) {
    const bool has_space = incident.find_first_of(" \t\r\n") != std::string::npos;
    w.Elem(1, "incidents", has_space ? "\"" + incident + "\"" : incident);
  }
  WriteInfo(w, cap_texts::Lang::kDe, profile, msg, alert);
  WriteInfo(w, cap_texts::Lang::kEn, profile, msg, alert);
  w.Raw("</alert>\n");
  return w.Take();
}

}  // namespace floodwarn::alerting
