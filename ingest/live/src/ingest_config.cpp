// LoadIngestConfig: the [ingest] table of a `floodwarn serve` config.
#include "floodwarn/ingest/ingest_config.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>

#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

namespace {

namespace fs = std::filesystem;

// The TOML reader every config shares (floodwarn/common/toml_reader.hpp):
// errors are IngestConfigError "FILE:LINE: KEY: what was expected".
using Reader = common::TomlContext<IngestConfigError>;
using common::CheckKeys;
using common::GetBool;
using common::GetInteger;
using common::GetNumber;
using common::GetString;
using common::RequireString;

int Line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// A duration in whole seconds, > 0 (docs/DURATIONS.md: "30s", "5m", "5min",
// "1h", "1d").
std::optional<std::chrono::seconds> Dur(const Reader& r, const toml::table& t,
                                        const std::string& prefix, const char* key) {
  const auto d =
      common::GetDuration(r, t, prefix, key, std::chrono::seconds(1), std::chrono::seconds(1));
  if (!d) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Quantity Quant(const Reader& r, const toml::table& t, const std::string& prefix) {
  const auto s = GetString(r, t, prefix, "quantity");
  if (!s) return Quantity::kWaterLevel;
  bool ok = false;
  const Quantity q = ParseQuantity(*s, &ok);
  if (!ok)
    r.Fail(prefix + ".quantity", t.get("quantity"),
           fmt::format("'{}': expected water_level, discharge or rainfall", *s));
  return q;
}

// Array of tables at t[key] (absent or []: empty).
std::vector<const toml::table*> Tables(const Reader& r, const toml::table& t,
                                       const std::string& prefix, const char* key) {
  std::vector<const toml::table*> out;
  if (const toml::array* a = common::GetTableArray(r, t, prefix, key, /*allow_empty=*/true))
    for (const auto& e : *a) out.push_back(e.as_table());
  return out;
}

std::string ReadFirstLine(const Reader& r, const std::string& key, const toml::node* node,
                          const std::string& path) {
  std::ifstream f(path);
  if (!f) r.Fail(key, node, fmt::format("cannot read {}", path));
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.pop_back();
  if (line.empty()) r.Fail(key, node, fmt::format("{} is empty", path));
  return line;
}

// 127.0.0.0/8, ::1 or "localhost": traffic that never leaves the machine.
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

MqttInputConfig ParseMqtt(const Reader& r, const toml::table& t, std::size_t index) {
  const std::string p = fmt::format("ingest.mqtt[{}]", index);
  CheckKeys(r, t, p,
            {"name", "host", "port", "topic", "topics", "format", "client_id", "username",
             "password_file", "tls_ca_file", "tls_cert_file", "tls_key_file", "tls_version", "qos",
             "keepalive", "commit_in_callback", "devices", "ignore_unknown_devices"});
  MqttInputConfig m;
  m.line = Line(t);
  m.name = GetString(r, t, p, "name").value_or(fmt::format("mqtt{}", index));
  if (m.name.empty()) r.Fail(p + ".name", t.get("name"), "must not be empty");
  MqttSourceConfig& s = m.source;
  s.host = GetString(r, t, p, "host").value_or("127.0.0.1");
  if (s.host.empty()) r.Fail(p + ".host", t.get("host"), "must not be empty");
  s.port = static_cast<int>(GetInteger(r, t, p, "port", 1, 65535).value_or(1883));
  if (t.get("topic") != nullptr && t.get("topics") != nullptr)
    r.Fail(p + ".topics", t.get("topics"), "give either topic or topics, not both");
  if (auto topic = GetString(r, t, p, "topic")) s.topics.push_back(*topic);
  if (const toml::node* n = t.get("topics")) {
    const toml::array* a = n->as_array();
    if (a == nullptr) r.Fail(p + ".topics", n, "expected an array of strings");
    for (const auto& e : *a) {
      if (!e.is_string()) r.Fail(p + ".topics", &e, "expected a string");
      s.topics.push_back(*e.value<std::string>());
    }
  }
  if (s.topics.empty()) r.Fail(p + ".topic", &t, "required: the MQTT topic filter(s)");
  for (const auto& topic : s.topics)
    if (topic.empty()) r.Fail(p + ".topic", &t, "a topic filter must not be empty");
  const std::string format = GetString(r, t, p, "format").value_or("json");
  if (format == "json") {
    m.format = MqttPayloadFormat::kJson;
  } else if (format == "ttn") {
    m.format = MqttPayloadFormat::kTtn;
  } else {
    r.Fail(p + ".format", t.get("format"), fmt::format("'{}': expected json or ttn", format));
  }
  // Fixed client id: the broker keeps the persistent session (QoS 1 backlog).
  s.client_id = RequireString(r, t, p, "client_id");
  s.username = GetString(r, t, p, "username").value_or("");
  if (auto pw = GetString(r, t, p, "password_file")) {
    if (s.username.empty()) r.Fail(p + ".password_file", t.get("password_file"), "needs username");
    s.password = ReadFirstLine(r, p + ".password_file", t.get("password_file"), r.Resolve(*pw));
  }
  // TLS: paths relative to the config file, like password_file. Each file
  // is loaded here (as MqttSource will), so a wrong one names its line.
  const std::pair<const char*, std::string*> tls_files[] = {{"tls_ca_file", &s.tls_ca_file},
                                                            {"tls_cert_file", &s.tls_cert_file},
                                                            {"tls_key_file", &s.tls_key_file}};
  for (const auto& [key, field] : tls_files) {
    auto v = GetString(r, t, p, key);
    if (v && v->empty()) r.Fail(p + "." + key, t.get(key), "must not be empty");
    if (v) *field = r.Resolve(*v);
  }
  s.tls_version = GetString(r, t, p, "tls_version").value_or("");
  if (auto problem = CheckMqttTls(s)) {
    const toml::node* n = t.get(problem->field);
    r.Fail(p + "." + problem->field, n != nullptr ? n : &t, problem->message);
  }
  s.qos = static_cast<int>(GetInteger(r, t, p, "qos", 0, 2).value_or(1));
  if (auto k = Dur(r, t, p, "keepalive")) s.keepalive_s = static_cast<int>(k->count());
  s.commit_in_callback = GetBool(r, t, p, "commit_in_callback").value_or(true);
  if (!s.password.empty() && s.tls_ca_file.empty() && !IsLoopbackHost(s.host))
    spdlog::warn(
        "config insecure_mqtt_login file={} line={} key={}.password_file host={} "
        "detail=\"the MQTT password goes to the broker in clear text over the network; set "
        "tls_ca_file (docs/ingest/LIVE.md, MQTT over TLS)\"",
        r.file(), Line(*t.get("password_file")), p, s.host);

  const auto devices = Tables(r, t, p, "devices");
  if (m.format == MqttPayloadFormat::kJson) {
    if (!devices.empty()) r.Fail(p + ".devices", t.get("devices"), "only with format = \"ttn\"");
    if (t.get("ignore_unknown_devices") != nullptr)
      r.Fail(p + ".ignore_unknown_devices", t.get("ignore_unknown_devices"),
             "only with format = \"ttn\"");
  } else {
    if (devices.empty())
      r.Fail(p + ".devices", &t, "required with format = \"ttn\": [[ingest.mqtt.devices]]");
    m.ttn.ignore_unknown_devices = GetBool(r, t, p, "ignore_unknown_devices").value_or(false);
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const toml::table& d = *devices[i];
      const std::string dp = fmt::format("{}.devices[{}]", p, i);
      CheckKeys(r, d, dp, {"device_id", "station", "model", "mount_height_mm", "unit"});
      const std::string id = RequireString(r, d, dp, "device_id");
      TtnDevice dev;
      dev.station_id = RequireString(r, d, dp, "station");
      dev.model = GetString(r, d, dp, "model").value_or("ldds75");
      if (dev.model != "ldds75")
        r.Fail(dp + ".model", d.get("model"), fmt::format("'{}': expected ldds75", dev.model));
      const auto h = GetNumber(r, d, dp, "mount_height_mm");
      if (!h || *h <= 0)
        r.Fail(dp + ".mount_height_mm", d.get("mount_height_mm") ? d.get("mount_height_mm") : &d,
               "required: height of the sensor face above gauge zero, mm (> 0)");
      dev.mount_height_mm = *h;
      dev.unit = GetString(r, d, dp, "unit").value_or("cm");
      if (dev.unit != "mm" && dev.unit != "cm" && dev.unit != "m")
        r.Fail(dp + ".unit", d.get("unit"), fmt::format("'{}': expected mm, cm or m", dev.unit));
      if (!m.ttn.devices.emplace(id, dev).second)
        r.Fail(dp + ".device_id", d.get("device_id"), fmt::format("'{}' listed twice", id));
    }
  }
  return m;
}

template <typename Config>
void ParsePollCommon(const Reader& r, const toml::table& t, const std::string& p, Config& c) {
  if (auto d = Dur(r, t, p, "interval")) c.interval = *d;
  if (auto d = Dur(r, t, p, "initial_lookback")) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(*d);
    if (h.count() < 1 || h.count() > 31 * 24)
      r.Fail(p + ".initial_lookback", t.get("initial_lookback"), "expected 1h..31d");
    c.initial_lookback = h;
  }
}

