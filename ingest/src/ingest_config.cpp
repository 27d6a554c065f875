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
#include <sstream>

#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::ingest {

namespace {

namespace fs = std::filesystem;

class Reader {
 public:
  Reader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  [[noreturn]] void Fail(const std::string& key, const toml::node* node,
                         const std::string& what) const {
    if (node != nullptr && node->source().begin.line > 0)
      throw IngestConfigError(
          fmt::format("{}:{}: {}: {}", file_, node->source().begin.line, key, what));
    throw IngestConfigError(fmt::format("{}: {}: {}", file_, key, what));
  }

  void CheckKeys(const toml::table& t, const std::string& prefix,
                 std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Fail(Key(prefix, std::string(k.str())), &v,
           fmt::format("unknown key (expected one of: {})", list));
    }
  }

  static std::string Key(const std::string& prefix, const std::string& key) {
    return prefix + "." + key;
  }

  std::optional<std::string> Str(const toml::table& t, const std::string& prefix,
                                 const std::string& key, bool required = false) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) Fail(Key(prefix, key), &t, "required (a string)");
      return std::nullopt;
    }
    if (!n->is_string()) Fail(Key(prefix, key), n, "expected a string");
    std::string s = *n->value<std::string>();
    if (required && s.empty()) Fail(Key(prefix, key), n, "must not be empty");
    return s;
  }

  std::optional<std::int64_t> Int(const toml::table& t, const std::string& prefix,
                                  const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) Fail(Key(prefix, key), n, "expected an integer");
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < lo || v > hi) Fail(Key(prefix, key), n, fmt::format("expected {}..{}", lo, hi));
    return v;
  }

  std::optional<double> Num(const toml::table& t, const std::string& prefix,
                            const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_number()) Fail(Key(prefix, key), n, "expected a number");
    return *n->value<double>();
  }

  std::optional<bool> Bool(const toml::table& t, const std::string& prefix,
                           const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) Fail(Key(prefix, key), n, "expected true or false");
    return *n->value<bool>();
  }

  std::optional<std::chrono::seconds> Dur(const toml::table& t, const std::string& prefix,
                                          const std::string& key) const {
    const auto s = Str(t, prefix, key);
    if (!s) return std::nullopt;
    const auto d = ParseDuration(*s);
    if (!d)
      Fail(Key(prefix, key), t.get(key),
           fmt::format("'{}' is not a duration > 0 (e.g. \"30s\", \"5min\", \"1h\", \"1d\")", *s));
    return d;
  }

  Quantity Quant(const toml::table& t, const std::string& prefix) const {
    const auto s = Str(t, prefix, "quantity");
    if (!s) return Quantity::kWaterLevel;
    bool ok = false;
    const Quantity q = ParseQuantity(*s, &ok);
    if (!ok)
      Fail(Key(prefix, "quantity"), t.get("quantity"),
           fmt::format("'{}': expected water_level, discharge or rainfall", *s));
    return q;
  }

  // Array of tables at t[key] (absent: empty).
  std::vector<const toml::table*> Tables(const toml::table& t, const std::string& prefix,
                                         const std::string& key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) Fail(Key(prefix, key), n, "expected an array of tables");
    for (const auto& e : *a) {
      if (!e.is_table()) Fail(Key(prefix, key), &e, "expected a table");
      out.push_back(e.as_table());
    }
    return out;
  }

  std::string Path(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(base_dir_) / p).lexically_normal().string();
  }

  static int Line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::string base_dir_;
};

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
  r.CheckKeys(t, p,
              {"name", "host", "port", "topic", "topics", "format", "client_id", "username",
               "password_file", "tls_ca_file", "tls_cert_file", "tls_key_file", "tls_version",
               "qos", "keepalive", "commit_in_callback", "devices", "ignore_unknown_devices"});
  MqttInputConfig m;
  m.line = Reader::Line(t);
  m.name = r.Str(t, p, "name").value_or(fmt::format("mqtt{}", index));
  if (m.name.empty()) r.Fail(p + ".name", t.get("name"), "must not be empty");
  MqttSourceConfig& s = m.source;
  s.host = r.Str(t, p, "host").value_or("127.0.0.1");
  if (s.host.empty()) r.Fail(p + ".host", t.get("host"), "must not be empty");
  s.port = static_cast<int>(r.Int(t, p, "port", 1, 65535).value_or(1883));
  if (t.get("topic") != nullptr && t.get("topics") != nullptr)
    r.Fail(p + ".topics", t.get("topics"), "give either topic or topics, not both");
  if (auto topic = r.Str(t, p, "topic")) s.topics.push_back(*topic);
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
  const std::string format = r.Str(t, p, "format").value_or("json");
  if (format == "json") {
    m.format = MqttPayloadFormat::kJson;
  } else if (format == "ttn") {
    m.format = MqttPayloadFormat::kTtn;
  } else {
    r.Fail(p + ".format", t.get("format"), fmt::format("'{}': expected json or ttn", format));
  }
  // Fixed client id: the broker keeps the persistent session (QoS 1 backlog).
  s.client_id = *r.Str(t, p, "client_id", /*required=*/true);
  s.username = r.Str(t, p, "username").value_or("");
  if (auto pw = r.Str(t, p, "password_file")) {
    if (s.username.empty()) r.Fail(p + ".password_file", t.get("password_file"), "needs username");
    s.password = ReadFirstLine(r, p + ".password_file", t.get("password_file"), r.Path(*pw));
  }
  // TLS: paths relative to the config file, like password_file. Each file
  // is loaded here (as MqttSource will), so a wrong one names its line.
  const std::pair<const char*, std::string*> tls_files[] = {{"tls_ca_file", &s.tls_ca_file},
                                                            {"tls_cert_file", &s.tls_cert_file},
                                                            {"tls_key_file", &s.tls_key_file}};
  for (const auto& [key, field] : tls_files) {
    auto v = r.Str(t, p, key);
    if (v && v->empty()) r.Fail(p + "." + key, t.get(key), "must not be empty");
    if (v) *field = r.Path(*v);
  }
  s.tls_version = r.Str(t, p, "tls_version").value_or("");
  if (auto problem = CheckMqttTls(s)) {
    const toml::node* n = t.get(problem->field);
    r.Fail(p + "." + problem->field, n != nullptr ? n : &t, problem->message);
  }
  s.qos = static_cast<int>(r.Int(t, p, "qos", 0, 2).value_or(1));
  if (auto k = r.Dur(t, p, "keepalive")) s.keepalive_s = static_cast<int>(k->count());
  s.commit_in_callback = r.Bool(t, p, "commit_in_callback").value_or(true);
  if (!s.password.empty() && s.tls_ca_file.empty() && !IsLoopbackHost(s.host))
    spdlog::warn(
        "config insecure_mqtt_login file={} line={} key={}.password_file host={} "
        "detail=\"the MQTT password goes to the broker in clear text over the network; set "
        "tls_ca_file (docs/ingest/LIVE.md, MQTT over TLS)\"",
        r.file(), Reader::Line(*t.get("password_file")), p, s.host);

  const auto devices = r.Tables(t, p, "devices");
  if (m.format == MqttPayloadFormat::kJson) {
    if (!devices.empty()) r.Fail(p + ".devices", t.get("devices"), "only with format = \"ttn\"");
    if (t.get("ignore_unknown_devices") != nullptr)
      r.Fail(p + ".ignore_unknown_devices", t.get("ignore_unknown_devices"),
             "only with format = \"ttn\"");
  } else {
    if (devices.empty())
      r.Fail(p + ".devices", &t, "required with format = \"ttn\": [[ingest.mqtt.devices]]");
    m.ttn.ignore_unknown_devices = r.Bool(t, p, "ignore_unknown_devices").value_or(false);
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const toml::table& d = *devices[i];
      const std::string dp = fmt::format("{}.devices[{}]", p, i);
      r.CheckKeys(d, dp, {"device_id", "station", "model", "mount_height_mm", "unit"});
      const std::string id = *r.Str(d, dp, "device_id", true);
      TtnDevice dev;
      dev.station_id = *r.Str(d, dp, "station", true);
      dev.model = r.Str(d, dp, "model").value_or("ldds75");
      if (dev.model != "ldds75")
        r.Fail(dp + ".model", d.get("model"), fmt::format("'{}': expected ldds75", dev.model));
      const auto h = r.Num(d, dp, "mount_height_mm");
      if (!h || *h <= 0)
        r.Fail(dp + ".mount_height_mm", d.get("mount_height_mm") ? d.get("mount_height_mm") : &d,
               "required: height of the sensor face above gauge zero, mm (> 0)");
      dev.mount_height_mm = *h;
      dev.unit = r.Str(d, dp, "unit").value_or("cm");
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
  if (auto d = r.Dur(t, p, "interval")) c.interval = *d;
  if (auto d = r.Dur(t, p, "initial_lookback")) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(*d);
    if (h.count() < 1 || h.count() > 31 * 24)
      r.Fail(p + ".initial_lookback", t.get("initial_lookback"), "expected 1h..31d");
    c.initial_lookback = h;
  }
}

