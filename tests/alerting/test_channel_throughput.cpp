// Performance (label "performance", not run by CI): how fast one dispatcher
// drains a burst of outbox events to a local receiver. Prints the figure; the
// only assertions are about correctness (every event delivered once).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_channel_receiver.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

TEST(ChannelThroughput, WebhookDrainsABurst) {
  constexpr int kEvents = 500;
  floodwarn::testing::TestReceiver rx;
  AlertStore store(floodwarn::testing::MakeTempDir("channel_bench") + "/alerts.db");
  Changeset c;
  for (int i = 0; i < kEvents; ++i) {
    AlertEvent e;
    e.kind = EventKind::kRaised;
    e.at = TimePoint(std::chrono::milliseconds(1795000000000LL + i));
    e.alert.id = "fw.bench" + std::to_string(i);
    e.alert.level = 3;
    e.cap_identifier = "fw.bench." + std::to_string(i);
    c.events.push_back(e);
  }
  ASSERT_TRUE(store.Apply(c).ok());
  ChannelConfig config;
  config.name = "bench";
  config.type = ChannelType::kWebhook;
  config.url = rx.Url("/hook");
  config.start_from = StartFrom::kBeginning;
  ChannelDispatcher d(MakeChannel(config), store, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(d.RunOnce(), static_cast<std::size_t>(kEvents));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(rx.ProcessedCount().size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(rx.Attempts().size(), static_cast<std::size_t>(kEvents));
  std::printf(
      "channel throughput: %d events in %.3f s = %.0f events/s (%.2f ms/event: HTTP POST + "
      "RecordDelivery + SetCursor, synchronous=FULL)\n",
      kEvents, s, kEvents / s, 1000.0 * s / kEvents);
}

}  // namespace
}  // namespace floodwarn::alerting
