// Dispatchers on a real AlertStore (SQLite file) against a real local HTTP
// receiver: durable cursor, restart without re-delivery, the crash windows,
// escalation-only routing, permanent failures counted and dead-lettered.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_channel_receiver.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

using floodwarn::testing::TestReceiver;
using Fault = TestReceiver::Fault;
using nlohmann::json;
using namespace std::chrono_literals;

TimePoint T(int s) { return TimePoint(std::chrono::milliseconds(1795000000000LL + s * 1000LL)); }

AlertEvent Event(EventKind kind, Level level, const std::string& alert_id, int t) {
  AlertEvent e;
  e.kind = kind;
  e.at = T(t);
  e.alert.id = alert_id;
  e.alert.rule_id = "talstadt_stage";
  e.alert.subject = "talstadt";
  e.alert.level = level;
  e.alert.state = kind == EventKind::kResolved ? AlertState::kResolved : AlertState::kActive;
  e.alert.area.id = "unterstadt";
  e.alert.area.name = "Talstadt, Unterstadt";
  e.alert.area.polygon = {{48.0, 7.8}, {48.0, 7.82}, {48.02, 7.82}, {48.0, 7.8}};
  if (kind == EventKind::kRaised || kind == EventKind::kUpdated || kind == EventKind::kResolved)
    e.cap_identifier = "fw.test." + alert_id + "." + std::to_string(t);
  return e;
}

void Commit(AlertStore& store, std::vector<AlertEvent> events) {
  Changeset c;
  c.events = std::move(events);
  const auto r = store.Apply(c);
  ASSERT_TRUE(r.ok()) << r.error.message;
}

ChannelConfig Config(const std::string& name, ChannelType type, const std::string& url) {
  ChannelConfig c;
  c.name = name;
  c.type = type;
  c.url = url;
  c.min_level = type == ChannelType::kSiren ? 3 : 1;
  c.start_from = StartFrom::kBeginning;
  c.retry.initial_backoff = 5ms;
  c.retry.max_backoff = 20ms;
  c.retry.request_timeout = 2000ms;
  c.siren_groups["unterstadt"] = {"S-101"};
  return c;
}

double MetricValue(const prometheus::Registry& reg, const std::string& family,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& f : reg.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1.0;  // not present
}

struct Fixture : ::testing::Test {
  std::string path = floodwarn::testing::MakeTempDir("channel_dispatch") + "/alerts.db";
  AlertStore store{path};
};

using ChannelDispatcherTest = Fixture;

