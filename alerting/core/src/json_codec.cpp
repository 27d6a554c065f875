#include "floodwarn/alerting/json_codec.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "floodwarn/common/iso8601.hpp"

namespace floodwarn::alerting {
namespace {

using nlohmann::json;

const char* TypeName(const json& j) { return j.type_name(); }

[[noreturn]] void Bad(const std::string& where, const std::string& expected, const json& got) {
  throw std::invalid_argument(where + ": expected " + expected + ", got " + TypeName(got));
}

json Double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

json Time(TimePoint t) { return static_cast<std::int64_t>(t.time_since_epoch().count()); }

// --- readers: a missing key keeps the default; a wrong type throws ---------

const json* Find(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void RequireObject(const json& j, const std::string& where) {
  if (!j.is_object()) Bad(where, "an object", j);
}

void Read(const json& obj, const char* key, const std::string& where, std::string* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_string()) Bad(where + "." + key, "a string", *v);
  *out = v->get<std::string>();
}

void Read(const json& obj, const char* key, const std::string& where, bool* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_boolean()) Bad(where + "." + key, "a boolean", *v);
  *out = v->get<bool>();
}

double ToDouble(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  Bad(where, "a number (or \"NaN\", \"Infinity\", \"-Infinity\")", v);
}

void Read(const json& obj, const char* key, const std::string& where, double* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  *out = ToDouble(*v, where + "." + key);
}

void Read(const json& obj, const char* key, const std::string& where, int* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_number_integer()) Bad(where + "." + key, "an integer", *v);
  auto x = v->get<std::int64_t>();
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
    throw std::invalid_argument(where + "." + key + ": integer out of range");
  *out = static_cast<int>(x);
}

void Read(const json& obj, const char* key, const std::string& where, std::uint64_t* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0))
    Bad(where + "." + key, "a non-negative integer", *v);
  *out = v->get<std::uint64_t>();
}

void Read(const json& obj, const char* key, const std::string& where, TimePoint* out) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_number_integer()) Bad(where + "." + key, "an integer (ms since epoch)", *v);
  *out = TimePoint(Duration(v->get<std::int64_t>()));
}

template <typename E>
void ReadEnum(const json& obj, const char* key, const std::string& where, E* out,
              std::optional<E> (*parse)(std::string_view)) {
  const json* v = Find(obj, key);
  if (!v) return;
  if (!v->is_string()) Bad(where + "." + key, "a string", *v);
  auto e = parse(v->get_ref<const std::string&>());
  if (!e)
    throw std::invalid_argument(where + "." + key + ": unknown value \"" + v->get<std::string>() +
                                "\"");
  *out = *e;
}

template <typename E>
std::optional<E> ParseEnum(std::string_view s, std::initializer_list<E> all) {
  for (E e : all)
    if (s == ToString(e)) return e;
  return std::nullopt;
}

json ToJson(const GeoPoint& p) { return json{{"lat", Double(p.lat)}, {"lon", Double(p.lon)}}; }

GeoPoint GeoPointFromJson(const json& j, const std::string& where) {
  RequireObject(j, where);
  GeoPoint p;
  Read(j, "lat", where, &p.lat);
  Read(j, "lon", where, &p.lon);
  return p;
}

Area AreaFromJson(const json& j, const std::string& where) {
  RequireObject(j, where);
  Area a;
  Read(j, "id", where, &a.id);
  Read(j, "name", where, &a.name);
  if (const json* poly = Find(j, "polygon")) {
    if (!poly->is_array()) Bad(where + ".polygon", "an array", *poly);
    for (std::size_t i = 0; i < poly->size(); ++i)
      a.polygon.push_back(
          GeoPointFromJson((*poly)[i], where + ".polygon[" + std::to_string(i) + "]"));
  }
  if (const json* c = Find(j, "circle")) {
    std::string w = where + ".circle";
    RequireObject(*c, w);
    const json* center = Find(*c, "center");
    if (!center) throw std::invalid_argument(w + ".center: missing");
    double r = 0.0;
    Read(*c, "radius_km", w, &r);
    a.circle = std::make_pair(GeoPointFromJson(*center, w + ".center"), r);
  }
  Read(j, "ars", where, &a.ars);
  return a;
}

}  // namespace

