// Reading TOML configs with errors that name the file, the line and the key
// ("rules.toml:12: rules[0].window: expected a duration ..."): the one reader
// of every floodwarn config (scenario, rules, stations, service, channels,
// ingest). A file is parsed once (ReadTomlFile / ParseTomlText) into a
// TomlFile; a TomlContext<Error> carries the file name for the messages and
// throws Error; the field readers below take any context class with
//   [[noreturn]] void Fail(const std::string& key, const toml::node* node,
//                          const std::string& what) const;
// Keys are named as dotted paths ("rules[2].levels[0].rising"); unknown keys
// are errors everywhere (a typo in a warning system must not pass silently).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "floodwarn/common/config_error.hpp"
#include "floodwarn/common/duration.hpp"

namespace floodwarn::common {

// A config file parsed once: the name messages use, the folder its relative
// paths are relative to, and the TOML. Hand the tables to the readers of its
// sections instead of parsing the file again.
struct TomlFile {
  std::string path;
  std::string base_dir;
  toml::table root;
};

// Throws Error with the message "FILE:LINE: [CONTEXT: ]KEY: DETAIL": an Error
// derived from ConfigError gets the fields, any other (std::runtime_error
// style) the message.
template <typename Error>
[[noreturn]] void ThrowConfigError(const std::string& file, int line, const std::string& key,
                                   const std::string& detail, const std::string& context = {}) {
  if constexpr (std::is_base_of_v<ConfigError, Error>) {
    throw Error(file, line, key, detail, context);
  } else {
    throw Error(ConfigError::Format(file, line, key, detail, context));
  }
}

// TOML text; `source` names it in messages; `base_dir` resolves relative
// paths (default: the folder of `source`). Throws Error
// "SOURCE:LINE: TOML syntax error: ...".
template <typename Error = ConfigError>
TomlFile ParseTomlText(std::string_view text, const std::string& source,
                       std::string base_dir = {}) {
  TomlFile f;
  f.path = source;
  f.base_dir =
      base_dir.empty() ? std::filesystem::path(source).parent_path().string() : std::move(base_dir);
  try {
    f.root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    ThrowConfigError<Error>(source, static_cast<int>(e.source().begin.line), "",
                            fmt::format("TOML syntax error: {}", e.description()));
  }
  return f;
}

// The file at `path`; `what` names it when it cannot be read ("FILE: cannot
// open the rules file: No such file or directory"). Throws Error.
template <typename Error = ConfigError>
TomlFile ReadTomlFile(const std::string& path, const char* what = "config file") {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw Error(fmt::format("{}: cannot open the {}: {}", path, what,
                            err != 0 ? std::strerror(err) : "cannot read it"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseTomlText<Error>(text.str(), path);
}

// The context of one config file: names it in messages (and, optionally, the
// part being read, e.g. "station 'kyll-01'") and resolves its relative paths.
template <typename Error = ConfigError>
class TomlContext {
 public:
  // `base_dir` default: the folder of `file`.
  explicit TomlContext(std::string file, std::string base_dir = {})
      : file_(std::move(file)),
        base_dir_(base_dir.empty() ? std::filesystem::path(file_).parent_path().string()
                                   : std::move(base_dir)) {}
  explicit TomlContext(const TomlFile& f) : TomlContext(f.path, f.base_dir) {}

  // Throws Error("FILE:LINE: [CONTEXT: ]KEY: WHAT"), or "FILE: ..." when the
  // node has no source position (a missing key is reported at its table).
  [[noreturn]] void Fail(const std::string& key, const toml::node* node,
                         const std::string& what) const {
    const int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 0;
    ThrowConfigError<Error>(file_, line, key, what, context_);
  }

  // Named in every later message, between the line and the key ("" = none).
  void SetContext(std::string context) { context_ = std::move(context); }

  const std::string& file() const { return file_; }
  const std::string& base_dir() const { return base_dir_; }

  // A path from the config: relative ones are relative to base_dir(); ""
  // stays "".
  std::string Resolve(const std::string& p) const {
    if (p.empty()) return p;
    const std::filesystem::path path(p);
    if (path.is_absolute() || base_dir_.empty()) return path.lexically_normal().string();
    return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
  }

 private:
  std::string file_;
  std::string base_dir_;
  std::string context_;
};

// "a.b" (or "b" at the top level): the key as the messages name it.
inline std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// "a table", "an integer", ... for "expected X, got Y".
inline const char* TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

// Unknown keys are errors (a typo must not silently fall back to a default).
template <typename Ctx, typename Allowed>
void CheckKeys(const Ctx& ctx, const toml::table& t, const std::string& prefix,
               const Allowed& allowed) {
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (std::none_of(std::begin(allowed), std::end(allowed),
                     [&](const auto& a) { return key == a; })) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      ctx.Fail(Join(prefix, key), &v, fmt::format("unknown key (expected one of: {})", list));
    }
  }
}
template <typename Ctx>
void CheckKeys(const Ctx& ctx, const toml::table& t, const std::string& prefix,
               std::initializer_list<const char*> allowed) {
  CheckKeys<Ctx, std::initializer_list<const char*>>(ctx, t, prefix, allowed);
}

// The table at `key`, or nullptr when absent (an error when `required`).
template <typename Ctx>
const toml::table* GetTable(const Ctx& ctx, const toml::table& parent, const std::string& prefix,
                            const char* key, bool required = false) {
  const toml::node* n = parent.get(key);
  if (n == nullptr) {
    if (required) ctx.Fail(Join(prefix, key), &parent, "required table is missing");
    return nullptr;
  }
  if (!n->is_table())
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected a table ([{}]), got {}", Join(prefix, key), TypeName(*n)));
  return n->as_table();
}

// The array of tables at `key` ([[key]] sections or key = [{...}, ...]), or
// nullptr when absent. An empty array (key = []) is an error unless
// `allow_empty`.
template <typename Ctx>
const toml::array* GetTableArray(const Ctx& ctx, const toml::table& parent,
                                 const std::string& prefix, const char* key,
                                 bool allow_empty = false) {
  const toml::node* n = parent.get(key);
  if (n == nullptr) return nullptr;
  const toml::array* a = n->as_array();
  if (a == nullptr || !(a->is_array_of_tables() || (allow_empty && a->empty())))
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected an array of tables ([[{}]] sections or [{{...}}, ...]), got {}",
                         Join(prefix, key), TypeName(*n)));
  return a;
}

