// Integration tests of the alerting clients against the real server process:
// `floodwarn watch` (one line per event, each once, in order, across a server
// SIGKILL and restart), `floodwarn ack` (result printed; gRPC status message
// and a non-zero exit on failure), and the C++ client library's filtered,
// resuming subscription. Truth for "every event" is the store's outbox, read
// directly after the server has stopped.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"
#include "floodwarn/alerting/store.hpp"
#include "test_client_harness.hpp"

namespace floodwarn::testing {
namespace {

using alerting::AlertClient;
using alerting::ManualAlertRequest;
using std::chrono::milliseconds;
using std::chrono::seconds;

ManualAlertRequest Manual(const std::string& subject, int level, const std::string& area) {
  ManualAlertRequest r;
  r.subject = subject;
  r.level = level;
  r.area_id = area;
  r.headline_de = "Hochwasserwarnung " + subject;
  r.headline_en = "Flood warning " + subject;
  return r;
}

// Sequences printed by floodwarn watch, in print order ("<time>  #<seq> <kind> ...").
std::vector<std::uint64_t> PrintedSequences(const std::vector<std::string>& lines) {
  static const std::regex re(R"(^\S+Z  #(\d+)\s)");
  std::vector<std::uint64_t> out;
  std::smatch m;
  for (const auto& l : lines)
    if (std::regex_search(l, m, re)) out.push_back(std::stoull(m[1].str()));
  return out;
}

bool HasLine(const std::vector<std::string>& lines, std::initializer_list<std::string> parts) {
  for (const auto& l : lines) {
    bool all = true;
    for (const auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::vector<std::uint64_t> StoreSequences(const std::string& path) {
  alerting::AlertStore store(path);
  std::vector<std::uint64_t> out;
  for (const auto& e : store.ReadEvents(0, 1000000)) out.push_back(e.sequence);
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(WatchCommand, PrintsEveryEventOnceInOrderAcrossAServerKillAndRestart) {
  // A fixed (probed) port: watch reconnects to the address it was given.
  const std::string addr = "127.0.0.1:" + std::to_string(ProbeFreePort());
  ServeFixture fx = ServeFixture::Create(addr);
  std::unique_ptr<ChildProcess> server;
  ASSERT_EQ(StartServe(server, fx.config_path), addr);

  std::string id_a;
  {
    AlertClient op(fx.Operator(addr));
    auto a = op.IssueManual(Manual("Deich Nord", 3, "talstadt"));
    ASSERT_TRUE(a.ok()) << a.error.message;
    id_a = a.value->id;
  }

  ChildProcess watch(Concat({FloodwarnBinary(), "watch", "--from", "0", "--idle-timeout", "5"},
                            fx.CliArgs(addr, "watcher")));
  ASSERT_TRUE(watch.WaitFor(
      [&](const auto& lines) {
        return HasLine(lines, {"raised", id_a, "level 3 Severe"});
      },
      seconds(15)))
      << watch.Output();

  // The server dies without a goodbye; watch must notice and retry.
  server->Signal(SIGKILL);
  server->Wait();
  ASSERT_TRUE(watch.WaitForLine("connection lost", seconds(15))) << watch.Output();

  // Restart on the same store and port; commit events at once, while watch
  // is still backing off: it must fetch them by resuming after its last line.
  ASSERT_EQ(StartServe(server, fx.config_path), addr);
  std::string id_b;
  {
    AlertClient op(fx.Operator(addr));
    auto b = op.IssueManual(Manual("Unterführung", 2, "unterstadt"));
    ASSERT_TRUE(b.ok()) << b.error.message;
    id_b = b.value->id;
    auto r = op.ResolveManual(id_a, "Deich hält");
    ASSERT_TRUE(r.ok()) << r.error.message;
  }
  ASSERT_TRUE(watch.WaitFor(
      [&](const auto& lines) {
        return HasLine(lines, {"raised", id_b}) && HasLine(lines, {"resolved", id_a});
      },
      seconds(20)))
      << watch.Output();

  // floodwarn ack prints the result; watch prints the acknowledgement.
  ChildProcess ack(Concat({FloodwarnBinary(), "ack", id_b, "--note", "Pegel geprüft"},
                          fx.CliArgs(addr, "operator")));
  ASSERT_EQ(ack.Wait(), 0) << ack.Output();
  EXPECT_TRUE(HasLine(ack.Lines(), {"acknowledged " + id_b})) << ack.Output();
  EXPECT_TRUE(HasLine(ack.Lines(), {"by operator", "Pegel geprüft"})) << ack.Output();
  ASSERT_TRUE(watch.WaitFor(
      [&](const auto& lines) {
        return HasLine(lines, {"acknowledged", id_b, "by=operator", "Pegel geprüft"});
      },
      seconds(15)))
      << watch.Output();

  watch.Signal(SIGTERM);
  EXPECT_EQ(watch.Wait(), 0) << watch.Output();
  server->Signal(SIGTERM);
  server->Wait();

  // Every committed event printed exactly once, in sequence order.
  const std::vector<std::uint64_t> truth = StoreSequences(fx.store_path);
  ASSERT_GE(truth.size(), 4u);
  EXPECT_EQ(PrintedSequences(watch.Lines()), truth) << watch.Output();
}

TEST(WatchCommand, WithoutFromListsTheActiveAlertsFirst) {
  ServeFixture fx = ServeFixture::Create();
  std::unique_ptr<ChildProcess> server;
  const std::string addr = StartServe(server, fx.config_path);
  AlertClient op(fx.Operator(addr));
  auto a = op.IssueManual(Manual("Altarm", 2, "talstadt"));
  ASSERT_TRUE(a.ok()) << a.error.message;

  ChildProcess watch(Concat({FloodwarnBinary(), "watch"}, fx.CliArgs(addr, "watcher")));
  ASSERT_TRUE(watch.WaitForLine("watching ", seconds(15))) << watch.Output();
  auto lines = watch.Lines();
  EXPECT_TRUE(HasLine(lines, {"active alerts at #", ": 1"})) << watch.Output();
  EXPECT_TRUE(HasLine(lines, {a.value->id, "level 2 Moderate"})) << watch.Output();
  // Nothing replayed: the listing already holds the state.
  EXPECT_TRUE(PrintedSequences(lines).empty()) << watch.Output();

  auto b = op.IssueManual(Manual("Mühlgraben", 4, "talstadt"));
  ASSERT_TRUE(b.ok()) << b.error.message;
  ASSERT_TRUE(watch.WaitFor(
      [&](const auto& l) {
        return HasLine(l, {"raised", b.value->id, "level 4 Extreme"});
      },
      seconds(15)))
      << watch.Output();
  EXPECT_FALSE(HasLine(watch.Lines(), {"raised", a.value->id})) << watch.Output();
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(), 0) << watch.Output();
}

TEST(WatchCommand, ForecastAlertsShowWhenTheThresholdIsExpected) {
  ServeFixture fx = ServeFixture::Create();
  // A forecast alert as the engine commits it, stored before serve starts
  // (no forecast producer feeds serve yet; its rule is not in this config,
  // so serve keeps it open as an orphan, which is all this test needs).
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto onset = now + std::chrono::minutes(90);
  alerting::Alert a;
  a.id = "fw.forecast-test.1";
  a.rule_id = "forecast-schule";
  a.subject = "schule";
  a.subject_name = "Grundschule Talstadt";
  a.kind = alerting::RuleKind::kForecastDepth;
  a.level = 3;
  a.state = alerting::AlertState::kActive;
  a.area.id = "talstadt";
  a.headline_en = "Forecast: flooding at the school";
  a.first_seen = a.activated = a.last_change = now;
  a.onset = onset;
  {
    alerting::AlertStore store(fx.store_path);
    alerting::Changeset c;
    c.alerts.push_back(a);
    alerting::AlertEvent e;
    e.kind = alerting::EventKind::kRaised;
    e.at = now;
    e.alert = a;
    e.actor = "system";
    c.events.push_back(e);
    ASSERT_TRUE(store.Apply(c).ok());
  }
  // "2026-11-22T16:05:00.123Z", computed here rather than by the code under test.
  const std::time_t secs = std::chrono::system_clock::to_time_t(onset);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char expected[64];
  std::snprintf(expected, sizeof expected, "expected %s.%03dZ", buf,
                static_cast<int>(onset.time_since_epoch().count() % 1000));

  std::unique_ptr<ChildProcess> server;
  const std::string addr = StartServe(server, fx.config_path);
  ChildProcess replay(
      Concat({FloodwarnBinary(), "watch", "--from", "0"}, fx.CliArgs(addr, "watcher")));
  ASSERT_TRUE(replay.WaitFor(
      [&](const auto& lines) {
        return HasLine(lines, {"raised", a.id});
      },
      seconds(15)))
      << replay.Output();
  EXPECT_TRUE(HasLine(replay.Lines(), {"raised", a.id, expected})) << replay.Output();
  replay.Signal(SIGTERM);
  EXPECT_EQ(replay.Wait(), 0) << replay.Output();

  // The listing of active alerts shows it too.
  ChildProcess list(Concat({FloodwarnBinary(), "watch"}, fx.CliArgs(addr, "watcher")));
  ASSERT_TRUE(list.WaitForLine("watching ", seconds(15))) << list.Output();
  EXPECT_TRUE(HasLine(list.Lines(), {a.id, "level 3 Severe", expected})) << list.Output();
  list.Signal(SIGTERM);
  EXPECT_EQ(list.Wait(), 0) << list.Output();
}

TEST(AckCommand, FailuresExitNonZeroWithTheStatusMessage) {
  unsetenv("FLOODWARN_TOKEN");
  ServeFixture fx = ServeFixture::Create();
  std::unique_ptr<ChildProcess> server;
  const std::string addr = StartServe(server, fx.config_path);
  AlertClient op(fx.Operator(addr));
  auto a = op.IssueManual(Manual("Wehr", 2, "talstadt"));
  ASSERT_TRUE(a.ok()) << a.error.message;

  {  // unknown alert
    ChildProcess ack(Concat({FloodwarnBinary(), "ack", "fw.no-such-alert", "--note", "x"},
                            fx.CliArgs(addr, "operator")));
    EXPECT_NE(ack.Wait(), 0) << ack.Output();
    EXPECT_NE(ack.Output().find("NOT_FOUND"), std::string::npos) << ack.Output();
  }
  {  // a subscriber may not acknowledge
    ChildProcess ack(Concat({FloodwarnBinary(), "ack", a.value->id, "--note", "x"},
                            fx.CliArgs(addr, "watcher")));
    EXPECT_NE(ack.Wait(), 0) << ack.Output();
    EXPECT_NE(ack.Output().find("PERMISSION_DENIED"), std::string::npos) << ack.Output();
  }
  {  // no token at all: refused before connecting, naming the way to give one
    ChildProcess ack(
        {FloodwarnBinary(), "ack", a.value->id, "--server", addr, "--ca", fx.pki_dir + "/ca.pem"});
    EXPECT_NE(ack.Wait(), 0) << ack.Output();
    EXPECT_NE(ack.Output().find("FLOODWARN_TOKEN"), std::string::npos) << ack.Output();
  }
  {  // a wrong token: watch gives up (no retry loop) with UNAUTHENTICATED
    std::string bad = fx.dir + "/bad.token";
    std::ofstream(bad) << "not-a-token\n";
    ChildProcess watch({FloodwarnBinary(), "watch", "--from", "0", "--server", addr, "--ca",
                        fx.pki_dir + "/ca.pem", "--cert", fx.pki_dir + "/watcher.pem", "--key",
                        fx.pki_dir + "/watcher.key", "--token-file", bad});
    EXPECT_NE(watch.Wait(seconds(20)), 0) << watch.Output();
    EXPECT_NE(watch.Output().find("UNAUTHENTICATED"), std::string::npos) << watch.Output();
  }
  // The alert was not acknowledged by any of the failed attempts.
  auto now = op.GetAlert(a.value->id);
  ASSERT_TRUE(now.ok()) << now.error.message;
  EXPECT_FALSE(now.value->ack.has_value());
  EXPECT_EQ(now.value->state, alerting::AlertState::kActive);
}

TEST(ClientLibrary, FilteredSubscriptionSkipsOtherEventsAndHeartbeatsAdvanceTheCursor) {
  ServeFixture fx = ServeFixture::Create();
  std::unique_ptr<ChildProcess> server;
  const std::string addr = StartServe(server, fx.config_path);
  AlertClient op(fx.Operator(addr));
  auto high = op.IssueManual(Manual("Hauptdeich", 4, "talstadt"));
  ASSERT_TRUE(high.ok()) << high.error.message;
  auto low = op.IssueManual(Manual("Bach", 1, "talstadt"));
  ASSERT_TRUE(low.ok()) << low.error.message;
  auto list = op.ListActive({});
  ASSERT_TRUE(list.ok()) << list.error.message;
  const std::uint64_t newest = list.value->sequence;

  alerting::ResumeOptions resume;
  resume.initial_backoff = milliseconds(50);
  alerting::ResumingSubscriber sub(fx.Watcher(addr), resume);
  alerting::AlertFilter filter;
  filter.min_level = 3;
  std::mutex mu;
  std::vector<alerting::AlertEvent> events;
  std::thread t([&] {
    auto err = sub.Run(0, filter, [&](const alerting::StreamMessage& m) {
      if (m.type == alerting::StreamMessage::Type::kEvent) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(m.event);
      }
    });
    EXPECT_TRUE(err.ok()) << err.message;
  });
  // Heartbeats (every 500 ms) carry the cursor past the filtered-out events.
  auto deadline = std::chrono::steady_clock::now() + seconds(15);
  while (sub.last_sequence() < newest && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(50));
  sub.Stop();
  t.join();
  EXPECT_EQ(sub.last_sequence(), newest);
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) {
    EXPECT_GE(e.alert.level, 3) << e.alert.id;
    EXPECT_EQ(e.alert.id, high.value->id);
  }
  EXPECT_EQ(sub.stats().duplicates_dropped, 0u);
}

}  // namespace
}  // namespace floodwarn::testing
