// Shared by the CAP tests: alert fixtures and a small XPath reader over the
// produced XML (libxml2), so that tests assert on what a receiver would read.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/alerting/cap.hpp"

namespace floodwarn::alerting::captest {

// 2026-11-22T09:15:00Z (date -u -d 2026-11-22T09:15:00Z +%s = 1795338900).
inline TimePoint T0() { return TimePoint(std::chrono::seconds(1795338900)); }
inline TimePoint Minutes(int m) { return T0() + std::chrono::minutes(m); }

inline CapProfile Profile() {
  CapProfile p;
  p.sender = "hochwasser@talstadt.example.de";
  p.utc_offset_minutes = 60;
  p.default_validity = std::chrono::hours(6);
  return p;
}

inline Area FullArea() {
  Area a;
  a.id = "unterstadt";
  a.name = "Talstadt, Unterstadt";
  a.polygon = {{49.9, 6.42}, {49.9, 6.52}, {49.83, 6.52}, {49.83, 6.42}, {49.9, 6.42}};
  a.circle = std::make_pair(GeoPoint{49.867, 6.47}, 2.5);
  a.ars = "072320000000";  // 12 digits: ARS
  return a;
}

inline Alert MakeAlert(RuleKind kind, Level level, Mode mode = Mode::kActual) {
  Alert a;
  a.id = "fw.7c1e2a90";
  a.rule_id = "talstadt-stage";
  a.subject = "talstadt";
  a.kind = kind;
  a.level = level;
  a.mode = mode;
  a.state = AlertState::kActive;
  a.station_id = "talstadt";
  a.subject_name = "Pegel Talstadt";
  a.area = FullArea();
  a.value = 412;
  a.threshold = 390;
  a.unit = "cm";
  a.reason = "level 412 cm >= 390 cm (Meldestufe 3)";
  a.first_seen = Minutes(-10);
  a.activated = Minutes(-5);
  a.incident = "HW-2026-11-TALSTADT";
  switch (kind) {
    case RuleKind::kRainfall:
      a.subject = "talstadt-rain";
      a.subject_name = "Regenschreiber Talstadt";
      a.value = 32.5;
      a.threshold = 25;
      a.unit = "mm";
      break;
    case RuleKind::kRateOfRise:
      a.value = 35;
      a.threshold = 30;
      a.unit = "cm/h";
      break;
    case RuleKind::kForecastDepth:
      a.subject = "unterfuehrung-bahnhof";
      a.subject_name = "Unterführung Bahnhofstraße";
      a.station_id.clear();
      a.value = 0.45;
      a.threshold = 0.3;
      a.unit = "m";
      break;
    case RuleKind::kManual:
      a.rule_id = "manual";
      a.subject = "deich-nord";
      a.subject_name = "Deich Nord";
      a.station_id.clear();
      break;
    default:
      break;
  }
  return a;
}

inline CapMessage FirstMessage(const CapProfile& p, const Alert& a) {
  CapMessage m;
  m.identifier = MakeCapIdentifier(p, a, 0);
  m.sent = T0();
  m.msg_type = CapMsgType::kAlert;
  return m;
}

// Parsed CAP document with the namespace bound to prefix "c".
class CapDoc {
 public:
  explicit CapDoc(const std::string& xml) {
    doc_ = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "cap.xml", nullptr,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc_ == nullptr) throw std::runtime_error("CAP output is not well-formed XML:\n" + xml);
    ctx_ = xmlXPathNewContext(doc_);
    xmlXPathRegisterNs(ctx_, BAD_CAST "c", BAD_CAST "urn:oasis:names:tc:emergency:cap:1.2");
  }
  ~CapDoc() {
    xmlXPathFreeContext(ctx_);
    xmlFreeDoc(doc_);
  }
  CapDoc(const CapDoc&) = delete;
  CapDoc& operator=(const CapDoc&) = delete;

  // Text of every node matching `xpath` ("c:" prefixes), in document order.
  std::vector<std::string> All(const std::string& xpath) const {
    std::vector<std::string> out;
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST xpath.c_str(), ctx_);
    if (r == nullptr) throw std::runtime_error("bad xpath " + xpath);
    if (r->nodesetval) {
      for (int i = 0; i < r->nodesetval->nodeNr; ++i) {
        xmlChar* c = xmlNodeGetContent(r->nodesetval->nodeTab[i]);
        out.emplace_back(c ? reinterpret_cast<const char*>(c) : "");
        xmlFree(c);
      }
    }
    xmlXPathFreeObject(r);
    return out;
  }
  // Text of the single node matching `xpath`; "<missing>" / "<many>" otherwise.
  std::string One(const std::string& xpath) const {
    const auto v = All(xpath);
    if (v.empty()) return "<missing>";
    if (v.size() > 1) return "<many>";
    return v[0];
  }
  std::size_t Count(const std::string& xpath) const { return All(xpath).size(); }
  // Value of the parameter/eventCode/geocode named `name` under `parent_xpath`.
  std::string Param(const std::string& info_xpath, const std::string& element,
                    const std::string& name) const {
    return One(info_xpath + "/c:" + element + "[c:valueName='" + name + "']/c:value");
  }

 private:
  xmlDocPtr doc_ = nullptr;
  xmlXPathContextPtr ctx_ = nullptr;
};

inline const char* kDe = "/c:alert/c:info[c:language='de-DE']";
inline const char* kEn = "/c:alert/c:info[c:language='en-GB']";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Replaces exactly one occurrence of `from`; throws when it is not there
// exactly once (so a broken variant is really broken the intended way).
inline std::string ReplaceOnce(const std::string& s, const std::string& from,
                               const std::string& to) {
  const auto p = s.find(from);
  if (p == std::string::npos || s.find(from, p + 1) != std::string::npos)
    throw std::runtime_error("expected exactly one '" + from + "'");
  return s.substr(0, p) + to + s.substr(p + from.size());
}

}  // namespace floodwarn::alerting::captest
