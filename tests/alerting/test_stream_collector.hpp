// The gRPC Subscribe stream of a running `floodwarn serve`, collected on a
// thread, for the end-to-end tests (test_end_to_end, test_forecast_serve).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"

namespace floodwarn::testing {

// Collects the Subscribe stream on a thread.
class StreamCollector {
 public:
  explicit StreamCollector(alerting::ClientOptions options) : client_(std::move(options)) {
    thread_ = std::thread([this] {
      client_.Subscribe(0, alerting::AlertFilter{}, [this](const alerting::StreamMessage& m) {
        if (m.type != alerting::StreamMessage::Type::kEvent) return true;
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(m.event);
        cv_.notify_all();
        return true;
      });
    });
  }
  ~StreamCollector() {
    client_.Cancel();
    thread_.join();
  }
  // The first event after index `from` that satisfies `pred`, waiting up to `timeout`.
  std::optional<alerting::AlertEvent> WaitFor(
      const std::function<bool(const alerting::AlertEvent&)>& pred,
      std::chrono::milliseconds timeout, std::size_t from = 0) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<alerting::AlertEvent> found;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < events_.size(); ++i)
        if (pred(events_[i])) {
          found = events_[i];
          return true;
        }
      return false;
    });
    return found;
  }
  std::vector<alerting::AlertEvent> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  alerting::AlertClient& client() { return client_; }

 private:
  alerting::AlertClient client_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<alerting::AlertEvent> events_;
  std::thread thread_;
};

}  // namespace floodwarn::testing
