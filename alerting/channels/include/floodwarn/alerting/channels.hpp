// Channel adapters: siren groups, EU-Alert/DE-Alert cell broadcast and
// webhooks, behind one interface, each delivering over HTTP with retry,
// exponential backoff with jitter and an idempotency key; and one dispatcher
// per channel that follows the store's outbox from the channel's durable
// cursor. Policy and message formats: docs/alerting/CHANNELS.md.
//
// Real gateways (a siren controller, a cell broadcast centre) are reached
// through a configurable HTTP(S) URL that accepts the JSON documents
// described in CHANNELS.md; the same adapters run against a local receiver
// in the tests.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "floodwarn/alerting/store.hpp"
#include "floodwarn/alerting/types.hpp"

namespace floodwarn::common {
struct TomlFile;  // floodwarn/common/toml_reader.hpp
}  // namespace floodwarn::common

namespace prometheus {
class Registry;
}

namespace floodwarn::alerting {

enum class ChannelType : std::uint8_t { kSiren, kCellBroadcast, kWebhook };
const char* ToString(ChannelType t);

// Retry policy of one channel. Transient failures (5xx, 408, 429, timeouts,
// connection errors) are retried with exponential backoff and jitter up to
// max_backoff, then at max_backoff for as long as it takes (a warning must not
// be dropped because a gateway was down for five minutes); only Stop() ends
// the retries. Permanent failures (other 4xx) are not retried.
struct RetryPolicy {
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::seconds(60);
  double multiplier = 2.0;
  double jitter = 0.2;  // each wait is scaled by a random factor in [1-j, 1+j]
  Duration connect_timeout = std::chrono::seconds(5);
  Duration request_timeout = std::chrono::seconds(10);  // whole request incl. answer
};

// What an Exercise-mode alert does on a siren channel.
enum class ExerciseSiren : std::uint8_t {
  kMarker,  // default: send signal "exercise" (controller logs it, no real tone)
  kReal,    // announced full-scale drill: real warning / all-clear signals
  kNone,    // send nothing
};

enum class WebhookFormat : std::uint8_t { kJson, kCap };

enum class StartFrom : std::uint8_t {
  kNow,        // a new channel starts at the outbox's current end (default)
  kBeginning,  // a new channel delivers every retained event
};

// One [[channels]] entry of the service config, validated.
struct ChannelConfig {
  std::string name;  // [A-Za-z0-9_-]+, unique; names the cursor in the store
  ChannelType type = ChannelType::kWebhook;
  std::string url;  // http:// or https://

  // Routing. Empty lists mean "any". Resolved events pass min_level (their
  // level may be 0); the adapters decide whether an all-clear is due.
  std::vector<EventKind> event_kinds;  // empty: the type's default kinds
  Level min_level = 1;
  std::vector<std::string> areas;
  std::vector<Mode> modes;
  bool escalation_only = false;  // receives kEscalated events only (webhook json)
  StartFrom start_from = StartFrom::kNow;

  // Transport.
  RetryPolicy retry;
  std::string ca_file;          // extra CA bundle; TLS verification is always on
  std::string auth_header_env;  // env var holding the Authorization header value

  // Siren.
  std::map<std::string, std::vector<std::string>> siren_groups;  // area id -> groups
  ExerciseSiren exercise_siren = ExerciseSiren::kMarker;

  // Cell broadcast.
  int max_pages = 15;  // 1..15 CBS pages of 93 GSM-7 / 41 UCS-2 characters

