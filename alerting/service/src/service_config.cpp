// ParseServiceConfig: the [service], [tls], [auth], [store], [cap] tables and
// rules_file of a `floodwarn serve` config, validated once with the common
// TOML reader; unknown keys are errors naming file, key and line.
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
#include "floodwarn/common/toml_reader.hpp"

namespace floodwarn::alerting {

namespace {

namespace fs = std::filesystem;

// The TOML reader every config shares (floodwarn/common/toml_reader.hpp):
// errors are common::ConfigError "FILE:LINE: KEY: what was expected".
using Reader = common::TomlContext<common::ConfigError>;
using common::CheckKeys;
using common::GetBool;
using common::GetInteger;
using common::GetString;
using common::GetTable;

// Sets `out` from the string at `key`, when present.
bool String(const Reader& r, const toml::table& t, const std::string& prefix, const char* key,
            std::string& out) {
  auto v = GetString(r, t, prefix, key);
  if (v) out = std::move(*v);
  return v.has_value();
}

// A duration of at least `min` (docs/DURATIONS.md: "500ms", "10s", "5m", "2h",
// "7d", "1h30m"), into `out` when present.
void Dur(const Reader& r, const toml::table& t, const std::string& prefix, const char* key,
         Duration min, Duration& out) {
  if (auto d = common::GetDuration(r, t, prefix, key, min)) out = *d;
}

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
  if (!fs::exists(path)) throw common::ConfigError(fmt::format("{}: config file not found", path));
  return ParseServiceConfig(common::ReadTomlFile(path, "service config"));
}

ServiceConfig ParseServiceConfig(const common::TomlFile& file) {
  const Reader r(file);
  const toml::table& root = file.root;
  ServiceConfig c;
  c.source_path = file.path;
  // [[channels]] belongs to the channel adapters' loader, [ingest] to
  // floodwarn::ingest::ParseIngestConfig (ingest_config.hpp), [forecast] to
  // floodwarn::forecast::ParseForecastConfig (loop.hpp).
  CheckKeys(
      r, root, "",
      {"rules_file", "service", "tls", "auth", "store", "cap", "channels", "ingest", "forecast"});

  std::string rules;
  if (!String(r, root, "", "rules_file", rules) || rules.empty())
    r.Fail("rules_file", root.get("rules_file"),
           "required: the rules file (TOML), relative to this file");
  c.rules_file = r.Resolve(rules);
  if (!fs::exists(c.rules_file))
    r.Fail("rules_file", root.get("rules_file"), fmt::format("{}: file not found", c.rules_file));

  if (const toml::table* s = GetTable(r, root, "", "service")) {
    CheckKeys(
        r, *s, "service",
        {"listen", "metrics_listen", "heartbeat_interval", "max_message_bytes", "max_subscribers",
         "event_buffer", "fanout_threads", "stall_timeout", "tick_interval", "insecure"});
    if (String(r, *s, "service", "listen", c.listen))
      CheckAddress(r, "service.listen", s->get("listen"), c.listen);
    if (String(r, *s, "service", "metrics_listen", c.metrics_listen) && !c.metrics_listen.empty())
      CheckAddress(r, "service.metrics_listen", s->get("metrics_listen"), c.metrics_listen);
    Dur(r, *s, "service", "heartbeat_interval", std::chrono::milliseconds(100),
        c.heartbeat_interval);
    Dur(r, *s, "service", "stall_timeout", std::chrono::seconds(1), c.stall_timeout);
    Dur(r, *s, "service", "tick_interval", std::chrono::milliseconds(100), c.tick_interval);
    if (auto v = GetInteger(r, *s, "service", "max_message_bytes", 1024, 64 << 20))
      c.max_message_bytes = static_cast<std::size_t>(*v);
    if (auto v = GetInteger(r, *s, "service", "max_subscribers", 1, 1000000))
      c.max_subscribers = static_cast<std::size_t>(*v);
    if (auto v = GetInteger(r, *s, "service", "event_buffer", 16, 1 << 20))
      c.event_buffer = static_cast<std::size_t>(*v);
    if (auto v = GetInteger(r, *s, "service", "fanout_threads", 0, 64))
      c.fanout_threads = static_cast<std::size_t>(*v);
    if (auto v = GetBool(r, *s, "service", "insecure")) c.insecure = *v;
  }

  const toml::table* tls = GetTable(r, root, "", "tls");
  if (tls != nullptr) {
    CheckKeys(r, *tls, "tls", {"cert", "key", "client_ca"});
    if (c.insecure)
      r.Fail("tls", tls, "service.insecure = true and a [tls] table contradict each other");
    const char* what[] = {"cert", "key", "client_ca"};
    std::string* out[] = {&c.tls_cert, &c.tls_key, &c.tls_client_ca};
    for (int i = 0; i < 3; ++i) {
      std::string p;
      if (!String(r, *tls, "tls", what[i], p) || p.empty())
        r.Fail(std::string("tls.") + what[i], tls, "required (PEM file)");
      *out[i] = r.Resolve(p);
      if (!fs::exists(*out[i]))
        r.Fail(std::string("tls.") + what[i], tls->get(what[i]),
               fmt::format("{}: file not found", *out[i]));
    }
  } else if (!c.insecure) {
    r.Fail("tls", nullptr,
           "required: [tls] cert, key, client_ca (mutual TLS); plaintext only with "
           "[service] insecure = true");
  }

  if (const toml::table* auth = GetTable(r, root, "", "auth")) {
    CheckKeys(r, *auth, "auth", {"tokens"});
    if (const toml::array* tokens = common::GetTableArray(r, *auth, "auth", "tokens")) {
      std::set<std::string> principals, hashes;
      std::size_t i = 0;
      for (const toml::node& e : *tokens) {
        const toml::table& t = *e.as_table();
        const std::string prefix = fmt::format("auth.tokens[{}]", i++);
        CheckKeys(r, t, prefix, {"principal", "role", "sha256", "client_cn"});
        TokenGrant g;
        if (!String(r, t, prefix, "principal", g.principal) || g.principal.empty() ||
            g.principal.size() > 128)
          r.Fail(prefix + ".principal", &t, "required: 1..128 characters (the actor's name)");
        if (g.principal == "system" || g.principal == "rules")
          r.Fail(prefix + ".principal", t.get("principal"),
                 "'system' and 'rules' are reserved actor names");
        std::string role;
        String(r, t, prefix, "role", role);
        if (role == "subscriber")
          g.role = Role::kSubscriber;
        else if (role == "operator")
          g.role = Role::kOperator;
        else if (role == "admin")
          g.role = Role::kAdmin;
        else
          r.Fail(prefix + ".role", t.get("role") ? t.get("role") : &t,
                 fmt::format("'{}': expected subscriber, operator or admin", role));
        if (!String(r, t, prefix, "sha256", g.sha256_hex) || !IsHex64(g.sha256_hex))
          r.Fail(prefix + ".sha256", t.get("sha256") ? t.get("sha256") : &t,
                 "expected the 64 hex digits of SHA-256(token), e.g. from "
                 "`printf %s \"$TOKEN\" | sha256sum`");
        String(r, t, prefix, "client_cn", g.client_cn);
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

  const toml::table* store = GetTable(r, root, "", "store");
  if (store == nullptr) r.Fail("store", nullptr, "required: [store] path");
  CheckKeys(r, *store, "store", {"path", "retention", "synchronous_full"});
  std::string sp;
  if (!String(r, *store, "store", "path", sp) || sp.empty())
    r.Fail("store.path", store, "required: the SQLite database file");
  c.store_path = r.Resolve(sp);
  Dur(r, *store, "store", "retention", std::chrono::minutes(1), c.store.retention);
  if (auto v = GetBool(r, *store, "store", "synchronous_full")) c.store.synchronous_full = *v;

  if (const toml::table* cap = GetTable(r, root, "", "cap")) {
    CheckKeys(r, *cap, "cap",
              {"sender", "sender_name_de", "sender_name_en", "web", "contact", "utc_offset_minutes",
               "default_validity"});
    if (String(r, *cap, "cap", "sender", c.cap.sender)) {
      if (c.cap.sender.empty() || c.cap.sender.find_first_of(" ,<&\t\n") != std::string::npos)
        r.Fail("cap.sender", cap->get("sender"),
               "must be non-empty without spaces, commas, '<' or '&' (CAP 1.2)");
    }
    String(r, *cap, "cap", "sender_name_de", c.cap.sender_name_de);
    String(r, *cap, "cap", "sender_name_en", c.cap.sender_name_en);
    String(r, *cap, "cap", "web", c.cap.web);
    String(r, *cap, "cap", "contact", c.cap.contact);
    if (auto off = GetInteger(r, *cap, "cap", "utc_offset_minutes", -14 * 60, 14 * 60))
      c.cap.utc_offset_minutes = static_cast<int>(*off);
    Dur(r, *cap, "cap", "default_validity", std::chrono::minutes(1), c.cap.default_validity);
  }
  return c;
}

}  // namespace floodwarn::alerting