void ParsePoll(const Reader& r, const toml::table& t, std::size_t index, IngestConfig& out) {
  const std::string p = fmt::format("ingest.poll[{}]", index);
  const std::string type = *r.Str(t, p, "type", true);
  if (type == "pegelonline") {
    r.CheckKeys(t, p, {"type", "base_url", "interval", "initial_lookback", "series"});
    PegelonlineConfig c;
    if (auto b = r.Str(t, p, "base_url")) c.base_url = *b;
    ParsePollCommon(r, t, p, c);
    const auto series = r.Tables(t, p, "series");
    if (series.empty()) r.Fail(p + ".series", &t, "required: at least one { station, uuid }");
    for (std::size_t i = 0; i < series.size(); ++i) {
      const toml::table& s = *series[i];
      const std::string sp = fmt::format("{}.series[{}]", p, i);
      r.CheckKeys(s, sp, {"station", "uuid", "timeseries", "unit", "quantity"});
      PegelonlineSeries ps;
      ps.station_id = *r.Str(s, sp, "station", true);
      ps.uuid = *r.Str(s, sp, "uuid", true);
      ps.timeseries = r.Str(s, sp, "timeseries").value_or("W");
      ps.unit = r.Str(s, sp, "unit").value_or(ps.timeseries == "Q" ? "m3/s" : "cm");
      ps.quantity = s.get("quantity") != nullptr ? r.Quant(s, sp)
                    : ps.timeseries == "Q"       ? Quantity::kDischarge
                                                 : Quantity::kWaterLevel;
      c.series.push_back(ps);
    }
    out.pegelonline.push_back(std::move(c));
  } else if (type == "sensorthings") {
    r.CheckKeys(t, p,
                {"type", "base_url", "interval", "initial_lookback", "page_size", "max_pages",
                 "datastreams"});
    SensorThingsConfig c;
    c.base_url = *r.Str(t, p, "base_url", true);
    ParsePollCommon(r, t, p, c);
    c.page_size = static_cast<int>(r.Int(t, p, "page_size", 1, 10000).value_or(c.page_size));
    c.max_pages = static_cast<int>(r.Int(t, p, "max_pages", 1, 100000).value_or(c.max_pages));
    const auto streams = r.Tables(t, p, "datastreams");
    if (streams.empty())
      r.Fail(p + ".datastreams", &t, "required: at least one { station, datastream }");
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const toml::table& s = *streams[i];
      const std::string sp = fmt::format("{}.datastreams[{}]", p, i);
      r.CheckKeys(s, sp, {"station", "datastream", "unit", "quantity"});
      SensorThingsDatastream d;
      d.station_id = *r.Str(s, sp, "station", true);
      const toml::node* ds = s.get("datastream");
      if (ds == nullptr) r.Fail(sp + ".datastream", &s, "required: the Datastream id");
      if (ds->is_integer()) {
        d.datastream_id = std::to_string(*ds->value<std::int64_t>());
      } else if (ds->is_string() && !ds->value<std::string>()->empty()) {
        d.datastream_id = *ds->value<std::string>();
      } else {
        r.Fail(sp + ".datastream", ds, "expected an integer or a non-empty string id");
      }
      d.unit = r.Str(s, sp, "unit").value_or("cm");
      d.quantity = r.Quant(s, sp);
      c.datastreams.push_back(d);
    }
    out.sensorthings.push_back(std::move(c));
  } else {
    r.Fail(p + ".type", t.get("type"),
           fmt::format("'{}': expected pegelonline or sensorthings", type));
  }
}

}  // namespace

