#include "metrics.hpp"

#include <algorithm>

namespace floodwarn::alerting {

ServiceMetrics::ServiceMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("floodwarn_grpc_requests_total")
                    .Help("AlertService calls by method and gRPC status code")
                    .Register(registry)),
      auth_failures_(prometheus::BuildCounter()
                         .Name("floodwarn_auth_failures_total")
                         .Help("Calls refused: missing/unknown token, certificate mismatch, role "
                               "too low (permission_denied)")
                         .Register(registry)),
      stream_messages_(prometheus::BuildCounter()
                           .Name("floodwarn_subscriber_messages_total")
                           .Help("Messages written to subscriber streams by type")
                           .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("floodwarn_subscribers_dropped_total")
                   .Help("Subscriber streams ended by the server (stalled, shutdown) or the "
                         "client (cancelled)")
                   .Register(registry)),
      events_(prometheus::BuildCounter()
                  .Name("floodwarn_alert_events_total")
                  .Help("Committed alert events by kind")
                  .Register(registry)),
      alerts_(prometheus::BuildGauge()
                  .Name("floodwarn_alerts")
                  .Help("Open alerts by level (1..4) and state")
                  .Register(registry)),
      subscribers_(&prometheus::BuildGauge()
                        .Name("floodwarn_subscribers")
                        .Help("Open Subscribe streams")
                        .Register(registry)
                        .Add({})),
      delivery_lag_(&prometheus::BuildHistogram()
                         .Name("floodwarn_delivery_lag_seconds")
                         .Help("Time from an event's commit to its write to a subscriber")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries(
                                      kDeliveryLagBounds.begin(), kDeliveryLagBounds.end()))),
      catchup_reads_(&prometheus::BuildCounter()
                          .Name("floodwarn_outbox_catchup_reads_total")
                          .Help("Outbox pages read from the store for subscribers that fell "
                                "behind the in-memory buffer")
                          .Register(registry)
                          .Add({})),
      acknowledgements_(&prometheus::BuildCounter()
                             .Name("floodwarn_acknowledgements_total")
                             .Help("Alerts acknowledged by an operator")
                             .Register(registry)
                             .Add({})),
      escalations_(&prometheus::BuildCounter()
                        .Name("floodwarn_escalations_total")
                        .Help("Alerts escalated (not acknowledged in time)")
                        .Register(registry)
                        .Add({})),
      last_sequence_(&prometheus::BuildGauge()
                          .Name("floodwarn_outbox_last_sequence")
                          .Help("Newest committed event sequence known to the service")
                          .Register(registry)
                          .Add({})) {
  static const char* kStates[] = {"pending", "active", "acknowledged"};
  for (int level = 0; level <= 4; ++level)
    for (int s = 0; s < 3; ++s)
      alert_gauges_[level][s] =
          &alerts_.Add({{"level", std::to_string(level)}, {"state", kStates[s]}});
  static const char* kTypes[] = {"event", "heartbeat", "reset", "batch"};
  for (std::size_t t = 0; t < stream_message_counters_.size(); ++t)
    stream_message_counters_[t] = &stream_messages_.Add({{"type", kTypes[t]}});
}

void ServiceMetrics::Request(const std::string& method, const std::string& code) {
  requests_.Add({{"method", method}, {"code", code}}).Increment();
}

void ServiceMetrics::AuthFailure(const std::string& reason) {
  auth_failures_.Add({{"reason", reason}}).Increment();
}

void ServiceMetrics::DeliveryLag(LagBatch& batch, double seconds) {
  constexpr int kBatch = 64;
  const auto bucket =
      std::lower_bound(kDeliveryLagBounds.begin(), kDeliveryLagBounds.end(), seconds) -
      kDeliveryLagBounds.begin();  // Prometheus buckets are upper-inclusive ("le")
  batch.counts[static_cast<std::size_t>(bucket)] += 1;
  batch.sum += seconds;
  if (++batch.n >= kBatch) FlushDeliveryLag(batch);
}

void ServiceMetrics::FlushDeliveryLag(LagBatch& batch) {
  if (batch.n == 0) return;
  delivery_lag_->ObserveMultiple(batch.counts, batch.sum);
  std::fill(batch.counts.begin(), batch.counts.end(), 0.0);
  batch.sum = 0;
  batch.n = 0;
}

void ServiceMetrics::SubscriberDropped(const std::string& reason) {
  dropped_.Add({{"reason", reason}}).Increment();
}

void ServiceMetrics::Committed(const AlertEvent& e) {
  events_.Add({{"kind", ToString(e.kind)}}).Increment();
  if (e.kind == EventKind::kAcknowledged) acknowledgements_->Increment();
  if (e.kind == EventKind::kEscalated) escalations_->Increment();
  LastSequence(e.sequence);
}

void ServiceMetrics::SetAlerts(const std::vector<Alert>& open) {
  std::array<std::array<int, 3>, 5> n{};
  for (const Alert& a : open) {
    const int level = a.level < 0 ? 0 : (a.level > 4 ? 4 : a.level);
    int s = -1;
    if (a.state == AlertState::kPending) s = 0;
    if (a.state == AlertState::kActive) s = 1;
    if (a.state == AlertState::kAcknowledged) s = 2;
    if (s >= 0) ++n[level][s];
  }
  for (int level = 0; level <= 4; ++level)
    for (int s = 0; s < 3; ++s) alert_gauges_[level][s]->Set(n[level][s]);
}

}  // namespace floodwarn::alerting
