// HTTP polling building blocks shared by the PEGELONLINE and SensorThings
// pollers: a small libcurl GET client with conditional requests (ETag /
// If-None-Match -> 304), exponential backoff on server errors and timeouts,
// a thread that runs a poll function at its interval, and the outcome of one
// poll round.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace floodwarn::ingest {

struct HttpResponse {
  long status = 0;  // HTTP status; 0 when the request failed below HTTP
  std::string body;
  std::string etag;   // ETag response header, if any
  std::string error;  // transport error (timeout, refused...), empty otherwise
  bool ok() const { return error.empty() && status == 200; }
  bool not_modified() const { return error.empty() && status == 304; }
  // 5xx, 429 and transport failures are worth retrying later
  bool transient() const { return !error.empty() || status >= 500 || status == 429; }
};

struct HttpClientOptions {
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds connect_timeout{5000};
  std::string user_agent = "floodwarn-ingest/0.1 (+https://github.com/floodwarn)";
  std::size_t max_body_bytes = 32 << 20;  // a runaway response is cut and reported
};

// One libcurl easy handle (connection reuse); not thread-safe: one per poller.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `url`; with `if_none_match` set, sends If-None-Match (304 = unchanged).
  HttpResponse Get(const std::string& url, const std::string& if_none_match = "");

  // Percent-encodes a query parameter value (RFC 3986 unreserved kept).
  static std::string Escape(const std::string& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Exponential backoff: initial, x factor per failure, capped; Reset on success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial = std::chrono::seconds(5),
          std::chrono::milliseconds max = std::chrono::minutes(10), double factor = 2.0)
      : initial_(initial), max_(max), factor_(factor), next_(initial) {}
  // Delay before the next attempt after a failure (and grows the following one).
  std::chrono::milliseconds Fail();
  void Reset() {
    next_ = initial_;
    failures_ = 0;
  }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_, max_;
  double factor_;
  std::chrono::milliseconds next_;
  int failures_ = 0;
};

// What one round of a poller (PegelonlinePoller, SensorThingsPoller) did.
struct PollOutcome {
  std::size_t requests = 0;
  std::size_t not_modified = 0;  // 304 answers
  std::size_t failures = 0;      // transient or permanent errors this round
  std::size_t inserted = 0;
  std::size_t decode_errors = 0;
  std::chrono::milliseconds next_delay{0};  // interval, or backoff after failures
};

// Runs `poll` every `interval` on its own thread until Stop(); `poll` returns
// the delay before its next run (the interval, or a backoff after errors).
class PollerThread {
 public:
  using PollFn = std::function<std::chrono::milliseconds()>;
  explicit PollerThread(PollFn poll);
  ~PollerThread();  // Stop()
  void Start();
  void Stop();

 private:
  PollFn poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace floodwarn::ingest