void ParsePoll(const Reader& r, const toml::table& t, std::size_t index, IngestConfig& out) {
  const std::string p = fmt::format("ingest.poll[{}]", index);
  const std::string type = RequireString(r, t, p, "type");
  if (type == "pegelonline") {
    CheckKeys(r, t, p, {"type", "base_url", "interval", "initial_lookback", "series"});
    PegelonlineConfig c;
    if (auto b = GetString(r, t, p, "base_url")) c.base_url = *b;
    ParsePollCommon(r, t, p, c);
    const auto series = Tables(r, t, p, "series");
    if (series.empty()) r.Fail(p + ".series", &t, "required: at least one { station, uuid }");
    for (std::size_t i = 0; i < series.size(); ++i) {
      const toml::table& s = *series[i];
      const std::string sp = fmt::format("{}.series[{}]", p, i);
      CheckKeys(r, s, sp, {"station", "uuid", "timeseries", "unit", "quantity"});
      PegelonlineSeries ps;
      ps.station_id = RequireString(r, s, sp, "station");
      ps.uuid = RequireString(r, s, sp, "uuid");
      ps.timeseries = GetString(r, s, sp, "timeseries").value_or("W");
      ps.unit = GetString(r, s, sp, "unit").value_or(ps.timeseries == "Q" ? "m3/s" : "cm");
      ps.quantity = s.get("quantity") != nullptr ? Quant(r, s, sp)
                    : ps.timeseries == "Q"       ? Quantity::kDischarge
                                                 : Quantity::kWaterLevel;
      c.series.push_back(ps);
    }
    out.pegelonline.push_back(std::move(c));
  } else if (type == "sensorthings") {
    CheckKeys(r, t, p,
              {"type", "base_url", "interval", "initial_lookback", "page_size", "max_pages",
               "datastreams"});
    SensorThingsConfig c;
    c.base_url = RequireString(r, t, p, "base_url");
    ParsePollCommon(r, t, p, c);
    c.page_size =
        static_cast<int>(GetInteger(r, t, p, "page_size", 1, 10000).value_or(c.page_size));
    c.max_pages =
        static_cast<int>(GetInteger(r, t, p, "max_pages", 1, 100000).value_or(c.max_pages));
    const auto streams = Tables(r, t, p, "datastreams");
    if (streams.empty())
      r.Fail(p + ".datastreams", &t, "required: at least one { station, datastream }");
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const toml::table& s = *streams[i];
      const std::string sp = fmt::format("{}.datastreams[{}]", p, i);
      CheckKeys(r, s, sp, {"station", "datastream", "unit", "quantity"});
      SensorThingsDatastream d;
      d.station_id = RequireString(r, s, sp, "station");
      const toml::node* ds = s.get("datastream");
      if (ds == nullptr) r.Fail(sp + ".datastream", &s, "required: the Datastream id");
      if (ds->is_integer()) {
        d.datastream_id = std::to_string(*ds->value<std::int64_t>());
      } else if (ds->is_string() && !ds->value<std::string>()->empty()) {
        d.datastream_id = *ds->value<std::string>();
      } else {
        r.Fail(sp + ".datastream", ds, "expected an integer or a non-empty string id");
      }
      d.unit = GetString(r, s, sp, "unit").value_or("cm");
      d.quantity = Quant(r, s, sp);
      c.datastreams.push_back(d);
    }
    out.sensorthings.push_back(std::move(c));
  } else {
    r.Fail(p + ".type", t.get("type"),
           fmt::format("'{}': expected pegelonline or sensorthings", type));
  }
}

}  // namespace

