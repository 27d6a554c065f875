// Channel configuration ([[channels]] of the service config), routing, the
// retry loop shared by every adapter, and the channel metrics.
#include "floodwarn/alerting/channels.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "channel_internal.hpp"
#include "floodwarn/common/toml_reader.hpp"

namespace floodwarn::alerting {

const char* ToString(ChannelType t) {
  switch (t) {
    case ChannelType::kSiren:
      return "siren";
    case ChannelType::kCellBroadcast:
      return "cell_broadcast";
    case ChannelType::kWebhook:
      return "webhook";
  }
  return "?";
}

const char* ToString(DeliveryResult r) {
  switch (r) {
    case DeliveryResult::kDelivered:
      return "delivered";
    case DeliveryResult::kDuplicate:
      return "duplicate";
    case DeliveryResult::kRejected:
      return "rejected";
    case DeliveryResult::kStopped:
      return "stopped";
  }
  return "?";
}

std::vector<EventKind> DefaultEventKinds(ChannelType t) {
  switch (t) {
    case ChannelType::kSiren:
    case ChannelType::kCellBroadcast:
      return {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved};
    case ChannelType::kWebhook:
      return {EventKind::kRaised, EventKind::kUpdated, EventKind::kResolved,
              EventKind::kAcknowledged};
  }
  return {};
}

// --- config ----------------------------------------------------------------------

namespace {

// The TOML reader every config shares (floodwarn/common/toml_reader.hpp):
// errors are common::ConfigError "FILE:LINE: KEY: what was expected".
using ConfigReader = common::TomlContext<common::ConfigError>;
using common::GetBool;
using common::GetInteger;
using common::GetString;
using common::GetStringArray;

// A number of seconds in [lo, hi] (the *_s keys) as a Duration.
std::optional<Duration> Seconds(const ConfigReader& r, const toml::table& t, const std::string& p,
                                const char* key, double lo, double hi) {
  const auto v = common::GetNumberIn(r, t, p, key, lo, hi);
  if (!v) return std::nullopt;
  return Duration(static_cast<std::int64_t>(std::llround(*v * 1000.0)));
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::optional<EventKind> ParseEventKind(const std::string& s) {
  static const std::pair<const char*, EventKind> kKinds[] = {
      {"raised", EventKind::kRaised},
      {"updated", EventKind::kUpdated},
      {"resolved", EventKind::kResolved},
      {"acknowledged", EventKind::kAcknowledged},
      {"escalated", EventKind::kEscalated},
      {"suppressed", EventKind::kSuppressed},
      {"unsuppressed", EventKind::kUnsuppressed},
      {"silence_changed", EventKind::kSilenceChanged},
      {"pending", EventKind::kPending},
  };
  for (const auto& [name, kind] : kKinds)
    if (s == name) return kind;
  return std::nullopt;
}

ChannelConfig ParseEntry(const ConfigReader& r, const toml::table& t, std::size_t index) {
  const std::string where = fmt::format("channels[{}]", index);
  ChannelConfig c;

  // Type first: it decides which keys are allowed and the defaults.
  const auto type_value = GetString(r, t, where, "type");
  if (!type_value) r.Fail(where + ".type", &t, "missing (siren, cell_broadcast or webhook)");
  const std::string type = *type_value;
  if (type == "siren") {
    c.type = ChannelType::kSiren;
    c.min_level = 3;
  } else if (type == "cell_broadcast") {
    c.type = ChannelType::kCellBroadcast;
    c.min_level = 2;
  } else if (type == "webhook") {
    c.type = ChannelType::kWebhook;
    c.min_level = 1;
  } else {
    r.Fail(where + ".type", t.get("type"),
           fmt::format("unknown type '{}' (expected siren, cell_broadcast or webhook)", type));
  }

  static const char* kCommon[] = {"name",
                                  "type",
                                  "url",
                                  "event_kinds",
                                  "min_level",
                                  "areas",
                                  "modes",
                                  "escalation_only",
                                  "start_from",
                                  "ca_file",
                                  "auth_header_env",
                                  "connect_timeout_s",
                                  "request_timeout_s",
                                  "initial_backoff_s",
                                  "max_backoff_s",
                                  "backoff_multiplier",
                                  "jitter"};
  static const char* kSiren[] = {"siren_groups", "exercise_siren"};
  static const char* kCb[] = {"max_pages"};
  static const char* kWebhook[] = {"format"};
  auto in = [](const std::string& k, const auto& list) {
    return std::any_of(std::begin(list), std::end(list), [&](const char* s) { return k == s; });
  };
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (in(key, kCommon)) continue;
    const bool siren_key = in(key, kSiren), cb_key = in(key, kCb), hook_key = in(key, kWebhook);
    if (!siren_key && !cb_key && !hook_key) r.Fail(where + "." + key, &v, "unknown key");
    if ((siren_key && c.type != ChannelType::kSiren) ||
        (cb_key && c.type != ChannelType::kCellBroadcast) ||
        (hook_key && c.type != ChannelType::kWebhook)) {
      r.Fail(where + "." + key, &v, fmt::format("not a key of a '{}' channel", type));
    }
  }

  if (auto name = GetString(r, t, where, "name")) {
    c.name = *name;
    if (!ValidName(c.name))
      r.Fail(where + ".name", t.get("name"), "expected 1..64 of [A-Za-z0-9_-]");
  } else {
    r.Fail(where + ".name", &t, "missing");
  }
  const std::string p = "channels." + c.name;

  if (auto url = GetString(r, t, p, "url")) {
    c.url = *url;
    if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      r.Fail(p + ".url", t.get("url"), "expected an http:// or https:// URL");
  } else {
    r.Fail(p + ".url", &t, "missing");
  }
  if (auto kinds = GetStringArray(r, t, p, "event_kinds")) {
    const toml::node* n = t.get("event_kinds");
    for (const auto& s : *kinds) {
      auto k = ParseEventKind(s);
      if (!k)
        r.Fail(p + ".event_kinds", n,
               fmt::format("unknown event kind '{}' (raised, updated, resolved, acknowledged, "
                           "escalated, suppressed, unsuppressed, silence_changed, pending)",
                           s));
      if (c.type != ChannelType::kWebhook && *k != EventKind::kRaised &&
          *k != EventKind::kUpdated && *k != EventKind::kResolved)
        r.Fail(p + ".event_kinds", n,
               fmt::format("a {} channel acts on raised, updated and resolved only, not '{}'", type,
                           s));
      c.event_kinds.push_back(*k);
    }
  }
  if (auto v = GetInteger(r, t, p, "min_level", 0, 4)) c.min_level = static_cast<int>(*v);
  if (auto v = GetStringArray(r, t, p, "areas")) c.areas = std::move(*v);
  if (auto modes = GetStringArray(r, t, p, "modes")) {
    for (const auto& s : *modes) {
      if (s == "actual")
        c.modes.push_back(Mode::kActual);
      else if (s == "exercise")
        c.modes.push_back(Mode::kExercise);
      else if (s == "test")
        c.modes.push_back(Mode::kTest);
      else
        r.Fail(p + ".modes", t.get("modes"),
               fmt::format("unknown mode '{}' (actual, exercise, test)", s));
    }
  }
  if (auto v = GetBool(r, t, p, "escalation_only")) {
    const toml::node* n = t.get("escalation_only");
    c.escalation_only = *v;
    if (c.escalation_only && c.type != ChannelType::kWebhook)
      r.Fail(p + ".escalation_only", n,
             "only a webhook channel (format json) can be an escalation channel");
    if (c.escalation_only && t.get("event_kinds") != nullptr)
      r.Fail(p + ".escalation_only", n,
             "an escalation channel receives escalated events only; drop event_kinds");
  }
  if (auto s = GetString(r, t, p, "start_from")) {
    if (*s == "now")
      c.start_from = StartFrom::kNow;
    else if (*s == "beginning")
      c.start_from = StartFrom::kBeginning;
    else
      r.Fail(p + ".start_from", t.get("start_from"), "expected \"now\" or \"beginning\"");
  }
  if (auto v = GetString(r, t, p, "ca_file")) c.ca_file = *v;
  if (auto v = GetString(r, t, p, "auth_header_env")) {
    c.auth_header_env = *v;
    if (std::getenv(c.auth_header_env.c_str()) == nullptr)
      r.Fail(p + ".auth_header_env", t.get("auth_header_env"),
             fmt::format("environment variable '{}' is not set", c.auth_header_env));
  }
  if (auto d = Seconds(r, t, p, "connect_timeout_s", 0.01, 600)) c.retry.connect_timeout = *d;
  if (auto d = Seconds(r, t, p, "request_timeout_s", 0.01, 600)) c.retry.request_timeout = *d;
  if (auto d = Seconds(r, t, p, "initial_backoff_s", 0.001, 3600)) c.retry.initial_backoff = *d;
  if (auto d = Seconds(r, t, p, "max_backoff_s", 0.001, 3600)) c.retry.max_backoff = *d;
  if (c.retry.max_backoff < c.retry.initial_backoff)
    r.Fail(p + ".max_backoff_s", t.get("max_backoff_s"), "must be >= initial_backoff_s");
  if (auto v = common::GetNumberIn(r, t, p, "backoff_multiplier", 1.0, 10.0))
    c.retry.multiplier = *v;
  if (auto v = common::GetNumberIn(r, t, p, "jitter", 0.0, 0.9)) c.retry.jitter = *v;

  if (const auto* n = t.get("siren_groups")) {
    const auto* g = n->as_table();
    if (g == nullptr)
      r.Fail(p + ".siren_groups", n, "expected a table: area id = [\"group\", ...]");
    for (const auto& [area, groups] : *g) {
      const std::string a(area.str());
      auto list = *GetStringArray(r, *g, p + ".siren_groups", a.c_str());
      if (list.empty())
        r.Fail(p + ".siren_groups." + a, &groups, "expected at least one siren group");
      c.siren_groups[a] = std::move(list);
    }
  }
  if (c.type == ChannelType::kSiren && c.siren_groups.empty())
    r.Fail(p + ".siren_groups", &t, "missing: a siren channel needs area id = [groups]");
  if (auto s = GetString(r, t, p, "exercise_siren")) {
    if (*s == "marker")
      c.exercise_siren = ExerciseSiren::kMarker;
    else if (*s == "real")
      c.exercise_siren = ExerciseSiren::kReal;
    else if (*s == "none")
      c.exercise_siren = ExerciseSiren::kNone;
    else
      r.Fail(p + ".exercise_siren", t.get("exercise_siren"),
             "expected \"marker\", \"real\" or \"none\"");
  }
  if (auto v = GetInteger(r, t, p, "max_pages", 1, 15)) c.max_pages = static_cast<int>(*v);
  if (auto s = GetString(r, t, p, "format")) {
    const toml::node* n = t.get("format");
    if (*s == "json")
      c.format = WebhookFormat::kJson;
    else if (*s == "cap")
      c.format = WebhookFormat::kCap;
    else
      r.Fail(p + ".format", n, "expected \"json\" or \"cap\"");
    if (c.escalation_only && c.format == WebhookFormat::kCap)
      r.Fail(p + ".format", n, "an escalation channel posts json (escalations carry no CAP)");
  }
  return c;
}

}  // namespace

std::vector<ChannelConfig> ParseChannelsConfig(const common::TomlFile& file) {
  const ConfigReader r(file);
  std::vector<ChannelConfig> out;
  const toml::array* arr = common::GetTableArray(r, file.root, "", "channels");
  if (arr == nullptr) return out;
  std::size_t i = 0;
  for (const auto& e : *arr) {
    auto c = ParseEntry(r, *e.as_table(), i);
    for (const auto& other : out)
      if (other.name == c.name)
        r.Fail("channels." + c.name + ".name", e.as_table()->get("name"), "duplicate channel name");
    out.push_back(std::move(c));
    ++i;
  }
  return out;
}

std::vector<ChannelConfig> ParseChannelsConfig(std::string_view toml_text,
                                               const std::string& source) {
  return ParseChannelsConfig(common::ParseTomlText(toml_text, source));
}

std::vector<ChannelConfig> LoadChannelsConfig(const std::string& path) {
  return ParseChannelsConfig(common::ReadTomlFile(path, "service config"));
}

std::string CheckEscalationChannel(const std::vector<ChannelConfig>& channels,
                                   const std::string& escalation_channel, bool escalation_enabled) {
  if (!escalation_enabled) return "";
  for (const auto& c : channels) {
    if (c.name != escalation_channel) continue;
    if (!c.escalation_only)
      return fmt::format(
          "channel '{}' is the escalation channel ([engine] escalation_channel) but lacks "
          "escalation_only = true",
          c.name);
    return "";
  }
  std::string names;
  for (const auto& c : channels)
    if (c.escalation_only) names += (names.empty() ? "" : ", ") + c.name;
  return fmt::format(
      "[engine] escalation_channel = \"{}\" names no [[channels]] entry{}: escalations would "
      "reach nobody",
      escalation_channel, names.empty() ? "" : " (escalation channels: " + names + ")");
}

std::vector<std::string> CheckChannelAreas(const std::vector<ChannelConfig>& channels,
                                           const std::vector<std::string>& area_ids) {
  std::vector<std::string> problems;
  auto known = [&](const std::string& id) {
    return std::find(area_ids.begin(), area_ids.end(), id) != area_ids.end();
  };
  for (const auto& c : channels) {
    for (const auto& id : c.areas)
      if (!known(id))
        problems.push_back(fmt::format(
            "channels.{}.areas: '{}' is not a configured area ([[areas]])", c.name, id));
    for (const auto& [id, groups] : c.siren_groups)
      if (!known(id))
        problems.push_back(fmt::format(
            "channels.{}.siren_groups: '{}' is not a configured area ([[areas]])", c.name, id));
  }
  return problems;
}

bool IsPublicChannel(ChannelType type) {
  return type == ChannelType::kSiren || type == ChannelType::kCellBroadcast;
}

bool IsOperational(const Alert& alert) {
  return alert.kind == RuleKind::kSensorOutage || alert.kind == RuleKind::kForecastOutage;
}

bool Routes(const ChannelConfig& c, const AlertEvent& e) {
  // Before every other filter: no min_level, kind list or mode lets a dead
  // gauge reach a siren or a phone (NOTES-alerting-ingest.md §6.1).
  if (IsPublicChannel(c.type) && IsOperational(e.alert)) return false;
  if (c.escalation_only) {
    if (e.kind != EventKind::kEscalated) return false;
    // The engine names the escalation channel in the note ("channel=NAME ...",
    // [engine] escalation_channel); an escalation meant for another channel
    // is not ours. A note without the token goes to every escalation channel.
    const auto at = e.note.find("channel=");
    if (at != std::string::npos && (at == 0 || e.note[at - 1] == ' ')) {
      const auto begin = at + 8;
      const auto end = e.note.find(' ', begin);
      if (e.note.substr(begin, end == std::string::npos ? end : end - begin) != c.name)
        return false;
    }
  } else {
    const auto& kinds = c.event_kinds.empty() ? DefaultEventKinds(c.type) : c.event_kinds;
    if (std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end()) return false;
  }
  if (e.kind != EventKind::kResolved && e.alert.level < c.min_level) return false;
  if (!c.areas.empty() &&
      std::find(c.areas.begin(), c.areas.end(), e.alert.area.id) == c.areas.end())
    return false;
  if (!c.modes.empty() && std::find(c.modes.begin(), c.modes.end(), e.alert.mode) == c.modes.end())
    return false;
  return true;
}

// --- metrics -------------------------------------------------------------------

ChannelMetrics::ChannelMetrics(prometheus::Registry* registry, const std::string& channel)
    : registry_(registry), channel_(channel) {
  if (registry_ == nullptr) return;
  deliveries_ =
      &prometheus::BuildCounter()
           .Name("floodwarn_channel_deliveries_total")
           .Help("Channel deliveries by outcome (delivered, duplicate, skipped, rejected)")
           .Register(*registry_);
  failures_ = &prometheus::BuildCounter()
                   .Name("floodwarn_channel_failures_total")
                   .Help("Failed channel delivery attempts and undeliverable events")
                   .Register(*registry_)
                   .Add({{"channel", channel_}});
  lag_ = &prometheus::BuildGauge()
              .Name("floodwarn_channel_lag_events")
              .Help("Outbox events committed but not yet processed by the channel")
              .Register(*registry_)
              .Add({{"channel", channel_}});
}

void ChannelMetrics::Delivery(const char* result) {
  if (deliveries_ != nullptr)
    deliveries_->Add({{"channel", channel_}, {"result", result}}).Increment();
}
void ChannelMetrics::Failure() {
  if (failures_ != nullptr) failures_->Increment();
}
void ChannelMetrics::Lag(double events) {
  if (lag_ != nullptr) lag_->Set(events);
}

// --- Channel: the retry loop -----------------------------------------------------

Channel::Channel(ChannelConfig config) : config_(std::move(config)) {
  if (!config_.auth_header_env.empty()) {
    const char* v = std::getenv(config_.auth_header_env.c_str());
    if (v != nullptr) auth_header_ = v;
  }
}

Channel::~Channel() = default;

void Channel::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
}

