// A small C++ client of the floodwarn.v1.AlertService (proto/floodwarn/v1/
// alerts.proto): TLS with a client certificate, a bearer token on every call,
// the operator calls, and a Subscribe loop that resumes after a disconnect
// from the last sequence it delivered.
//
// gRPC-free interface (gRPC and protobuf stay PRIVATE to the library): the
// client speaks the domain types of types.hpp / requests.hpp, converted by
// the same code as the service's (proto_convert.hpp). It needs neither the
// rules engine, CAP nor SQLite. Used by `floodwarn watch` / `floodwarn ack`,
// the crash test, the benchmark and external integrations.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "floodwarn/alerting/requests.hpp"
#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

struct ClientOptions {
  std::string target;     // "host:port", e.g. "127.0.0.1:50051" (required)
  std::string ca_file;    // PEM of the CA that signed the server certificate
  std::string cert_file;  // PEM client certificate (mutual TLS), empty = none
  std::string key_file;   // PEM private key of cert_file
  std::string token;      // bearer token, sent as "authorization: Bearer <token>"
  // Plaintext, only for a server configured without TLS (never by default).
  bool insecure = false;
  Duration call_timeout = std::chrono::seconds(10);  // unary calls
  // Subscribe: up to this many events per stream message when several are
  // ready (SubscribeRequest.max_batch). Batches are unpacked here: the
  // callback still gets one StreamMessage per event. 1 = no batches.
  std::uint32_t stream_max_batch = 64;
  // Subscribe: events without their CAP XML (SubscribeRequest.omit_cap_xml),
  // for clients that do not use it.
  bool stream_omit_cap_xml = false;
};

// The bearer token: the first line of `token_file` (surrounding whitespace
// removed) when the path is not empty, else $FLOODWARN_TOKEN. Throws
// std::runtime_error naming the file (unreadable, empty) or the variable
// (unset) so that tokens need never appear on a command line.
std::string LoadToken(const std::string& token_file);

// One message of a Subscribe stream.
struct StreamMessage {
  enum class Type : std::uint8_t { kEvent, kHeartbeat, kReset };
  Type type = Type::kEvent;
  // StreamEvent.sequence: the event's sequence, the heartbeat's resume point
  // or the reset's current sequence. Never decreases on a stream.
  std::uint64_t sequence = 0;
  AlertEvent event;  // kEvent only
  // kHeartbeat
  std::uint64_t last_committed_sequence = 0;
  TimePoint server_time{};
  // kReset
  std::string reset_reason;  // "compacted", "ahead" or "unspecified"
  std::string reset_message;
  std::uint64_t oldest_retained_sequence = 0;
};

struct ActiveList {
  std::vector<Alert> alerts;
  std::uint64_t sequence = 0;  // the listed state is the state after this sequence
};

// Errors carry the gRPC status: code mapped onto ErrorCode (UNAUTHENTICATED
// and PERMISSION_DENIED -> kPermissionDenied, UNAVAILABLE and
// DEADLINE_EXCEEDED -> kUnavailable, ...) and the message
// "<GRPC_CODE_NAME>: <server message>".
class AlertClient {
 public:
  // Reads the certificate files now; throws std::runtime_error naming the
  // file when one cannot be read, or when the options are inconsistent.
  explicit AlertClient(ClientOptions options);
  ~AlertClient();
  AlertClient(const AlertClient&) = delete;
  AlertClient& operator=(const AlertClient&) = delete;

  const ClientOptions& options() const { return options_; }

  Result<Alert> Acknowledge(const std::string& alert_id, const std::string& note);
  Result<Alert> IssueManual(const ManualAlertRequest& request);
  Result<Alert> ResolveManual(const std::string& alert_id, const std::string& note);
  Result<Alert> GetAlert(const std::string& alert_id);
  Result<ActiveList> ListActive(const AlertFilter& filter);

  // One Subscribe stream: delivers the events after `from_sequence` that
  // match `filter`, plus heartbeats and resets, to `on_message` (on the
  // calling thread) until the stream ends: the server closed it or failed,
  // `on_message` returned false, Cancel() was called, or no message arrived
  // for `idle_timeout` (> 0; the server sends heartbeats on idle streams).
  // Returns ok when ended by the callback or Cancel(), else the error.
  Error Subscribe(std::uint64_t from_sequence, const AlertFilter& filter,
                  const std::function<bool(const StreamMessage&)>& on_message,
                  Duration idle_timeout = Duration::zero());
  // Ends the running Subscribe calls of this client (any thread).
  void Cancel();

 private:
  struct Impl;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

struct ResumeOptions {
  Duration initial_backoff = std::chrono::milliseconds(250);
  Duration max_backoff = std::chrono::seconds(10);
  // No message for this long = a dead connection: reconnect (0 = never).
  Duration idle_timeout = std::chrono::seconds(0);
  // Called before every connection attempt for the server address (tests
  // restart the server on a new port); empty = ClientOptions::target. An
  // empty result counts as a failed attempt (backoff, then ask again).
  std::function<std::string()> target;
};

// Subscribe with resume: connects, delivers messages, and after a disconnect
// reconnects with exponential backoff (with jitter), resuming after the last
// sequence it delivered, so that every event is delivered once and in order.
// Events at or below the last delivered sequence (which a correct server
// never sends) are dropped and counted, never delivered twice.
class ResumingSubscriber {
 public:
  using MessageHandler = std::function<void(const StreamMessage&)>;
  // A stream ended with `error` (connect attempt `attempt`, 1-based); the next
  // attempt follows after `backoff`.
  using DisconnectHandler = std::function<void(const Error& error, int attempt, Duration backoff)>;

  struct Stats {
    std::uint64_t connects = 0;     // streams that delivered at least one message
    std::uint64_t disconnects = 0;  // streams that ended other than by Stop()
    std::uint64_t events = 0;       // events delivered
    std::uint64_t duplicates_dropped = 0;
    std::uint64_t resets = 0;
  };

  ResumingSubscriber(ClientOptions client, ResumeOptions resume);
  ~ResumingSubscriber();

  // Blocks until Stop() (returns ok) or a permanent error (bad credentials,
  // invalid filter: UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT),
  // which it returns without retrying.
  Error Run(std::uint64_t from_sequence, const AlertFilter& filter,
            const MessageHandler& on_message, const DisconnectHandler& on_disconnect = {});
  void Stop();  // any thread

  std::uint64_t last_sequence() const { return last_sequence_.load(); }
  Stats stats() const;

 private:
  ClientOptions client_options_;
  ResumeOptions resume_;
  std::atomic<std::uint64_t> last_sequence_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;  // guards current_, stats_, wake-up of the backoff sleep
  AlertClient* current_ = nullptr;
  Stats stats_;
  struct Waiter;
  std::unique_ptr<Waiter> waiter_;
};

// Level name used in texts: 1 Minor, 2 Moderate, 3 Severe, 4 Extreme, else "none".
const char* LevelName(Level level);

}  // namespace floodwarn::alerting