std::optional<RuleKind> ParseRuleKind(std::string_view s) {
  return ParseEnum(s, {RuleKind::kWaterLevel, RuleKind::kRateOfRise, RuleKind::kRainfall,
                       RuleKind::kForecastDepth, RuleKind::kSensorOutage, RuleKind::kManual,
                       RuleKind::kForecastOutage});
}
std::optional<AlertState> ParseAlertState(std::string_view s) {
  return ParseEnum(s, {AlertState::kPending, AlertState::kActive, AlertState::kAcknowledged,
                       AlertState::kResolved});
}
std::optional<Mode> ParseMode(std::string_view s) {
  return ParseEnum(s, {Mode::kActual, Mode::kExercise, Mode::kTest});
}
std::optional<EventKind> ParseEventKind(std::string_view s) {
  return ParseEnum(s, {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved,
                       EventKind::kAcknowledged, EventKind::kEscalated, EventKind::kSuppressed,
                       EventKind::kUnsuppressed, EventKind::kSilenceChanged, EventKind::kPending});
}

nlohmann::json ToJson(const Area& a, JsonForm form) {
  if (form == JsonForm::kChannel) {
    json j = {{"id", a.id}, {"name", a.name}, {"ars", a.ars}};
    json poly = json::array();
    for (const auto& p : a.polygon) poly.push_back({p.lat, p.lon});
    j["polygon"] = std::move(poly);  // [[lat, lon], ...] WGS84, first == last
    if (a.circle) {
      j["circle"] = {{"lat", a.circle->first.lat},
                     {"lon", a.circle->first.lon},
                     {"radius_km", a.circle->second}};
    }
    return j;
  }
  json poly = json::array();
  for (const auto& p : a.polygon) poly.push_back(ToJson(p));
  json circle = nullptr;
  if (a.circle)
    circle = json{{"center", ToJson(a.circle->first)}, {"radius_km", Double(a.circle->second)}};
  return json{{"id", a.id},
              {"name", a.name},
              {"polygon", std::move(poly)},
              {"circle", circle},
              {"ars", a.ars}};
}

std::string ChannelTime(TimePoint t) {
  if (t.time_since_epoch().count() == 0) return "";
  common::Iso8601Format f;
  f.fraction = common::Iso8601Format::Fraction::kMillis;
  return common::FormatIso8601(t, f);
}

namespace {

// The channel form of an alert (docs/alerting/CHANNELS.md, webhook).
json ChannelAlert(const Alert& a) {
  json j = {{"id", a.id},
            {"rule_id", a.rule_id},
            {"subject", a.subject},
            {"kind", ToString(a.kind)},
            {"level", a.level},
            {"state", ToString(a.state)},
            {"mode", ToString(a.mode)},
            {"suppressed", a.suppressed},
            {"silenced", a.silenced},
            {"station_id", a.station_id},
            {"subject_name", a.subject_name},
            {"area", ToJson(a.area, JsonForm::kChannel)},
            {"value", a.value},
            {"threshold", a.threshold},
            {"unit", a.unit},
            {"reason", a.reason},
            {"headline_de", a.headline_de},
            {"headline_en", a.headline_en},
            {"description_de", a.description_de},
            {"description_en", a.description_en},
            {"instruction_de", a.instruction_de},
            {"instruction_en", a.instruction_en},
            {"first_seen", ChannelTime(a.first_seen)},
            {"activated", ChannelTime(a.activated)},
            {"last_change", ChannelTime(a.last_change)},
            {"expires", ChannelTime(a.expires)},
            {"escalated", a.escalated},
            {"incident", a.incident}};
  if (a.ack) j["ack"] = {{"by", a.ack->by}, {"note", a.ack->note}, {"at", ChannelTime(a.ack->at)}};
  // As the CAP message's onset: for a forecast, when the threshold is expected.
  if (const TimePoint onset = OnsetOf(a); onset != TimePoint{}) j["onset"] = ChannelTime(onset);
  return j;
}

}  // namespace

