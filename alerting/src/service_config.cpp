// LoadServiceConfig: the [service], [tls], [auth], [store], [cap] tables and
// rules_file of a `floodwarn serve` config, validated once; unknown keys are
// errors naming file, key and line.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "floodwarn/alerting/service.hpp"

namespace floodwarn::alerting {

namespace {

namespace fs = std::filesystem;

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void Fail(const std::string& key, const toml::node* node,
                         const std::string& what) const {
    if (node != nullptr && node->source().begin.line > 0)
      throw std::runtime_error(
          fmt::format("{}:{}: {}: {}", file_, node->source().begin.line, key, what));
    throw std::runtime_error(fmt::format("{}: {}: {}", file_, key, what));
  }

  // Every key of `table` must be in `allowed`.
  void CheckKeys(const toml::table& table, const std::string& prefix,
                 std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : table) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Fail(Join(prefix, std::string(k.str())), &v,
           fmt::format("unknown key (expected one of: {})", list));
    }
  }

  static std::string Join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

  const toml::table* Table(const toml::table& parent, const std::string& prefix,
                           const std::string& key) const {
    const toml::node* n = parent.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) Fail(Join(prefix, key), n, "expected a table");
    return n->as_table();
  }

  bool String(const toml::table& t, const std::string& prefix, const std::string& key,
              std::string& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    if (!n->is_string()) Fail(Join(prefix, key), n, "expected a string");
    out = n->as_string()->get();
    return true;
  }

  bool Bool(const toml::table& t, const std::string& prefix, const std::string& key,
            bool& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    if (!n->is_boolean()) Fail(Join(prefix, key), n, "expected true or false");
    out = n->as_boolean()->get();
    return true;
  }

  bool Integer(const toml::table& t, const std::string& prefix, const std::string& key,
               std::int64_t lo, std::int64_t hi, std::int64_t& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    if (!n->is_integer()) Fail(Join(prefix, key), n, "expected an integer");
    out = n->as_integer()->get();
    if (out < lo || out > hi)
      Fail(Join(prefix, key), n, fmt::format("{} is out of range [{}, {}]", out, lo, hi));
    return true;
  }

  // "250ms", "10s", "5m", "24h", "7d".
  bool Dur(const toml::table& t, const std::string& prefix, const std::string& key, Duration min,
           Duration& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    const std::string k = Join(prefix, key);
    const char* expected =
        "expected a duration string such as \"500ms\", \"10s\", \"5m\", \"2h\", \"7d\"";
    if (!n->is_string()) Fail(k, n, expected);
    const std::string s = n->as_string()->get();
    std::size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0 || i > 9) Fail(k, n, fmt::format("'{}': {}", s, expected));
    const long long v = std::stoll(s.substr(0, i));
    const std::string unit = s.substr(i);
    if (unit == "ms")
      out = Duration(v);
    else if (unit == "s")
      out = std::chrono::seconds(v);
    else if (unit == "m")
      out = std::chrono::minutes(v);
    else if (unit == "h")
      out = std::chrono::hours(v);
    else if (unit == "d")
      out = std::chrono::hours(24 * v);
    else
      Fail(k, n, fmt::format("'{}': {}", s, expected));
    if (out < min)
      Fail(k, n, fmt::format("'{}' is shorter than the minimum {} ms", s, min.count()));
    return true;
  }

  // A path relative to the config file's folder.
  std::string Path(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(file_).parent_path() / p).lexically_normal().string();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

void CheckAddress(const Reader& r, const std::string& key, const toml::node* n,
                  const std::string& addr) {
  const auto colon = addr.rfind(':');
  const std::string expected = "expected host:port, e.g. \"127.0.0.1:50051\" (port 0 = any)";
  if (colon == std::string::npos || colon == 0 || colon + 1 >= addr.size())
    r.Fail(key, n, fmt::format("'{}': {}", addr, expected));
  const std::string port = addr.substr(colon + 1);
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
      std::stoi(port) > 65535)
    r.Fail(key, n, fmt::format("'{}': {}", addr, expected));
}