TEST_F(ChannelDispatcherTest, RestartResumesFromTheCursorWithoutReDelivery) {
  TestReceiver rx;
  Commit(store, {Event(EventKind::kRaised, 2, "fw.a1", 1),
                 Event(EventKind::kAcknowledged, 2, "fw.a1", 2)});
  {
    ChannelDispatcher d(
        std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/hook"))),
        store, nullptr);
    EXPECT_EQ(d.RunOnce(), 2u);
    EXPECT_EQ(d.cursor(), 2u);
  }
  EXPECT_EQ(store.GetCursor("hook"), 2u);
  Commit(store,
         {Event(EventKind::kUpdated, 3, "fw.a1", 3), Event(EventKind::kResolved, 3, "fw.a1", 4)});
  // A new process: new channel object, same database.
  ChannelDispatcher d2(
      std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/hook"))),
      store, nullptr);
  EXPECT_EQ(d2.cursor(), 2u);
  EXPECT_EQ(d2.RunOnce(), 2u);
  EXPECT_EQ(d2.RunOnce(), 0u);

  // Four events, four keys, each sent once: no attempt was a re-delivery.
  const auto attempts = rx.Attempts();
  ASSERT_EQ(attempts.size(), 4u);
  std::vector<std::string> kinds;
  for (const auto& a : attempts) kinds.push_back(json::parse(a.body)["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"raised", "acknowledged", "updated", "resolved"}));
  for (const auto& [key, n] : rx.ProcessedCount()) {
    EXPECT_EQ(n, 1) << key;
    EXPECT_TRUE(store.WasDelivered("hook", key)) << key;
  }
}

TEST_F(ChannelDispatcherTest, CrashWindowsNeitherLoseNorDuplicate) {
  TestReceiver rx;
  Commit(store, {Event(EventKind::kRaised, 3, "fw.a1", 1)});
  auto make = [&] {
    return std::make_unique<ChannelDispatcher>(
        std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/h"))),
        store, nullptr);
  };
  make()->RunOnce();
  ASSERT_EQ(rx.Attempts().size(), 1u);

  // Crash after RecordDelivery, before SetCursor: the cursor is behind the
  // record. The restart skips the recorded key without sending.
  store.SetCursor("hook", 0);
  EXPECT_EQ(make()->RunOnce(), 1u);
  EXPECT_EQ(rx.Attempts().size(), 1u);

  // Crash after the receiver's 2xx, before RecordDelivery: the key is sent
  // again; the receiver answers 409 for it and the sender records it.
  Commit(store, {Event(EventKind::kUpdated, 4, "fw.a1", 2)});
  {
    auto d = make();
    d->RunOnce();
  }
  ASSERT_EQ(rx.Attempts().size(), 2u);
  const std::string key = rx.Attempts()[1].key;
  // Forget the record (a fresh database file with the same events would do the same).
  {
    const std::string path2 = floodwarn::testing::MakeTempDir("channel_dispatch") + "/b.db";
    AlertStore other(path2);
    Commit(other,
           {Event(EventKind::kRaised, 3, "fw.a1", 1), Event(EventKind::kUpdated, 4, "fw.a1", 2)});
    other.SetCursor("hook", 1);
    other.RecordDelivery("hook", "floodwarn:hook:cursor-initialised", T(0));
    ChannelDispatcher d(
        std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/h"))),
        other, nullptr);
    EXPECT_EQ(d.RunOnce(), 1u);
    EXPECT_TRUE(other.WasDelivered("hook", key));
  }
  ASSERT_EQ(rx.Attempts().size(), 3u);
  EXPECT_EQ(rx.Attempts()[2].key, key);       // re-sent with the same key...
  EXPECT_EQ(rx.ProcessedCount().at(key), 1);  // ...and processed once
}

TEST_F(ChannelDispatcherTest, SirenThroughTheStoreSoundsOneWarningAndOneAllClear) {
  TestReceiver rx;
  Commit(
      store,
      {Event(EventKind::kRaised, 3, "fw.a1", 1), Event(EventKind::kUpdated, 3, "fw.a1", 2),
       Event(EventKind::kAcknowledged, 3, "fw.a1", 3), Event(EventKind::kResolved, 3, "fw.a1", 4)});
  ChannelDispatcher d(
      std::make_unique<SirenAdapter>(Config("sirens", ChannelType::kSiren, rx.Url("/siren"))),
      store, nullptr);
  EXPECT_EQ(d.RunOnce(), 4u);
  // Re-processing everything (cursor lost) sends nothing new.
  store.SetCursor("sirens", 0);
  ChannelDispatcher again(
      std::make_unique<SirenAdapter>(Config("sirens", ChannelType::kSiren, rx.Url("/siren"))),
      store, nullptr);
  EXPECT_EQ(again.RunOnce(), 4u);
  const auto attempts = rx.Attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(json::parse(attempts[0].body)["signal"], "warning");
  EXPECT_EQ(json::parse(attempts[1].body)["signal"], "all_clear");
}

TEST_F(ChannelDispatcherTest, EscalationOnlyChannelReceivesOnlyEscalations) {
  TestReceiver rx;
  auto escalated = [](const std::string& id, int t, const std::string& note) {
    auto e = Event(EventKind::kEscalated, 3, id, t);
    e.note = note;  // as the engine writes it ([engine] escalation_channel)
    return e;
  };
  Commit(store, {Event(EventKind::kRaised, 3, "fw.a1", 1),
                 escalated("fw.a1", 2, "channel=deputy not acknowledged within 30m (level 3)"),
                 Event(EventKind::kAcknowledged, 3, "fw.a1", 3),
                 Event(EventKind::kResolved, 3, "fw.a1", 4),
                 escalated("fw.a3", 5, "channel=deputy_b not acknowledged within 30m (level 3)"),
                 escalated("fw.a2", 6, ""), Event(EventKind::kRaised, 2, "fw.a4", 7)});
  auto config = Config("deputy", ChannelType::kWebhook, rx.Url("/escalate"));
  config.escalation_only = true;
  ChannelDispatcher d(std::make_unique<WebhookAdapter>(config), store, nullptr);
  EXPECT_EQ(d.RunOnce(), 7u);
  // The trailing event it ignores is persisted too (end of the batch).
  EXPECT_EQ(store.GetCursor("deputy"), 7u);
  const auto attempts = rx.Attempts();
  ASSERT_EQ(attempts.size(), 2u);  // not fw.a3: its escalation names another channel
  for (const auto& a : attempts) EXPECT_EQ(json::parse(a.body)["kind"], "escalated");
  EXPECT_EQ(json::parse(attempts[1].body)["alert"]["id"], "fw.a2");
}

TEST_F(ChannelDispatcherTest, RejectionIsCountedDeadLetteredAndDoesNotBlock) {
  TestReceiver rx({Fault::k400});
  prometheus::Registry registry;
  Commit(store,
         {Event(EventKind::kRaised, 3, "fw.a1", 1), Event(EventKind::kUpdated, 4, "fw.a1", 2)});
  ChannelDispatcher d(
      std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/h"))), store,
      &registry);
  EXPECT_EQ(d.RunOnce(), 2u);  // the rejected event does not hold up the next
  ASSERT_EQ(rx.Attempts().size(), 2u);
  EXPECT_EQ(rx.ProcessedCount().size(), 1u);
  EXPECT_EQ(MetricValue(registry, "floodwarn_channel_failures_total", {{"channel", "hook"}}), 1.0);
  EXPECT_EQ(MetricValue(registry, "floodwarn_channel_deliveries_total",
                        {{"channel", "hook"}, {"result", "rejected"}}),
            1.0);
  EXPECT_EQ(MetricValue(registry, "floodwarn_channel_deliveries_total",
                        {{"channel", "hook"}, {"result", "delivered"}}),
            1.0);
  EXPECT_EQ(MetricValue(registry, "floodwarn_channel_lag_events", {{"channel", "hook"}}), 0.0);
  // The durable dead-letter record is an audit entry naming channel and key.
  bool found = false;
  for (const auto& a : store.ReadAudit(0, 100)) {
    if (a.action == "delivery-failed" && a.actor == "channel:hook" && a.alert_id == "fw.a1" &&
        a.detail.find(rx.Attempts()[0].key) != std::string::npos)
      found = true;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(store.VerifyAuditChain(), 0u);
}

TEST_F(ChannelDispatcherTest, StopDuringOutageKeepsTheEventForTheNextProcess) {
  TestReceiver rx(std::vector<Fault>(100000, Fault::k500));
  prometheus::Registry registry;
  Commit(store, {Event(EventKind::kRaised, 4, "fw.a1", 1)});
  {
    ChannelDispatcher d(
        std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/h"))),
        store, &registry);
    d.Start();
    d.Wake();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (rx.Attempts().size() < 5 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    ASSERT_GE(rx.Attempts().size(), 5u);
    d.Stop();
    EXPECT_EQ(d.cursor(), 0u);
    EXPECT_EQ(MetricValue(registry, "floodwarn_channel_lag_events", {{"channel", "hook"}}), 1.0);
    EXPECT_GE(MetricValue(registry, "floodwarn_channel_failures_total", {{"channel", "hook"}}),
              5.0);
  }
  EXPECT_EQ(store.GetCursor("hook"), 0u);
  rx.SetScript({});  // the gateway is back
  const auto before = rx.Attempts().size();
  ChannelDispatcher d2(
      std::make_unique<WebhookAdapter>(Config("hook", ChannelType::kWebhook, rx.Url("/h"))), store,
      nullptr);
  d2.Start();
  d2.Wake();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (d2.cursor() < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  d2.Stop();
  EXPECT_EQ(d2.cursor(), 1u);
  EXPECT_EQ(rx.Attempts().size(), before + 1);
  ASSERT_EQ(rx.ProcessedCount().size(), 1u);
  EXPECT_EQ(rx.ProcessedCount().begin()->second, 1);
}

TEST_F(ChannelDispatcherTest, NewChannelStartsNowUnlessToldOtherwise) {
  TestReceiver rx;
  Commit(store,
         {Event(EventKind::kRaised, 4, "fw.old", 1), Event(EventKind::kResolved, 4, "fw.old", 2)});
  auto config = Config("late", ChannelType::kWebhook, rx.Url("/h"));
  config.start_from = StartFrom::kNow;
  {
    ChannelDispatcher d(std::make_unique<WebhookAdapter>(config), store, nullptr);
    EXPECT_EQ(d.cursor(), 2u);
    EXPECT_EQ(d.RunOnce(), 0u);
  }
  EXPECT_TRUE(rx.Attempts().empty());
  // Events committed while the channel's process is down are not skipped on
  // restart: "now" applies only the first time the channel is seen.
  Commit(store, {Event(EventKind::kRaised, 4, "fw.new", 3)});
  ChannelDispatcher d(std::make_unique<WebhookAdapter>(config), store, nullptr);
  EXPECT_EQ(d.RunOnce(), 1u);
  ASSERT_EQ(rx.Attempts().size(), 1u);
  EXPECT_EQ(json::parse(rx.Attempts()[0].body)["alert"]["id"], "fw.new");
}

}  // namespace
}  // namespace floodwarn::alerting