std::optional<IngestConfig> ParseIngestConfig(std::string_view toml_text, const std::string& source,
                                              const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw IngestConfigError(fmt::format("{}:{}: TOML syntax error: {}", source,
                                        e.source().begin.line, e.description()));
  }
  const toml::node* node = root.get("ingest");
  if (node == nullptr) return std::nullopt;
  const Reader r(source, base_dir);
  if (!node->is_table()) r.Fail("ingest", node, "expected a table");
  const toml::table& t = *node->as_table();
  r.CheckKeys(
      t, "ingest",
      {"stations_file", "store", "stale_after_intervals", "check_interval", "mqtt", "poll"});
  IngestConfig c;
  c.source_path = source;
  c.stations_file = r.Path(*r.Str(t, "ingest", "stations_file", true));
  c.store_path = r.Path(*r.Str(t, "ingest", "store", true));
  if (auto f = r.Num(t, "ingest", "stale_after_intervals")) {
    if (!(*f >= 1.0 && *f <= 100.0))
      r.Fail("ingest.stale_after_intervals", t.get("stale_after_intervals"), "expected 1..100");
    c.stale_after_intervals = *f;
  }
  if (auto d = r.Dur(t, "ingest", "check_interval")) c.check_interval = *d;
  const auto mqtt = r.Tables(t, "ingest", "mqtt");
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
  const auto poll = r.Tables(t, "ingest", "poll");
  for (std::size_t i = 0; i < poll.size(); ++i) ParsePoll(r, *poll[i], i, c);
  return c;
}

std::optional<IngestConfig> LoadIngestConfig(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IngestConfigError(fmt::format("{}: cannot read the service config", path));
  std::ostringstream text;
  text << f.rdbuf();
  const std::string base = fs::absolute(fs::path(path)).parent_path().string();
  return ParseIngestConfig(text.str(), path, base);
}

}  // namespace floodwarn::ingest