std::optional<IngestConfig> ParseIngestConfig(const common::TomlFile& file) {
  // Relative paths against the config's folder made absolute (the stores
  // and the registry are opened later, maybe after a chdir).
  const std::string base = file.base_dir.empty()
                               ? fs::current_path().string()
                               : fs::absolute(file.base_dir).lexically_normal().string();
  const Reader r(file.path, base);
  const toml::table* ingest = common::GetTable(r, file.root, "", "ingest");
  if (ingest == nullptr) return std::nullopt;
  const toml::table& t = *ingest;
  CheckKeys(r, t, "ingest",
            {"stations_file", "store", "stale_after_intervals", "check_interval", "mqtt", "poll"});
  IngestConfig c;
  c.source_path = file.path;
  c.stations_file = r.Resolve(RequireString(r, t, "ingest", "stations_file"));
  c.store_path = r.Resolve(RequireString(r, t, "ingest", "store"));
  if (auto f = GetNumber(r, t, "ingest", "stale_after_intervals")) {
    if (!(*f >= 1.0 && *f <= 100.0))
      r.Fail("ingest.stale_after_intervals", t.get("stale_after_intervals"), "expected 1..100");
    c.stale_after_intervals = *f;
  }
  if (auto d = Dur(r, t, "ingest", "check_interval")) c.check_interval = *d;
  const auto mqtt = Tables(r, t, "ingest", "mqtt");
  std::set<std::string> names, client_ids;
  for (std::size_t i = 0; i < mqtt.size(); ++i) {
    c.mqtt.push_back(ParseMqtt(r, *mqtt[i], i));
    const auto& m = c.mqtt.back();
    if (!names.insert(m.name).second)
      r.Fail(fmt::format("ingest.mqtt[{}].name", i), mqtt[i],
             fmt::format("'{}' used twice", m.name));
    // Two sessions with one client id would throw each other off the broker.
    if (!client_ids
             .insert(m.source.host + ":" + std::to_string(m.source.port) + "/" + m.source.client_id)
             .second)
      r.Fail(fmt::format("ingest.mqtt[{}].client_id", i), mqtt[i]->get("client_id"),
             fmt::format("'{}' used twice for the same broker", m.source.client_id));
  }
  const auto poll = Tables(r, t, "ingest", "poll");
  for (std::size_t i = 0; i < poll.size(); ++i) ParsePoll(r, *poll[i], i, c);
  return c;
}

std::optional<IngestConfig> ParseIngestConfig(std::string_view toml_text, const std::string& source,
                                              const std::string& base_dir) {
  return ParseIngestConfig(common::ParseTomlText<IngestConfigError>(toml_text, source, base_dir));
}

std::optional<IngestConfig> LoadIngestConfig(const std::string& path) {
  return ParseIngestConfig(common::ReadTomlFile<IngestConfigError>(path, "service config"));
}

}  // namespace floodwarn::ingest
