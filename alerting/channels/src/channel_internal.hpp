// Internals shared by the channel sources (not installed, not included by
// anyone else): the libcurl POST and the channel metrics.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "floodwarn/alerting/channels.hpp"

namespace prometheus {
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace floodwarn::alerting {

struct HttpResult {
  long status = 0;         // HTTP status, 0 when no response was received
  std::string error;       // transport error text (empty when a status arrived)
  Duration retry_after{};  // from a Retry-After header (seconds form), 0 if none
};

// One HTTP POST with libcurl: no redirects, http/https only, TLS peer and host
// verification on, connect and total timeouts from `retry`. Aborted (a
// transport error) as soon as *stop becomes true.
HttpResult HttpPost(const std::string& url, const std::vector<std::string>& headers,
                    const std::string& body, const RetryPolicy& retry, const std::string& ca_file,
                    const std::atomic<bool>* stop);

// floodwarn_channel_deliveries_total{channel,result},
// floodwarn_channel_failures_total{channel}, floodwarn_channel_lag_events{channel}.
// Every method is a no-op without a registry.
class ChannelMetrics {
 public:
  ChannelMetrics(prometheus::Registry* registry, const std::string& channel);
  void Delivery(const char* result);  // delivered, duplicate, skipped, rejected
  void Failure();                     // one failed attempt or a plan problem
  void Lag(double events);

 private:
  prometheus::Registry* registry_;
  prometheus::Family<prometheus::Counter>* deliveries_ = nullptr;
  prometheus::Counter* failures_ = nullptr;
  prometheus::Gauge* lag_ = nullptr;
  std::string channel_;
};

}  // namespace floodwarn::alerting
