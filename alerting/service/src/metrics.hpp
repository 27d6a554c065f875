// Prometheus metrics of the gRPC service (registered in a registry passed in;
// names prefixed floodwarn_). Private to the service.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

// What a subscriber stream writes (label `type` of
// floodwarn_subscriber_messages_total).
// kBatch: one message with two or more events (SubscribeRequest.max_batch).
enum class StreamMessageType { kEvent = 0, kHeartbeat = 1, kReset = 2, kBatch = 3 };

// Upper bounds (seconds) of floodwarn_delivery_lag_seconds.
inline constexpr std::array<double, 11> kDeliveryLagBounds = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                                              1,     5,     30,   120,  600};

// One stream's delivery lags not yet in the shared histogram. prometheus-cpp
// takes the histogram's mutex per observation; at 100,000 deliveries per
// second from many threads that mutex became a point of contention, so each
// stream (under its own lock) adds its lags in batches.
struct LagBatch {
  std::vector<double> counts = std::vector<double>(kDeliveryLagBounds.size() + 1, 0.0);
  double sum = 0;
  int n = 0;
};

class ServiceMetrics {
 public:
  explicit ServiceMetrics(prometheus::Registry& registry);

  void Request(const std::string& method, const std::string& code);
  void AuthFailure(const std::string& reason);
  void Subscribers(std::size_t n) { subscribers_->Set(static_cast<double>(n)); }
  // Once per message written: the counters are looked up at construction.
  void StreamMessage(StreamMessageType type) {
    stream_message_counters_[static_cast<std::size_t>(type)]->Increment();
  }
  void SubscriberDropped(const std::string& reason);
  // Adds to `batch`; a full batch goes into the histogram.
  void DeliveryLag(LagBatch& batch, double seconds);
  // Puts whatever `batch` holds into the histogram (a stream's timer, and
  // when it ends).
  void FlushDeliveryLag(LagBatch& batch);
  void CatchupRead() { catchup_reads_->Increment(); }
  void Committed(const AlertEvent& e);  // every event the hub learns about
  void LastSequence(std::uint64_t s) { last_sequence_->Set(static_cast<double>(s)); }
  // Open alerts by level (1..4) and state (pending/active/acknowledged).
  void SetAlerts(const std::vector<Alert>& open);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Family<prometheus::Counter>& stream_messages_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Gauge>& alerts_;
  std::array<prometheus::Counter*, 4> stream_message_counters_{};
  prometheus::Gauge* subscribers_;
  prometheus::Histogram* delivery_lag_;
  prometheus::Counter* catchup_reads_;
  prometheus::Counter* acknowledgements_;
  prometheus::Counter* escalations_;
  prometheus::Gauge* last_sequence_;
  // alerts_ gauges indexed [level 0..4][state 0..2]
  std::array<std::array<prometheus::Gauge*, 3>, 5> alert_gauges_{};
};

}  // namespace floodwarn::alerting
