// Checks of what the CAP 1.2 XSD cannot check: the profile, an area before
// use, and a whole message (closed polygons, identifiers, the references
// format, numeric time offsets; docs/alerting/CAP.md).
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cap_area.hpp"
#include "cap_text.hpp"
#include "cap_vocabulary.hpp"
#include "cap_xml.hpp"
#include "floodwarn/alerting/cap.hpp"

namespace floodwarn::alerting {
namespace {

using cap_internal::AllDigits;
using cap_internal::CapCircleOk;
using cap_internal::Child;
using cap_internal::Children;
using cap_internal::CountCodePoints;
using cap_internal::DocPtr;
using cap_internal::GeocodeName;
using cap_internal::IsCap;
using cap_internal::kCapNamespace;
using cap_internal::kMaxHeadlineChars;
using cap_internal::kMaxOffsetMinutes;
using cap_internal::ParseXml;
using cap_internal::SamePoint;
using cap_internal::Text;
using cap_internal::Trim;
using cap_internal::ValidLatLon;

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

}  // namespace floodwarn::alerting