nlohmann::json ToJson(const Alert& a, JsonForm form) {
  if (form == JsonForm::kChannel) return ChannelAlert(a);
  json messages = json::array();
  for (const auto& m : a.messages)
    messages.push_back(
        json{{"sender", m.sender}, {"identifier", m.identifier}, {"sent", Time(m.sent)}});
  json ack = nullptr;
  if (a.ack) ack = json{{"by", a.ack->by}, {"note", a.ack->note}, {"at", Time(a.ack->at)}};
  return json{{"id", a.id},
              {"rule_id", a.rule_id},
              {"subject", a.subject},
              {"kind", ToString(a.kind)},
              {"level", a.level},
              {"state", ToString(a.state)},
              {"mode", ToString(a.mode)},
              {"suppressed", a.suppressed},
              {"silenced", a.silenced},
              {"station_id", a.station_id},
              {"subject_name", a.subject_name},
              {"area", ToJson(a.area)},
              {"value", Double(a.value)},
              {"threshold", Double(a.threshold)},
              {"unit", a.unit},
              {"reason", a.reason},
              {"headline_de", a.headline_de},
              {"headline_en", a.headline_en},
              {"description_de", a.description_de},
              {"description_en", a.description_en},
              {"instruction_de", a.instruction_de},
              {"instruction_en", a.instruction_en},
              {"first_seen", Time(a.first_seen)},
              {"activated", Time(a.activated)},
              {"last_change", Time(a.last_change)},
              {"expires", Time(a.expires)},
              {"onset", Time(a.onset)},
              {"ack", std::move(ack)},
              {"escalated", a.escalated},
              {"messages", std::move(messages)},
              {"incident", a.incident}};
}

Alert AlertFromJson(const nlohmann::json& j, const std::string& w) {
  RequireObject(j, w);
  Alert a;
  Read(j, "id", w, &a.id);
  Read(j, "rule_id", w, &a.rule_id);
  Read(j, "subject", w, &a.subject);
  ReadEnum(j, "kind", w, &a.kind, &ParseRuleKind);
  Read(j, "level", w, &a.level);
  ReadEnum(j, "state", w, &a.state, &ParseAlertState);
  ReadEnum(j, "mode", w, &a.mode, &ParseMode);
  Read(j, "suppressed", w, &a.suppressed);
  Read(j, "silenced", w, &a.silenced);
  Read(j, "station_id", w, &a.station_id);
  Read(j, "subject_name", w, &a.subject_name);
  if (const json* area = Find(j, "area")) a.area = AreaFromJson(*area, w + ".area");
  Read(j, "value", w, &a.value);
  Read(j, "threshold", w, &a.threshold);
  Read(j, "unit", w, &a.unit);
  Read(j, "reason", w, &a.reason);
  Read(j, "headline_de", w, &a.headline_de);
  Read(j, "headline_en", w, &a.headline_en);
  Read(j, "description_de", w, &a.description_de);
  Read(j, "description_en", w, &a.description_en);
  Read(j, "instruction_de", w, &a.instruction_de);
  Read(j, "instruction_en", w, &a.instruction_en);
  Read(j, "first_seen", w, &a.first_seen);
  Read(j, "activated", w, &a.activated);
  Read(j, "last_change", w, &a.last_change);
  Read(j, "expires", w, &a.expires);
  Read(j, "onset", w, &a.onset);  // absent in alerts stored before it existed: 0
  if (const json* ack = Find(j, "ack")) {
    std::string wa = w + ".ack";
    RequireObject(*ack, wa);
    Acknowledgement k;
    Read(*ack, "by", wa, &k.by);
    Read(*ack, "note", wa, &k.note);
    Read(*ack, "at", wa, &k.at);
    a.ack = std::move(k);
  }
  Read(j, "escalated", w, &a.escalated);
  if (const json* msgs = Find(j, "messages")) {
    if (!msgs->is_array()) Bad(w + ".messages", "an array", *msgs);
    for (std::size_t i = 0; i < msgs->size(); ++i) {
      std::string wm = w + ".messages[" + std::to_string(i) + "]";
      const json& m = (*msgs)[i];
      RequireObject(m, wm);
      MessageRef r;
      Read(m, "sender", wm, &r.sender);
      Read(m, "identifier", wm, &r.identifier);
      Read(m, "sent", wm, &r.sent);
      a.messages.push_back(std::move(r));
    }
  }
  Read(j, "incident", w, &a.incident);
  return a;
}

