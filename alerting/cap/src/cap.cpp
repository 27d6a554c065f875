// CAP 1.2 (OASIS) XML for outgoing alerts: writer, the checks the XSD cannot
// do, and in-process XSD validation. Mapping tables and the identifier scheme
// are documented in docs/alerting/CAP.md.
#include "floodwarn/alerting/cap.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cap_texts.hpp"
#include "floodwarn/common/iso8601.hpp"

namespace floodwarn::alerting {
namespace {

constexpr const char* kCapNamespace = "urn:oasis:names:tc:emergency:cap:1.2";
constexpr std::size_t kMaxHeadlineChars = 160;
constexpr int kMaxOffsetMinutes = 14 * 60;  // UTC-12 .. UTC+14 exist; +-14 h is the range

// --- calendar: floodwarn::common (time.hpp) ------------------------------------

// Day number (days since 1970-01-01) of the last Sunday of `month` in `year`.
std::int64_t LastSunday(std::int64_t year, unsigned month) {
  const std::int64_t last = common::DaysFromCivil(year, month, common::DaysInMonth(year, month));
  return last - common::WeekdayFromDays(last);
}

bool InEuSummerTime(TimePoint t) {
  const std::int64_t secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  const std::int64_t y = common::ToCivil(t).date.year;
  const std::int64_t start = LastSunday(y, 3) * 86400 + 3600;
  const std::int64_t end = LastSunday(y, 10) * 86400 + 3600;
  return secs >= start && secs < end;
}

// --- text hygiene ------------------------------------------------------------

void AppendUtf8(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes UTF-8 into code points; an invalid byte becomes U+FFFD.
std::vector<std::uint32_t> DecodeUtf8(const std::string& s) {
  std::vector<std::uint32_t> cps;
  cps.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (b0 < 0x80) {
      cps.push_back(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      cps.push_back(0xFFFD);
      ++i;
      continue;
    }
    cps.push_back(cp);
    i += len;
  }
  return cps;
}

// XML 1.0 allows tab, LF, CR and most code points; C0/C1 controls, DEL and
// U+FFFE/U+FFFF are dropped (they would make the message ill-formed or carry
// nothing a person can read).
bool KeepCodePoint(std::uint32_t cp) {
  if (cp == 0x09 || cp == 0x0A || cp == 0x0D) return true;
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

// Clean text (valid UTF-8, no control characters), at most `max_chars` code
// points; a cut text ends with an ellipsis.
std::string CleanText(const std::string& s, std::size_t max_chars = 0) {
  std::vector<std::uint32_t> cps = DecodeUtf8(s);
  cps.erase(
      std::remove_if(cps.begin(), cps.end(), [](std::uint32_t c) { return !KeepCodePoint(c); }),
      cps.end());
  if (max_chars > 0 && cps.size() > max_chars) {
    cps.resize(max_chars - 1);
    while (!cps.empty() && (cps.back() == ' ' || cps.back() == '\n' || cps.back() == '\t'))
      cps.pop_back();
    cps.push_back(0x2026);  // …
  }
  std::string out;
  out.reserve(s.size());
  for (std::uint32_t cp : cps) AppendUtf8(cp, &out);
  return out;
}

std::size_t CountCodePoints(const std::string& s) { return DecodeUtf8(s).size(); }

// Headlines go to one-line displays and SMS-like channels: line breaks and
// tabs become single spaces, leading/trailing blanks are dropped.
std::string OneLine(const std::string& s) {
  std::string out;
  bool blank = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

std::string XmlEscape(const std::string& raw) {
  const std::string s = CleanText(raw);
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";  // a literal CR would be normalised away by the parser
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool IsCapSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Characters outside [A-Za-z0-9._-] become "_XX" (hex of the byte).
std::string CapSafe(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (IsCapSafeChar(c)) {
      out.push_back(c);
    } else {
      out += fmt::format("_{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Shortest text that reads back as the same double (so that a closed polygon
// stays closed byte for byte).
std::string Coord(double v) { return fmt::format("{}", v); }

bool ValidLatLon(const GeoPoint& p) {
  return std::isfinite(p.lat) && std::isfinite(p.lon) && p.lat >= -90.0 && p.lat <= 90.0 &&
         p.lon >= -180.0 && p.lon <= 180.0;
}

bool SamePoint(const GeoPoint& a, const GeoPoint& b) { return a.lat == b.lat && a.lon == b.lon; }

// The polygon as it goes into the message: closed if it was not; empty when
// it cannot become a valid CAP polygon (CheckCapArea says why).
std::vector<GeoPoint> CapPolygon(const std::vector<GeoPoint>& in) {
  std::vector<GeoPoint> p = in;
  if (p.empty()) return p;
  for (const GeoPoint& g : p)
    if (!ValidLatLon(g)) return {};
  if (!SamePoint(p.front(), p.back())) p.push_back(p.front());
  if (p.size() < 4) return {};
  return p;
}

bool CapCircleOk(const Area& a) {
  return a.circle && ValidLatLon(a.circle->first) && std::isfinite(a.circle->second) &&
         a.circle->second > 0.0;
}

const char* GeocodeName(const std::string& key) {
  if (!AllDigits(key)) return nullptr;
  if (key.size() == 12) return "ARS";
  if (key.size() == 8) return "AGS";
  return nullptr;
}

// --- mapping tables (docs/alerting/CAP.md) ----------------------------------

bool IsForecast(RuleKind k) { return k == RuleKind::kForecastDepth; }

const char* Category(RuleKind k) { return k == RuleKind::kSensorOutage ? "Infra" : "Met"; }

std::vector<const char*> ResponseTypes(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return {"AllClear"};
  if (a.kind == RuleKind::kSensorOutage) return {"Monitor"};
  // Never Evacuate or Shelter: ordering people out is the competent
  // authority's decision, not a gauge threshold's.
  switch (a.level) {
    case 2:
      return {"Prepare"};
    case 3:
      return {"Prepare", "Avoid"};
    case 4:
      return {"Avoid", "Prepare"};
    default:
      return {"Monitor"};
  }
}

const char* Urgency(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Past";
  if (a.kind == RuleKind::kSensorOutage) return "Unknown";
  if (IsForecast(a.kind)) return "Expected";
  return "Immediate";
}

const char* Severity(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Minor";
  if (a.kind == RuleKind::kSensorOutage) return "Unknown";
  switch (a.level) {
    case 1:
      return "Minor";
    case 2:
      return "Moderate";
    case 3:
      return "Severe";
    case 4:
      return "Extreme";
    default:
      return "Unknown";
  }
}

const char* Certainty(CapMsgType type, const Alert& a) {
  if (type == CapMsgType::kCancel) return "Observed";
  switch (a.kind) {
    case RuleKind::kWaterLevel:
    case RuleKind::kRateOfRise:
    case RuleKind::kRainfall:
      return "Observed";
    case RuleKind::kForecastDepth:
    case RuleKind::kManual:
      return "Likely";
    case RuleKind::kSensorOutage:
      return "Unknown";
  }
  return "Unknown";
}

// --- writer ----------------------------------------------------------------

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
  const cap_texts::InfoTexts t = cap_texts::MakeTexts(lang, msg.msg_type, alert);
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
  const bool measured = alert.kind != RuleKind::kSensorOutage && alert.kind != RuleKind::kManual;
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

// --- libxml2 plumbing --------------------------------------------------------

#if LIBXML_VERSION >= 21200
using XmlErrorArg = const xmlError*;
#else
using XmlErrorArg = xmlError*;
#endif

void InitLibXml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

void CollectError(void* user, XmlErrorArg err) {
  auto* out = static_cast<std::vector<std::string>*>(user);
  if (err == nullptr) return;
  out->push_back(fmt::format("line {}: {}", err->line,
                             TrimRight(err->message ? err->message : "unknown error")));
}

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

// Parses without network access and without entity expansion; a parse
// error comes back in `error`.
DocPtr ParseXml(const std::string& xml, std::string* error) {
  InitLibXml();
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) {
    *error = "cannot allocate an XML parser";
    return nullptr;
  }
  xmlDocPtr doc =
      xmlCtxtReadMemory(ctxt, xml.data(), static_cast<int>(xml.size()), "cap.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
    *error = e ? fmt::format("not well-formed XML: line {}: {}", e->line,
                             TrimRight(e->message ? e->message : ""))
               : "not well-formed XML";
  }
  xmlFreeParserCtxt(ctxt);
  return DocPtr(doc);
}

bool IsCap(const xmlNode* n, const char* name) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
         xmlStrEqual(n->ns->href, BAD_CAST kCapNamespace) && xmlStrEqual(n->name, BAD_CAST name);
}

std::vector<const xmlNode*> Children(const xmlNode* parent, const char* name) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (IsCap(c, name)) out.push_back(c);
  return out;
}

const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (IsCap(c, name)) return c;
  return nullptr;
}

std::string Text(const xmlNode* n) {
  if (n == nullptr) return {};
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return s;
}

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitWs(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

bool ParseDouble(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*v);
}

// Problems of a CAP identifier-like value (identifier, sender): empty or
// containing whitespace, ',', '<' or '&'.
std::string IdProblem(const std::string& v) {
  if (v.empty()) return "is empty";
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      return fmt::format("'{}' contains whitespace (CAP forbids spaces, commas, '<' and '&')", v);
    if (c == ',' || c == '<' || c == '&')
      return fmt::format("'{}' contains '{}' (CAP forbids spaces, commas, '<' and '&')", v, c);
  }
  return {};
}

std::string TimeProblem(const std::string& v) {
  if (ParseCapTime(v)) return {};
  if (!v.empty() && (v.back() == 'Z' || v.back() == 'z'))
    return fmt::format("'{}' uses 'Z'; CAP requires a numeric offset such as +00:00", v);
  return fmt::format("'{}' is not a CAP time (YYYY-MM-DDThh:mm:ss+hh:mm, no fractional seconds)",
                     v);
}

struct PointParse {
  bool ok = false;
  GeoPoint p;
  std::string problem;
};

PointParse ParsePair(const std::string& pair) {
  PointParse r;
  const std::vector<std::string> parts = Split(pair, ',');
  if (parts.size() != 2 || !ParseDouble(parts[0], &r.p.lat) || !ParseDouble(parts[1], &r.p.lon)) {
    r.problem = fmt::format("'{}' is not a lat,lon pair", pair);
    return r;
  }
  if (!ValidLatLon(r.p)) {
    r.problem = fmt::format("'{}' is out of range (lat -90..90, lon -180..180)", pair);
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace

// === public API ================================================================

const char* ToString(CapMsgType t) {
  switch (t) {
    case CapMsgType::kAlert:
      return "Alert";
    case CapMsgType::kUpdate:
      return "Update";
    case CapMsgType::kCancel:
      return "Cancel";
  }
  return "Alert";
}

std::string FormatCapTime(TimePoint t, int utc_offset_minutes) {
  common::Iso8601Format f;
  f.fraction = common::Iso8601Format::Fraction::kNone;  // whole seconds, rounded down
  f.zone = common::Iso8601Format::Zone::kOffset;
  f.utc_offset_minutes = std::clamp(utc_offset_minutes, -kMaxOffsetMinutes, kMaxOffsetMinutes);
  return common::FormatIso8601(t, f);
}

std::optional<TimePoint> ParseCapTime(const std::string& raw) {
  return common::ParseIso8601(Trim(raw), common::Iso8601Options::Cap());
}

int CapUtcOffsetAt(const CapProfile& profile, TimePoint t) {
  return profile.utc_offset_minutes + (profile.eu_summer_time && InEuSummerTime(t) ? 60 : 0);
}

std::string FormatCapTime(const CapProfile& profile, TimePoint t) {
  return FormatCapTime(t, CapUtcOffsetAt(profile, t));
}

std::vector<std::string> CheckCapProfile(const CapProfile& profile) {
  std::vector<std::string> problems;
  if (auto p = IdProblem(profile.sender); !p.empty()) problems.push_back("cap sender " + p);
  const int max_off = profile.utc_offset_minutes + (profile.eu_summer_time ? 60 : 0);
  if (profile.utc_offset_minutes < -kMaxOffsetMinutes || max_off > kMaxOffsetMinutes)
    problems.push_back(
        fmt::format("cap utc_offset_minutes {} is outside -840..840 (-14:00..+14:00)",
                    profile.utc_offset_minutes));
  if (!profile.web.empty()) {
    const bool scheme =
        profile.web.rfind("https://", 0) == 0 || profile.web.rfind("http://", 0) == 0;
    const bool blank = profile.web.find_first_of(" \t\r\n<>\"") != std::string::npos;
    if (!scheme || blank)
      problems.push_back(
          fmt::format("cap web '{}' is not an http(s) URL without spaces", profile.web));
  }
  if (profile.default_validity <= Duration::zero())
    problems.push_back("cap default_validity must be > 0");
  return problems;
}

std::string FormatCapReferences(const std::vector<MessageRef>& refs, const CapProfile& profile) {
  std::string out;
  for (const MessageRef& r : refs) {
    if (!out.empty()) out += ' ';
    out += r.sender + "," + r.identifier + "," + FormatCapTime(profile, r.sent);
  }
  return out;
}

std::string FormatCapReferences(const std::vector<MessageRef>& refs, int utc_offset_minutes) {
  std::string out;
  for (const MessageRef& r : refs) {
    if (!out.empty()) out += ' ';
    out += r.sender + "," + r.identifier + "," + FormatCapTime(r.sent, utc_offset_minutes);
  }
  return out;
}

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

std::vector<std::string> CheckCapArea(const Area& area) {
  std::vector<std::string> problems;
  const std::string who = fmt::format("area '{}'", area.id);
  if (!area.polygon.empty()) {
    bool ranges_ok = true;
    for (std::size_t i = 0; i < area.polygon.size(); ++i) {
      if (!ValidLatLon(area.polygon[i])) {
        problems.push_back(
            fmt::format("{}: polygon point {} ({}, {}) is out of range (lat "
                        "-90..90, lon -180..180)",
                        who, i + 1, area.polygon[i].lat, area.polygon[i].lon));
        ranges_ok = false;
      }
    }
    if (ranges_ok && area.polygon.size() < 4)
      problems.push_back(fmt::format(
          "{}: polygon has {} points; CAP needs at least 4 with the first equal to the last", who,
          area.polygon.size()));
    else if (ranges_ok && !SamePoint(area.polygon.front(), area.polygon.back()))
      problems.push_back(fmt::format("{}: polygon is not closed (first point != last point)", who));
  }
  if (area.circle && !CapCircleOk(area))
    problems.push_back(
        fmt::format("{}: circle needs a centre in range and a radius > 0 km (got {}, {} radius {})",
                    who, area.circle->first.lat, area.circle->first.lon, area.circle->second));
  if (!area.ars.empty() && GeocodeName(area.ars) == nullptr)
    problems.push_back(
        fmt::format("{}: municipal key '{}' is neither an AGS (8 digits) nor an ARS (12 digits)",
                    who, area.ars));
  if (area.polygon.empty() && !area.circle)
    problems.push_back(fmt::format(
        "{}: no polygon or circle (a geocode alone needs domain knowledge to resolve)", who));
  return problems;
}

std::vector<std::string> CheckCapRules(const std::string& xml) {
  std::vector<std::string> problems;
  std::string perr;
  DocPtr doc = ParseXml(xml, &perr);
  if (!doc) return {perr};
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!IsCap(root, "alert"))
    return {fmt::format("root element is not <alert> in namespace {}", kCapNamespace)};
  auto at = [](const xmlNode* n, const std::string& what) {
    return fmt::format("line {}: {}", xmlGetLineNo(n), what);
  };

  const xmlNode* identifier = Child(root, "identifier");
  const xmlNode* sender = Child(root, "sender");
  const xmlNode* sent = Child(root, "sent");
  const std::string id_text = Text(identifier), sender_text = Text(sender);
  if (!identifier)
    problems.push_back("missing <identifier>");
  else if (auto p = IdProblem(id_text); !p.empty())
    problems.push_back(at(identifier, "identifier " + p));
  if (!sender)
    problems.push_back("missing <sender>");
  else if (auto p = IdProblem(sender_text); !p.empty())
    problems.push_back(at(sender, "sender " + p));
  std::optional<TimePoint> sent_time;
  if (!sent) {
    problems.push_back("missing <sent>");
  } else {
    sent_time = ParseCapTime(Text(sent));
    if (!sent_time) problems.push_back(at(sent, "sent " + TimeProblem(Trim(Text(sent)))));
  }
  const std::string status = Trim(Text(Child(root, "status")));
  const std::string msg_type = Trim(Text(Child(root, "msgType")));
  const std::string scope = Trim(Text(Child(root, "scope")));
  const xmlNode* note = Child(root, "note");
  if (status == "Exercise" && Trim(Text(note)).empty())
    problems.push_back("status Exercise without a <note> naming the exercise");
  if (scope == "Restricted" && Trim(Text(Child(root, "restriction"))).empty())
    problems.push_back("scope Restricted without <restriction>");
  if (scope == "Private" && Trim(Text(Child(root, "addresses"))).empty())
    problems.push_back("scope Private without <addresses>");

  const xmlNode* refs = Child(root, "references");
  if ((msg_type == "Update" || msg_type == "Cancel") && (!refs || Trim(Text(refs)).empty()))
    problems.push_back(
        fmt::format("msgType {} without <references> to the earlier message(s)", msg_type));
  if (refs) {
    const std::vector<std::string> triples = SplitWs(Text(refs));
    for (const std::string& t : triples) {
      const std::vector<std::string> f = Split(t, ',');
      if (f.size() != 3 || f[0].empty() || f[1].empty()) {
        problems.push_back(at(refs, fmt::format("references entry '{}' is not a "
                                                "sender,identifier,sent triple",
                                                t)));
        continue;
      }
      if (!ParseCapTime(f[2]))
        problems.push_back(
            at(refs, fmt::format("references entry '{}': sent {}", t, TimeProblem(f[2]))));
      if (f[0] == sender_text && f[1] == id_text)
        problems.push_back(at(refs, fmt::format("references entry '{}' refers to this message "
                                                "itself",
                                                t)));
    }
  }

  int info_no = 0;
  for (const xmlNode* info : Children(root, "info")) {
    ++info_no;
    const std::string lang = Trim(Text(Child(info, "language")));
    const std::string where =
        fmt::format("info[{}]{}", info_no, lang.empty() ? "" : " (" + lang + ")");
    std::optional<TimePoint> expires_time;
    for (const char* name : {"effective", "onset", "expires"}) {
      const xmlNode* n = Child(info, name);
      if (!n) continue;
      const std::optional<TimePoint> tp = ParseCapTime(Text(n));
      if (!tp)
        problems.push_back(at(n, fmt::format("{} {} {}", where, name, TimeProblem(Trim(Text(n))))));
      if (std::string(name) == "expires") expires_time = tp;
    }
    if (expires_time && sent_time && *expires_time <= *sent_time)
      problems.push_back(at(Child(info, "expires"),
                            fmt::format("{} expires is not after sent (the message would arrive "
                                        "already expired)",
                                        where)));
    if (const xmlNode* h = Child(info, "headline")) {
      const std::size_t n = CountCodePoints(Text(h));
      if (n > kMaxHeadlineChars)
        problems.push_back(at(h, fmt::format("{} headline has {} characters (limit {})", where, n,
                                             kMaxHeadlineChars)));
    }
    int area_no = 0;
    for (const xmlNode* area : Children(info, "area")) {
      ++area_no;
      const std::string aw = fmt::format("{} area[{}]", where, area_no);
      const auto polygons = Children(area, "polygon");
      const auto circles = Children(area, "circle");
      for (const xmlNode* pn : polygons) {
        const std::vector<std::string> pairs = SplitWs(Text(pn));
        std::vector<GeoPoint> pts;
        bool parse_ok = true;
        for (const std::string& pair : pairs) {
          PointParse pp = ParsePair(pair);
          if (!pp.ok) {
            problems.push_back(at(pn, fmt::format("{} polygon: {}", aw, pp.problem)));
            parse_ok = false;
            break;
          }
          pts.push_back(pp.p);
        }
        if (!parse_ok) continue;
        if (pts.size() < 4)
          problems.push_back(at(pn, fmt::format("{} polygon has {} points; CAP needs at least 4 "
                                                "(first = last)",
                                                aw, pts.size())));
        else if (!SamePoint(pts.front(), pts.back()))
          problems.push_back(at(pn, fmt::format("{} polygon is not closed: first pair '{}' != "
                                                "last pair '{}'",
                                                aw, pairs.front(), pairs.back())));
      }
      for (const xmlNode* cn : circles) {
        const std::vector<std::string> parts = SplitWs(Text(cn));
        if (parts.size() != 2) {
          problems.push_back(
              at(cn, fmt::format("{} circle '{}' is not 'lat,lon radius'", aw, Trim(Text(cn)))));
          continue;
        }
        PointParse pp = ParsePair(parts[0]);
        double r = 0.0;
        if (!pp.ok) problems.push_back(at(cn, fmt::format("{} circle: {}", aw, pp.problem)));
        if (!ParseDouble(parts[1], &r) || !(r > 0.0))
          problems.push_back(
              at(cn, fmt::format("{} circle radius '{}' is not a number > 0 (km)", aw, parts[1])));
      }
      for (const xmlNode* g : Children(area, "geocode")) {
        const std::string name = Trim(Text(Child(g, "valueName")));
        const std::string value = Trim(Text(Child(g, "value")));
        if (name == "ARS" && !(value.size() == 12 && AllDigits(value)))
          problems.push_back(at(g, fmt::format("{} geocode ARS '{}' is not 12 digits", aw, value)));
        if (name == "AGS" && !(value.size() == 8 && AllDigits(value)))
          problems.push_back(at(g, fmt::format("{} geocode AGS '{}' is not 8 digits", aw, value)));
      }
      // A Cancel refers to messages that carried the geometry already.
      if (polygons.empty() && circles.empty() && msg_type != "Cancel")
        problems.push_back(at(area, fmt::format("{} has no polygon or circle (a geocode alone "
                                                "needs domain knowledge to resolve)",
                                                aw)));
    }
  }
  return problems;
}

struct CapSchemaValidator::Impl {
  xmlSchemaPtr schema = nullptr;
  std::string error;
  ~Impl() {
    if (schema) xmlSchemaFree(schema);
  }
};

CapSchemaValidator::CapSchemaValidator(const std::string& xsd_path) : impl_(new Impl) {
  InitLibXml();
  if (!std::ifstream(xsd_path).good()) {
    impl_->error = fmt::format("cannot read the CAP schema {}: {}", xsd_path, std::strerror(errno));
    return;
  }
  xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path.c_str());
  if (pc == nullptr) {
    impl_->error = fmt::format("cannot read the CAP schema {}", xsd_path);
    return;
  }
  std::vector<std::string> errs;
  xmlSchemaSetParserStructuredErrors(pc, CollectError, &errs);
  impl_->schema = xmlSchemaParse(pc);
  xmlSchemaFreeParserCtxt(pc);
  if (impl_->schema == nullptr) {
    impl_->error = fmt::format("cannot load the CAP schema {}: {}", xsd_path,
                               errs.empty() ? "unknown error" : errs.front());
  }
}

CapSchemaValidator::~CapSchemaValidator() = default;

const std::string& CapSchemaValidator::error() const { return impl_->error; }

std::vector<std::string> CapSchemaValidator::Validate(const std::string& xml) const {
  if (impl_->schema == nullptr) return {impl_->error};
  std::string perr;
  DocPtr doc = ParseXml(xml, &perr);
  if (!doc) return {perr};
  xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(impl_->schema);
  if (vc == nullptr) return {"cannot allocate a schema validation context"};
  std::vector<std::string> errs;
  xmlSchemaSetValidStructuredErrors(vc, CollectError, &errs);
  const int rc = xmlSchemaValidateDoc(vc, doc.get());
  xmlSchemaFreeValidCtxt(vc);
  if (rc != 0 && errs.empty())
    errs.push_back(rc > 0 ? "does not validate against the CAP schema"
                          : "internal error while validating against the CAP schema");
  return errs;
}

std::vector<std::string> ValidateCapSchema(const std::string& xml, const std::string& xsd_path) {
  CapSchemaValidator v(xsd_path);
  return v.Validate(xml);
}

}  // namespace floodwarn::alerting