bool IsHex64(std::string& s) {
  if (s.size() != 64) return false;
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

const char* ToString(Role r) {
  switch (r) {
    case Role::kSubscriber:
      return "subscriber";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string TokenSha256Hex(const std::string& token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

ServiceConfig LoadServiceConfig(const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error(fmt::format("{}: config file not found", path));
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(
        fmt::format("{}:{}: TOML syntax error: {}", path, e.source().begin.line, e.description()));
  }
  Reader r(path);
  ServiceConfig c;
  c.source_path = path;
  // [[channels]] belongs to the channel adapters' loader, [ingest] to
  // floodwarn::ingest::LoadIngestConfig (ingest_config.hpp).
  r.CheckKeys(root, "",
              {"rules_file", "service", "tls", "auth", "store", "cap", "channels", "ingest"});

  std::string rules;
  if (!r.String(root, "", "rules_file", rules) || rules.empty())
    r.Fail("rules_file", root.get("rules_file"),
           "required: the rules file (TOML), relative to this file");
  c.rules_file = r.Path(rules);
  if (!fs::exists(c.rules_file))
    r.Fail("rules_file", root.get("rules_file"), fmt::format("{}: file not found", c.rules_file));

  if (const toml::table* s = r.Table(root, "", "service")) {
    r.CheckKeys(
        *s, "service",
        {"listen", "metrics_listen", "heartbeat_interval", "max_message_bytes", "max_subscribers",
         "event_buffer", "fanout_threads", "stall_timeout", "tick_interval", "insecure"});
    if (r.String(*s, "service", "listen", c.listen))
      CheckAddress(r, "service.listen", s->get("listen"), c.listen);
    if (r.String(*s, "service", "metrics_listen", c.metrics_listen) && !c.metrics_listen.empty())
      CheckAddress(r, "service.metrics_listen", s->get("metrics_listen"), c.metrics_listen);
    r.Dur(*s, "service", "heartbeat_interval", std::chrono::milliseconds(100),
          c.heartbeat_interval);
    r.Dur(*s, "service", "stall_timeout", std::chrono::seconds(1), c.stall_timeout);
    r.Dur(*s, "service", "tick_interval", std::chrono::milliseconds(100), c.tick_interval);
    std::int64_t v = 0;
    if (r.Integer(*s, "service", "max_message_bytes", 1024, 64 << 20, v))
      c.max_message_bytes = static_cast<std::size_t>(v);
    if (r.Integer(*s, "service", "max_subscribers", 1, 1000000, v))
      c.max_subscribers = static_cast<std::size_t>(v);
    if (r.Integer(*s, "service", "event_buffer", 16, 1 << 20, v))
      c.event_buffer = static_cast<std::size_t>(v);
    if (r.Integer(*s, "service", "fanout_threads", 0, 64, v))
      c.fanout_threads = static_cast<std::size_t>(v);
    r.Bool(*s, "service", "insecure", c.insecure);
  }

  const toml::table* tls = r.Table(root, "", "tls");
  if (tls != nullptr) {
    r.CheckKeys(*tls, "tls", {"cert", "key", "client_ca"});
    if (c.insecure)
      r.Fail("tls", tls, "service.insecure = true and a [tls] table contradict each other");
    const char* what[] = {"cert", "key", "client_ca"};
    std::string* out[] = {&c.tls_cert, &c.tls_key, &c.tls_client_ca};
    for (int i = 0; i < 3; ++i) {
      std::string p;
      if (!r.String(*tls, "tls", what[i], p) || p.empty())
        r.Fail(std::string("tls.") + what[i], tls, "required (PEM file)");
      *out[i] = r.Path(p);
      if (!fs::exists(*out[i]))
        r.Fail(std::string("tls.") + what[i], tls->get(what[i]),
               fmt::format("{}: file not found", *out[i]));
    }
  } else if (!c.insecure) {
    r.Fail("tls", nullptr,
           "required: [tls] cert, key, client_ca (mutual TLS); plaintext only with "
           "[service] insecure = true");
  }

  if (const toml::table* auth = r.Table(root, "", "auth")) {
    r.CheckKeys(*auth, "auth", {"tokens"});
    const toml::node* tn = auth->get("tokens");
    if (tn != nullptr) {
      if (!tn->is_array_of_tables()) r.Fail("auth.tokens", tn, "expected [[auth.tokens]] tables");
      std::set<std::string> principals, hashes;
      std::size_t i = 0;
      for (const toml::node& e : *tn->as_array()) {
        const toml::table& t = *e.as_table();
        const std::string prefix = fmt::format("auth.tokens[{}]", i++);
        r.CheckKeys(t, prefix, {"principal", "role", "sha256", "client_cn"});
        TokenGrant g;
        if (!r.String(t, prefix, "principal", g.principal) || g.principal.empty() ||
            g.principal.size() > 128)
          r.Fail(prefix + ".principal", &t, "required: 1..128 characters (the actor's name)");
        if (g.principal == "system" || g.principal == "rules")
          r.Fail(prefix + ".principal", t.get("principal"),
                 "'system' and 'rules' are reserved actor names");
        std::string role;
        r.String(t, prefix, "role", role);
        if (role == "subscriber")
          g.role = Role::kSubscriber;
        else if (role == "operator")
          g.role = Role::kOperator;
        else if (role == "admin")
          g.role = Role::kAdmin;
        else
          r.Fail(prefix + ".role", t.get("role") ? t.get("role") : &t,
                 fmt::format("'{}': expected subscriber, operator or admin", role));
        if (!r.String(t, prefix, "sha256", g.sha256_hex) || !IsHex64(g.sha256_hex))
          r.Fail(prefix + ".sha256", t.get("sha256") ? t.get("sha256") : &t,
                 "expected the 64 hex digits of SHA-256(token), e.g. from "
                 "`printf %s \"$TOKEN\" | sha256sum`");
        r.String(t, prefix, "client_cn", g.client_cn);
        if (!principals.insert(g.principal).second)
          r.Fail(prefix + ".principal", t.get("principal"),
                 fmt::format("'{}' appears twice", g.principal));
        if (!hashes.insert(g.sha256_hex).second)
          r.Fail(prefix + ".sha256", t.get("sha256"), "the same token is configured twice");
        c.tokens.push_back(std::move(g));
      }
    }
  }
  if (c.tokens.empty())
    r.Fail("auth.tokens", nullptr,
           "required: at least one [[auth.tokens]] (every call needs a bearer token)");

  const toml::table* store = r.Table(root, "", "store");
  if (store == nullptr) r.Fail("store", nullptr, "required: [store] path");
  r.CheckKeys(*store, "store", {"path", "retention", "synchronous_full"});
  std::string sp;
  if (!r.String(*store, "store", "path", sp) || sp.empty())
    r.Fail("store.path", store, "required: the SQLite database file");
  c.store_path = r.Path(sp);
  r.Dur(*store, "store", "retention", std::chrono::minutes(1), c.store.retention);
  r.Bool(*store, "store", "synchronous_full", c.store.synchronous_full);

  if (const toml::table* cap = r.Table(root, "", "cap")) {
    r.CheckKeys(*cap, "cap",
                {"sender", "sender_name_de", "sender_name_en", "web", "contact",
                 "utc_offset_minutes", "default_validity"});
    if (r.String(*cap, "cap", "sender", c.cap.sender)) {
      if (c.cap.sender.empty() || c.cap.sender.find_first_of(" ,<&\t\n") != std::string::npos)
        r.Fail("cap.sender", cap->get("sender"),
               "must be non-empty without spaces, commas, '<' or '&' (CAP 1.2)");
    }
    r.String(*cap, "cap", "sender_name_de", c.cap.sender_name_de);
    r.String(*cap, "cap", "sender_name_en", c.cap.sender_name_en);
    r.String(*cap, "cap", "web", c.cap.web);
    r.String(*cap, "cap", "contact", c.cap.contact);
    std::int64_t off = 0;
    if (r.Integer(*cap, "cap", "utc_offset_minutes", -14 * 60, 14 * 60, off))
      c.cap.utc_offset_minutes = static_cast<int>(off);
    r.Dur(*cap, "cap", "default_validity", std::chrono::minutes(1), c.cap.default_validity);
  }
  return c;
}

}  // namespace floodwarn::alerting