nlohmann::json ToJson(const AlertEvent& e, JsonForm form) {
  if (form == JsonForm::kChannel) {
    json j = {{"sequence", e.sequence},
              {"kind", ToString(e.kind)},
              {"at", ChannelTime(e.at)},
              {"actor", e.actor},
              {"note", e.note},
              {"cap_identifier", e.cap_identifier},
              {"alert", ToJson(e.alert, JsonForm::kChannel)}};
    if (!e.cap_xml.empty()) j["cap_xml"] = e.cap_xml;
    return j;
  }
  return json{{"sequence", e.sequence}, {"kind", ToString(e.kind)},
              {"at", Time(e.at)},       {"alert", ToJson(e.alert)},
              {"actor", e.actor},       {"note", e.note},
              {"cap_xml", e.cap_xml},   {"cap_identifier", e.cap_identifier}};
}

AlertEvent AlertEventFromJson(const nlohmann::json& j, const std::string& w) {
  RequireObject(j, w);
  AlertEvent e;
  Read(j, "sequence", w, &e.sequence);
  ReadEnum(j, "kind", w, &e.kind, &ParseEventKind);
  Read(j, "at", w, &e.at);
  if (const json* a = Find(j, "alert")) e.alert = AlertFromJson(*a, w + ".alert");
  Read(j, "actor", w, &e.actor);
  Read(j, "note", w, &e.note);
  Read(j, "cap_xml", w, &e.cap_xml);
  Read(j, "cap_identifier", w, &e.cap_identifier);
  return e;
}

nlohmann::json ToJson(const Silence& s) {
  return json{{"id", s.id},
              {"alert_id", s.alert_id},
              {"station_id", s.station_id},
              {"rule_id", s.rule_id},
              {"author", s.author},
              {"reason", s.reason},
              {"created", Time(s.created)},
              {"expires", Time(s.expires)},
              {"approved_by", s.approved_by},
              {"needs_approval", s.needs_approval},
              {"removed", s.removed},
              {"removed_by", s.removed_by}};
}

Silence SilenceFromJson(const nlohmann::json& j, const std::string& w) {
  RequireObject(j, w);
  Silence s;
  Read(j, "id", w, &s.id);
  Read(j, "alert_id", w, &s.alert_id);
  Read(j, "station_id", w, &s.station_id);
  Read(j, "rule_id", w, &s.rule_id);
  Read(j, "author", w, &s.author);
  Read(j, "reason", w, &s.reason);
  Read(j, "created", w, &s.created);
  Read(j, "expires", w, &s.expires);
  Read(j, "approved_by", w, &s.approved_by);
  Read(j, "needs_approval", w, &s.needs_approval);
  Read(j, "removed", w, &s.removed);
  Read(j, "removed_by", w, &s.removed_by);
  return s;
}

nlohmann::json ToJson(const AuditEntry& e) {
  return json{{"id", e.id},
              {"at", Time(e.at)},
              {"actor", e.actor},
              {"action", e.action},
              {"alert_id", e.alert_id},
              {"detail", e.detail},
              {"prev_hash", e.prev_hash},
              {"hash", e.hash}};
}

AuditEntry AuditEntryFromJson(const nlohmann::json& j, const std::string& w) {
  RequireObject(j, w);
  AuditEntry e;
  Read(j, "id", w, &e.id);
  Read(j, "at", w, &e.at);
  Read(j, "actor", w, &e.actor);
  Read(j, "action", w, &e.action);
  Read(j, "alert_id", w, &e.alert_id);
  Read(j, "detail", w, &e.detail);
  Read(j, "prev_hash", w, &e.prev_hash);
  Read(j, "hash", w, &e.hash);
  return e;
}

std::string Dump(const nlohmann::json& j) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::type_error& e) {
    throw std::invalid_argument(std::string("JSON text must be UTF-8: ") + e.what());
  }
}

nlohmann::json ParseJson(std::string_view text, const std::string& where) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(where + ": malformed JSON: " + e.what());
  }
}

}  // namespace floodwarn::alerting