template <typename Ctx>
double AsNumber(const Ctx& ctx, const toml::node& n, const std::string& key) {
  const auto v = n.value<double>();
  if (!n.is_number() || !v)
    ctx.Fail(key, &n, fmt::format("expected a number, got {}", TypeName(n)));
  if (!std::isfinite(*v)) ctx.Fail(key, &n, "expected a finite number");
  return *v;
}

template <typename Ctx>
std::optional<double> GetNumber(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                                const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  return AsNumber(ctx, *n, Join(prefix, key));
}

template <typename Ctx>
double RequireNumber(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                     const char* key) {
  auto v = GetNumber(ctx, t, prefix, key);
  if (!v) ctx.Fail(Join(prefix, key), &t, "required key is missing (a number)");
  return *v;
}

// A number (integer or floating point) in [lo, hi].
template <typename Ctx>
std::optional<double> GetNumberIn(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                                  const char* key, double lo, double hi) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const auto v = n->value<double>();
  if (!n->is_number() || !v || !(*v >= lo && *v <= hi))
    ctx.Fail(Join(prefix, key), n, fmt::format("expected a number {}..{}", lo, hi));
  return *v;
}

// An integer in [lo, hi].
template <typename Ctx>
std::optional<std::int64_t> GetInteger(const Ctx& ctx, const toml::table& t,
                                       const std::string& prefix, const char* key, std::int64_t lo,
                                       std::int64_t hi) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer())
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected an integer {}..{}, got {}", lo, hi, TypeName(*n)));
  const std::int64_t v = *n->value<std::int64_t>();
  if (v < lo || v > hi)
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected an integer {}..{}, got {} (out of range)", lo, hi, v));
  return v;
}

template <typename Ctx>
std::optional<std::string> GetString(const Ctx& ctx, const toml::table& t,
                                     const std::string& prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string())
    ctx.Fail(Join(prefix, key), n, fmt::format("expected a string, got {}", TypeName(*n)));
  return std::string(n->as_string()->get());
}

// A string that must be present and not empty.
template <typename Ctx>
std::string RequireString(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                          const char* key) {
  auto v = GetString(ctx, t, prefix, key);
  if (!v || v->empty())
    ctx.Fail(Join(prefix, key), v ? t.get(key) : &t,
             "required key is missing (a non-empty string)");
  return *v;
}

// An array of strings (possibly empty; "" allowed), or nullopt when absent.
template <typename Ctx>
std::optional<std::vector<std::string>> GetStringArray(const Ctx& ctx, const toml::table& t,
                                                       const std::string& prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const toml::array* a = n->as_array();
  if (a == nullptr)
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected an array of strings, got {}", TypeName(*n)));
  std::vector<std::string> out;
  for (const toml::node& e : *a) {
    if (!e.is_string())
      ctx.Fail(Join(prefix, key), &e,
               fmt::format("expected an array of strings, got {} in it", TypeName(e)));
    out.emplace_back(e.as_string()->get());
  }
  return out;
}

template <typename Ctx>
std::optional<bool> GetBool(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                            const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_boolean())
    ctx.Fail(Join(prefix, key), n, fmt::format("expected true or false, got {}", TypeName(*n)));
  return n->value<bool>();
}

// A duration string in the one grammar of duration.hpp ("90s", "15m",
// "15min", "1h30m", "2d"), at least `min` (a `min` of 1 ms: "positive") and a
// whole multiple of `step` (1 s: "whole seconds"). nullopt when absent.
template <typename Ctx>
std::optional<std::chrono::milliseconds> GetDuration(
    const Ctx& ctx, const toml::table& t, const std::string& prefix, const char* key,
    std::chrono::milliseconds min = std::chrono::milliseconds(0),
    std::chrono::milliseconds step = std::chrono::milliseconds(1)) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const std::string k = Join(prefix, key);
  if (!n->is_string()) {
    if (n->is_number())
      ctx.Fail(k, n,
               fmt::format("expected a duration string such as {}, got a number (a duration "
                           "needs its unit, e.g. \"{}s\")",
                           kDurationExamples, n->value<double>().value_or(0)));
    ctx.Fail(k, n,
             fmt::format("expected a duration string such as {}, got {}", kDurationExamples,
                         TypeName(*n)));
  }
  const std::string text(n->as_string()->get());
  std::string why;
  const auto d = ParseDuration(text, &why);
  if (!d)
    ctx.Fail(k, n,
             fmt::format("expected a duration such as {}, got \"{}\": {}", kDurationExamples, text,
                         why));
  if (*d < min) {
    if (min <= std::chrono::milliseconds(1)) ctx.Fail(k, n, "expected a positive duration");
    ctx.Fail(k, n, fmt::format("\"{}\" is shorter than the minimum {}", text, FormatDuration(min)));
  }
  if (step > std::chrono::milliseconds(1) && *d % step != std::chrono::milliseconds(0))
    ctx.Fail(k, n, fmt::format("\"{}\" is not a whole multiple of {}", text, FormatDuration(step)));
  return d;
}

}  // namespace floodwarn::common