  // Webhook.
  WebhookFormat format = WebhookFormat::kJson;
};

// Default event kinds of a channel type (used when event_kinds is empty).
std::vector<EventKind> DefaultEventKinds(ChannelType t);

// Reads the [[channels]] array of the service config at `path` (other
// top-level keys belong to other components and are ignored). Throws
// common::ConfigError (a std::runtime_error) naming the file, the key and its
// line on any problem, including unknown keys inside a channel entry.
std::vector<ChannelConfig> LoadChannelsConfig(const std::string& path);
// Same, from text (`source` names it in errors).
std::vector<ChannelConfig> ParseChannelsConfig(std::string_view toml_text,
                                               const std::string& source);
// Same, from the parsed service config (`floodwarn serve` parses it once).
std::vector<ChannelConfig> ParseChannelsConfig(const common::TomlFile& file);

// Start-up cross-check for `serve`: with escalation on, exactly the channel
// named by [engine] escalation_channel must exist and be escalation_only, or
// escalations would go nowhere without a word. Returns the problem, or "" when
// fine (`escalation_enabled` false: always fine).
std::string CheckEscalationChannel(const std::vector<ChannelConfig>& channels,
                                   const std::string& escalation_channel, bool escalation_enabled);

// Start-up cross-check for `serve`: every area id a channel names (`areas`,
// `siren_groups` keys) must be a configured area ([[areas]] of the rules
// file): a typo would silently keep a siren quiet. Returns the problems
// (each naming channel, key and id), empty when fine.
std::vector<std::string> CheckChannelAreas(const std::vector<ChannelConfig>& channels,
                                           const std::vector<std::string>& area_ids);

// Sirens and cell broadcast warn the public; webhooks reach people on duty
// (consoles, pagers, archives).
bool IsPublicChannel(ChannelType type);
// An operational alert (a sensor outage: a gauge that stopped reporting; a
// forecast outage: no usable forecast) is for the duty officer and
// maintenance, never for a public warning means: a dead gauge or a failed
// model run must not sound a siren or send a cell broadcast, at any level.
bool IsOperational(const Alert& alert);

// Routing filter of a channel: whether `event` is for this channel at all.
// Operational alerts never route to a public channel (IsPublicChannel).
bool Routes(const ChannelConfig& config, const AlertEvent& event);

// One message to one endpoint. The idempotency key is unique per channel and
// per intended effect (e.g. "one warning run for alert X at level 3"); it is
// sent as the Idempotency-Key header and recorded in the store once delivered.
struct Delivery {
  std::string idempotency_key;
  AlertEvent event;
  std::string content_type;
  std::string body;
  std::string summary;  // short key=value text for logs
};

enum class DeliveryResult : std::uint8_t {
  kDelivered,  // 2xx
  kDuplicate,  // 409: the receiver already has this idempotency key
  kRejected,   // permanent failure (4xx other than 408/409/429): not retried
  kStopped,    // Stop() was requested while retrying: not delivered
};
const char* ToString(DeliveryResult r);

struct DeliveryOutcome {
  DeliveryResult result = DeliveryResult::kStopped;
  int attempts = 0;
  long last_status = 0;    // HTTP status of the last attempt, 0 if none
  std::string last_error;  // transport error / status text of the last failure
  bool ok() const {
    return result == DeliveryResult::kDelivered || result == DeliveryResult::kDuplicate;
  }
};

// What a channel wants to send for one event.
struct Plan {
  std::vector<Delivery> deliveries;
  std::vector<std::string> problems;  // e.g. no polygon for a cell broadcast: dead letter
};

// Asks whether an idempotency key of this channel was already delivered
// (the dispatcher answers from AlertStore::WasDelivered).
using DeliveredLookup = std::function<bool(const std::string& key)>;

class ChannelMetrics;  // prometheus-cpp stays private (channels.cpp)

class Channel {
 public:
  explicit Channel(ChannelConfig config);
  virtual ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const ChannelConfig& config() const { return config_; }

  // What to send for `event` (already routed). Pure apart from `delivered`.
  virtual Plan PlanFor(const AlertEvent& event, const DeliveredLookup& delivered) const = 0;

  // POSTs one delivery, retrying transient failures per the RetryPolicy until
  // it is delivered, permanently rejected, or RequestStop() is called.
  virtual DeliveryOutcome Deliver(const Delivery& delivery);

  // Interrupts retries and backoff waits (Deliver returns kStopped).
  void RequestStop();
  bool stop_requested() const { return stop_.load(); }

  // Metrics (may be null): attempts that failed are counted here.
  void SetMetrics(std::shared_ptr<ChannelMetrics> metrics) { metrics_ = std::move(metrics); }

 protected:
  ChannelConfig config_;