bool Channel::SleepFor(Duration d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

namespace {

bool Transient(long status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

}  // namespace

DeliveryOutcome Channel::Deliver(const Delivery& d) {
  std::vector<std::string> headers = {
      "Content-Type: " + d.content_type,
      "Idempotency-Key: " + d.idempotency_key,
      "User-Agent: floodwarn",
      fmt::format("X-Floodwarn-Sequence: {}", d.event.sequence),
      "Expect:",  // no 100-continue round trip
  };
  if (!auth_header_.empty()) headers.push_back("Authorization: " + auth_header_);

  thread_local std::mt19937_64 rng{std::random_device{}()};
  DeliveryOutcome out;
  double backoff_ms = static_cast<double>(config_.retry.initial_backoff.count());
  const double max_ms = static_cast<double>(config_.retry.max_backoff.count());
  while (!stop_.load()) {
    ++out.attempts;
    const HttpResult r =
        HttpPost(config_.url, headers, d.body, config_.retry, config_.ca_file, &stop_);
    if (r.status >= 200 && r.status < 300) {
      out.last_status = r.status;
      out.result = DeliveryResult::kDelivered;
      return out;
    }
    if (r.status == 409) {
      // The receiver already holds this idempotency key (CHANNELS.md).
      out.last_status = r.status;
      out.result = DeliveryResult::kDuplicate;
      return out;
    }
    // Aborted by Stop(): not a gateway failure; last_status / last_error keep
    // describing the last real failure.
    if (stop_.load()) break;
    out.last_status = r.status;
    out.last_error = r.status == 0 ? r.error : fmt::format("HTTP {}", r.status);
    if (metrics_) metrics_->Failure();
    if (!Transient(r.status)) {
      spdlog::error(
          "event=channel_rejected channel={} key={} status={} attempts={} {} (not retried)",
          config_.name, d.idempotency_key, r.status, out.attempts, d.summary);
      out.result = DeliveryResult::kRejected;
      return out;
    }
    std::uniform_real_distribution<double> jitter(1.0 - config_.retry.jitter,
                                                  1.0 + config_.retry.jitter);
    double wait_ms = std::min(backoff_ms, max_ms) * jitter(rng);
    if (r.retry_after.count() > 0)
      wait_ms = std::min(max_ms, std::max(wait_ms, static_cast<double>(r.retry_after.count())));
    spdlog::warn("event=channel_retry channel={} key={} attempt={} error=\"{}\" retry_in_ms={:.0f}",
                 config_.name, d.idempotency_key, out.attempts, out.last_error, wait_ms);
    if (!SleepFor(Duration(static_cast<std::int64_t>(wait_ms)))) break;
    backoff_ms = std::min(max_ms, backoff_ms * config_.retry.multiplier);
  }
  out.result = DeliveryResult::kStopped;
  return out;
}

std::unique_ptr<Channel> MakeChannel(const ChannelConfig& config) {
  switch (config.type) {
    case ChannelType::kSiren:
      return std::make_unique<SirenAdapter>(config);
    case ChannelType::kCellBroadcast:
      return std::make_unique<CellBroadcastAdapter>(config);
    case ChannelType::kWebhook:
      return std::make_unique<WebhookAdapter>(config);
  }
  return nullptr;
}

}  // namespace floodwarn::alerting
