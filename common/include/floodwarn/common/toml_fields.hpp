// Reading TOML configs field by field with errors that name the file, the
// line and the key ("rules.toml:12: rules[0].window: expected a duration").
// One copy for every config reader (scenario, rules, stations): each keeps
// its own context class, which only has to provide
//   [[noreturn]] void Fail(const std::string& key, const toml::node* node,
//                          const std::string& what) const;
// (FileContext<Error> below is the plain one).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include <toml++/toml.h>

namespace floodwarn::toml_fields {

// Throws Error("FILE:LINE: KEY: WHAT"), or "FILE: KEY: WHAT" when the node
// has no source position (a missing key is reported at its table).
template <typename Error>
class FileContext {
 public:
  explicit FileContext(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void Fail(const std::string& key, const toml::node* node,
                         const std::string& what) const {
    if (node != nullptr && node->source().begin.line > 0)
      throw Error(fmt::format("{}:{}: {}: {}", file_, node->source().begin.line, key, what));
    throw Error(fmt::format("{}: {}: {}", file_, key, what));
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
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
                     [&](const char* a) { return key == a; })) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
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
    if (required) ctx.Fail(Join(prefix, key), &parent, "missing required table");
    return nullptr;
  }
  if (!n->is_table())
    ctx.Fail(Join(prefix, key), n,
             fmt::format("expected a table ([{}]), got {}", Join(prefix, key), TypeName(*n)));
  return n->as_table();
}

// The array of tables at `key` ([[key]] sections or key = [{...}, ...]), or
// nullptr when absent.
template <typename Ctx>
const toml::array* GetTableArray(const Ctx& ctx, const toml::table& parent,
                                 const std::string& prefix, const char* key) {
  const toml::node* n = parent.get(key);
  if (n == nullptr) return nullptr;
  const toml::array* a = n->as_array();
  if (a == nullptr || !a->is_array_of_tables())
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
  if (!v) ctx.Fail(Join(prefix, key), &t, "missing required key (a number)");
  return *v;
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
    ctx.Fail(Join(prefix, key), &t, "missing required key (a non-empty string)");
  return *v;
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

}  // namespace floodwarn::toml_fields