 private:
  // Waits up to `d`; false when stopped.
  bool SleepFor(Duration d);
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::shared_ptr<ChannelMetrics> metrics_;
  std::string auth_header_;
};

// Siren groups (Sirenensteuerung): "warning" (1 min rising/falling tone) for a
// raise or upgrade at level >= min_level, "all_clear" (1 min steady tone) on
// resolve after a warning was sounded, "test" in Test mode (never a real
// warning), Exercise per exercise_siren. One warning run per (alert, level);
// no warning for a downgrade or a repeated event.
class SirenAdapter : public Channel {
 public:
  explicit SirenAdapter(ChannelConfig config);
  Plan PlanFor(const AlertEvent& event, const DeliveredLookup& delivered) const override;
};

// EU-Alert / DE-Alert cell broadcast (3GPP TS 23.041 message identifiers):
// German text on the primary identifier, English on the additional-language
// identifier, each within the CBS length limit, with the area polygon.
class CellBroadcastAdapter : public Channel {
 public:
  explicit CellBroadcastAdapter(ChannelConfig config);
  Plan PlanFor(const AlertEvent& event, const DeliveredLookup& delivered) const override;
};

// POST of the event as JSON, or of its CAP 1.2 XML (application/cap+xml).
class WebhookAdapter : public Channel {
 public:
  explicit WebhookAdapter(ChannelConfig config);
  Plan PlanFor(const AlertEvent& event, const DeliveredLookup& delivered) const override;
};

std::unique_ptr<Channel> MakeChannel(const ChannelConfig& config);

// --- cell broadcast text helpers (public for tests and docs) -----------------

struct CbsIds {
  int primary = 0;              // national language (German)
  int additional_language = 0;  // other languages (English)
};
// Message identifiers for an alert level and mode (table in CHANNELS.md).
// Test -> 4398/4399 (EU-Test), Exercise -> 4381/4394 (EU-Exercise),
// level 4 -> 4372/4385, 3 -> 4378/4391, 1..2 -> 4396/4397 (EU-Info).
CbsIds CellBroadcastIdsFor(Level level, Mode mode);

struct CbsText {
  std::string text;       // UTF-8
  bool gsm7 = true;       // fits the GSM 03.38 default alphabet (+ extension table)
  std::size_t units = 0;  // septets (GSM-7) or UTF-16 code units (UCS-2)
  std::size_t limit = 0;  // pages * 93 or pages * 41
  bool truncated = false;
};
// Fits `text` into `pages` CBS pages: GSM-7 if every character is in the
// default alphabet or its extension table (2 septets each), else UCS-2.
// Truncates on a word boundary and appends "..." (GSM-7) or "…" (UCS-2).
CbsText FitCellBroadcastText(const std::string& text, int pages);

// --- dispatcher ----------------------------------------------------------------

struct DispatcherOptions {
  std::size_t batch = 64;                            // events read per step
  Duration poll_interval = std::chrono::seconds(1);  // wake-up without Wake()
  std::function<TimePoint()> clock;                  // default: system clock
};

// Follows the outbox for one channel from its durable cursor. For each event:
// route, plan, skip keys already recorded, deliver, RecordDelivery, and only
// after all deliveries of the event SetCursor. A restart therefore never
// re-delivers a recorded key and never skips an unrecorded one; a crash
// between the receiver's 2xx and RecordDelivery re-sends the same key, which
// the receiver deduplicates (CHANNELS.md).
class ChannelDispatcher {
 public:
  ChannelDispatcher(std::unique_ptr<Channel> channel, AlertStore& store,
                    prometheus::Registry* registry, DispatcherOptions options = {});
  ~ChannelDispatcher();  // Stop()
  ChannelDispatcher(const ChannelDispatcher&) = delete;
  ChannelDispatcher& operator=(const ChannelDispatcher&) = delete;

  void Start();  // own thread
  void Wake();   // new events committed (engine commit listener)
  void Stop();   // interrupts retries; the in-flight event is redone after restart

  // Processes what is available now on the calling thread (no Start needed);
  // returns the number of events the cursor advanced over.
  std::size_t RunOnce();

  std::uint64_t cursor() const;
  const Channel& channel() const { return *channel_; }

 private:
  // false: stopped, cursor not advanced. *acted: something was delivered,
  // recorded or dead-lettered (the cursor is then persisted at once).
  bool ProcessEvent(const AlertEvent& event, bool* acted);
  void DeadLetter(const AlertEvent& event, const std::string& key, const std::string& why);
  void Loop();

  std::unique_ptr<Channel> channel_;
  AlertStore& store_;
  DispatcherOptions options_;
  std::shared_ptr<ChannelMetrics> metrics_;
  std::atomic<std::uint64_t> cursor_{0};
  std::mutex run_mu_;  // one RunOnce at a time

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace floodwarn::alerting
