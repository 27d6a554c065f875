// Crash test: the real `floodwarn serve` process is killed with SIGKILL at
// random points during bursts of operator actions (IssueManual /
// Acknowledge / ResolveManual over gRPC), and restarted on the same store.
// Several subscribers, started at different points with different
// from_sequence positions, resume after every kill from the last sequence
// they received. At the end each must have received every committed event
// after its start position exactly once, in sequence order, with the right
// alert and kind; and every action the server confirmed must be committed.
// Truth is the store's outbox, read directly (AlertStore) after the last
// server has stopped.
//
// Rounds and seed: FLOODWARN_CRASH_ROUNDS (default 8), FLOODWARN_CRASH_SEED
// (default: random, printed so that a failure can be replayed).
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_client_harness.hpp"

namespace floodwarn::testing {
namespace {

using namespace floodwarn::alerting;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Received {
  std::uint64_t sequence;
  std::string alert_id;
  EventKind kind;
};

struct Subscriber {
  std::uint64_t start = 0;
  std::unique_ptr<ResumingSubscriber> sub;
  std::thread thread;
  std::mutex mu;
  std::vector<Received> received;
  Error result;
};

// What the driver was told had succeeded: it must be in the outbox.
struct Confirmed {
  std::string alert_id;
  EventKind kind;
};

std::uint64_t EnvOr(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoull(v) : fallback;
}

TEST(CrashRecovery, EveryCommittedEventArrivesOnceInOrderAcrossSigkills) {
  const int rounds = static_cast<int>(EnvOr("FLOODWARN_CRASH_ROUNDS", 8));
  const std::uint64_t seed = EnvOr("FLOODWARN_CRASH_SEED", std::random_device{}());
  std::printf("crash test: %d rounds, seed %llu (FLOODWARN_CRASH_SEED to replay)\n", rounds,
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  ServeFixture fx = ServeFixture::Create();
  std::mutex addr_mu;
  std::string address;  // empty while the server is down
  auto current_address = [&] {
    std::lock_guard<std::mutex> lock(addr_mu);
    return address;
  };

  std::vector<std::unique_ptr<Subscriber>> subs;
  auto start_subscriber = [&](std::uint64_t from) {
    auto s = std::make_unique<Subscriber>();
    s->start = from;
    ResumeOptions resume;
    resume.initial_backoff = milliseconds(50);
    resume.max_backoff = milliseconds(400);
    resume.idle_timeout = seconds(3);  // heartbeats every 500 ms
    resume.target = current_address;
    s->sub = std::make_unique<ResumingSubscriber>(fx.Watcher(""), resume);
    Subscriber* raw = s.get();
    s->thread = std::thread([raw] {
      raw->result = raw->sub->Run(raw->start, AlertFilter{}, [raw](const StreamMessage& m) {
        if (m.type != StreamMessage::Type::kEvent) return;
        std::lock_guard<std::mutex> lock(raw->mu);
        raw->received.push_back({m.sequence, m.event.alert.id, m.event.kind});
      });
    });
    subs.push_back(std::move(s));
  };

  // Stops and joins the subscribers however the test ends (a failed ASSERT
  // must not leave joinable threads behind).
  struct StopAll {
    std::vector<std::unique_ptr<Subscriber>>& subs;
    ~StopAll() {
      for (auto& s : subs) {
        s->sub->Stop();
        if (s->thread.joinable()) s->thread.join();
      }
    }
  } stop_all{subs};

  std::mutex confirmed_mu;
  std::vector<Confirmed> confirmed;
  std::vector<std::string> open_alerts;  // issued by the drivers, not yet resolved
  std::atomic<int> counter{0};
  std::vector<int> kill_after_ms;

  std::unique_ptr<ChildProcess> server;
  for (int round = 0; round < rounds; ++round) {
    std::string addr = StartServe(server, fx.config_path);
    {
      std::lock_guard<std::mutex> lock(addr_mu);
      address = addr;
    }
    // Subscribers join at different points: from the beginning, from the
    // middle of the history, from "now".
    if (round < 4) {
      std::uint64_t from = 0;
      if (round > 0) {
        AlertClient c(fx.Watcher(addr));
        auto list = c.ListActive({});
        ASSERT_TRUE(list.ok()) << list.error.message;
        from = round % 2 == 1 ? list.value->sequence / 2 : list.value->sequence;
      }
      start_subscriber(from);
    }

    // A burst from two drivers until the server dies under them.
    std::atomic<bool> stop_drivers{false};
    std::vector<std::thread> drivers;
    for (int d = 0; d < 2; ++d) {
      drivers.emplace_back([&, d, addr, driver_seed = rng()] {
        std::mt19937 drng(static_cast<std::uint32_t>(driver_seed));
        AlertClient op(fx.Operator(addr));
        while (!stop_drivers) {
          int choice = static_cast<int>(drng() % 10);
          std::string target;
          {
            std::lock_guard<std::mutex> lock(confirmed_mu);
            if (choice >= 6 && !open_alerts.empty()) {
              std::size_t i = drng() % open_alerts.size();
              target = open_alerts[i];
              if (choice >= 8) {  // resolve: no longer a target for others
                open_alerts.erase(open_alerts.begin() + static_cast<std::ptrdiff_t>(i));
              }
            }
          }
          if (target.empty()) {
            ManualAlertRequest r;
            r.subject = "crash-" + std::to_string(d) + "-" + std::to_string(counter++);
            r.level = 1 + static_cast<int>(drng() % 4);
            r.area_id = drng() % 2 ? "talstadt" : "unterstadt";
            r.headline_de = "Test " + r.subject;
            r.headline_en = "Test " + r.subject;
            auto res = op.IssueManual(r);
            if (!res.ok()) continue;  // the server died; maybe committed, maybe not
            std::lock_guard<std::mutex> lock(confirmed_mu);
            confirmed.push_back({res.value->id, EventKind::kRaised});
            open_alerts.push_back(res.value->id);
          } else if (choice >= 8) {
            auto res = op.ResolveManual(target, "all clear");
            if (!res.ok()) continue;
            std::lock_guard<std::mutex> lock(confirmed_mu);
            confirmed.push_back({target, EventKind::kResolved});
          } else {
            auto res = op.Acknowledge(target, "seen");
            if (!res.ok()) continue;  // also: already acknowledged by the other driver
            std::lock_guard<std::mutex> lock(confirmed_mu);
            confirmed.push_back({target, EventKind::kAcknowledged});
          }
        }
      });
    }
    int kill_ms = 150 + static_cast<int>(rng() % 700);
    kill_after_ms.push_back(kill_ms);
    std::this_thread::sleep_for(milliseconds(kill_ms));
    server->Signal(SIGKILL);
    server->Wait();
    {
      std::lock_guard<std::mutex> lock(addr_mu);
      address.clear();
    }
    stop_drivers = true;
    for (auto& t : drivers) t.join();
    // Some rounds restart at once, some let the subscribers back off first.
    std::this_thread::sleep_for(milliseconds(rng() % 2 ? 0 : 300));
  }

  // A last, healthy server: every subscriber catches up to the newest event.
  std::string addr = StartServe(server, fx.config_path);
  {
    std::lock_guard<std::mutex> lock(addr_mu);
    address = addr;
  }
  std::uint64_t newest = 0;
  {
    AlertClient c(fx.Watcher(addr));
    auto list = c.ListActive({});
    ASSERT_TRUE(list.ok()) << list.error.message;
    newest = list.value->sequence;
  }
  auto deadline = std::chrono::steady_clock::now() + seconds(30);
  for (auto& s : subs)
    while (s->sub->last_sequence() < newest && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));
  for (auto& s : subs) {
    s->sub->Stop();
    if (s->thread.joinable()) s->thread.join();
    EXPECT_TRUE(s->result.ok()) << s->result.message;
  }
  server->Signal(SIGTERM);
  server->Wait();

  AlertStore store(fx.store_path);
  const std::vector<AlertEvent> truth = store.ReadEvents(0, 10000000);
  ASSERT_FALSE(truth.empty());
  EXPECT_EQ(truth.back().sequence, newest);
  for (std::size_t i = 1; i < truth.size(); ++i)
    ASSERT_LT(truth[i - 1].sequence, truth[i].sequence) << "outbox not strictly increasing";
  std::printf("crash test: %zu events committed over %d kills; subscribers started after",
              truth.size(), rounds);
  for (auto& s : subs) std::printf(" #%llu", static_cast<unsigned long long>(s->start));
  std::printf("\n");

  // Each subscriber: exactly the committed events after its start, in order.
  for (std::size_t k = 0; k < subs.size(); ++k) {
    Subscriber& s = *subs[k];
    std::vector<const AlertEvent*> expected;
    for (const auto& e : truth)
      if (e.sequence > s.start) expected.push_back(&e);
    SCOPED_TRACE("subscriber " + std::to_string(k) + " from #" + std::to_string(s.start));
    EXPECT_EQ(s.sub->stats().duplicates_dropped, 0u) << "the server re-sent delivered events";
    ASSERT_EQ(s.received.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(s.received[i].sequence, expected[i]->sequence) << "position " << i;
      EXPECT_EQ(s.received[i].alert_id, expected[i]->alert.id) << "#" << expected[i]->sequence;
      EXPECT_EQ(s.received[i].kind, expected[i]->kind) << "#" << expected[i]->sequence;
    }
    EXPECT_GE(s.sub->stats().disconnects, 1u) << "the subscriber never saw a kill";
  }

  // Nothing the server confirmed is lost.
  std::set<std::pair<std::string, EventKind>> committed;
  for (const auto& e : truth) committed.insert({e.alert.id, e.kind});
  EXPECT_GT(confirmed.size(), 0u);
  for (const auto& c : confirmed)
    EXPECT_TRUE(committed.count({c.alert_id, c.kind}))
        << "confirmed " << ToString(c.kind) << " of " << c.alert_id << " is not in the outbox";
}

}  // namespace
}  // namespace floodwarn::testing
