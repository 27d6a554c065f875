// Crash test (issue 4): the ingest process (test_pipeline_crash_child: MQTT
// source -> decode -> pipeline -> SQLite) receives a burst of QoS 1 messages
// from a real mosquitto broker and is SIGKILLed at random points, then
// restarted with the same persistent session. Afterwards the store holds
// every reading the child acknowledged, exactly once, and passes
// integrity_check.
//
// What the MQTT layer adds (docs/ingest/LIVE.md, "What an MQTT ack means"):
// in batch mode the PUBACK leaves before our commit, so a message read by the
// child but not yet committed when it is killed is gone from the broker.
// Those never got an application ack; the publisher re-sends what was not
// acked (as a gateway that waits for our ack would), and the idempotent store
// absorbs the re-deliveries. The test reports how many that were. In
// commit-in-callback mode no re-send is needed (second test).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "floodwarn/ingest/reading_store.hpp"
#include "test_mqtt_broker_fixture.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kStations = 7;
constexpr int kKills = 8;
// 2024-01-01T00:00:00Z
constexpr long long kT0Ms = 1704067200000LL;

std::string Station(int seq) { return fmt::format("S{}", seq % kStations); }

std::string Payload(int seq) {
  const long long t = kT0Ms / 1000 + seq * 60LL;
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return fmt::format(R"({{"station":"{}","time":"{}","value":{},"unit":"cm"}})", Station(seq), buf,
                     seq);
}

// One run of the child: started, read until `stop` says so, then SIGKILLed.
class Child {
 public:
  Child(int port, const std::string& db, const char* mode) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      const std::string bin = ft::BinaryDir() + "/tests/ingest/test_pipeline_crash_child";
      const std::string p = std::to_string(port);
      execl(bin.c_str(), bin.c_str(), p.c_str(), db.c_str(), "floodwarn-crash-ingest", mode,
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    Kill();
    if (fd_ >= 0) close(fd_);
  }
  // Reads complete lines until `deadline`; returns false on EOF (child died).
  bool ReadUntil(std::chrono::steady_clock::time_point deadline,
                 const std::function<bool(const std::string&)>& on_line) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      pending_.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        const std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        if (on_line(line)) return true;
      }
    }
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;  // a partial line at the kill is not an ack
};

struct CrashOutcome {
  std::size_t acked_before_resend = 0;
};

// Runs the whole scenario for one child mode; gtest assertions inside.
void RunCrashScenario(const char* mode, int kMessages, CrashOutcome& outcome) {
  ft::MosquittoBroker broker;
  const std::string db = ft::MakeTempDir("crash") + "/readings.db";
  std::set<int> acked;
  auto collect = [&acked](const std::string& line) {
    if (line.rfind("ACK ", 0) == 0) acked.insert(std::stoi(line.substr(4)));
    return false;
  };
  auto ready = [](const std::string& line) { return line == "READY"; };

  // First run creates the persistent session before anything is published.
  auto child = std::make_unique<Child>(broker.port(), db, mode);
  ASSERT_TRUE(child->ReadUntil(std::chrono::steady_clock::now() + 15s, ready));

  std::atomic<bool> published{false};
  std::thread publisher([&] {
    ft::TestPublisher pub(broker.port(), "floodwarn-crash-publisher");
    for (int seq = 0; seq < kMessages; ++seq) {
      pub.Publish("crash/" + Station(seq), Payload(seq));
      if (seq % 25 == 24) std::this_thread::sleep_for(5ms);  // a burst over ~0.6 s per 1000
    }
    pub.WaitAllAcked(30s);
    published = true;
  });

  std::mt19937 rng(20241122);  // fixed: a failure is reproducible
  std::uniform_int_distribution<int> delay_ms(30, 250);
  for (int k = 0; k < kKills; ++k) {
    child->ReadUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng)),
                     collect);
    child->Kill();  // SIGKILL at a random point of the burst
    child.reset();
    child = std::make_unique<Child>(broker.port(), db, mode);
    const bool started =
        child->ReadUntil(std::chrono::steady_clock::now() + 15s, [&](const std::string& l) {
          collect(l);
          return ready(l);
        });
    if (!started) {
      publisher.join();
      FAIL() << "restarted child did not subscribe";
    }
  }
  publisher.join();
  ASSERT_TRUE(published);
  // Let the last child drain what the broker queued for the session: until
  // no ack came for a second.
  for (std::size_t before = acked.size() + 1; before != acked.size();) {
    before = acked.size();
    child->ReadUntil(std::chrono::steady_clock::now() + 1s, collect);
  }
  const std::size_t acked_before_resend = acked.size();

  // Application-level re-send of everything without an ack.
  {
    ft::TestPublisher pub(broker.port(), "floodwarn-crash-resender");
    for (int seq = 0; seq < kMessages; ++seq)
      if (!acked.count(seq)) pub.Publish("crash/" + Station(seq), Payload(seq));
    ASSERT_TRUE(pub.WaitAllAcked(30s));
  }
  if (acked.size() < static_cast<std::size_t>(kMessages))
    child->ReadUntil(std::chrono::steady_clock::now() + 20s, [&](const std::string& l) {
      collect(l);
      return acked.size() == static_cast<std::size_t>(kMessages);
    });
  child->Kill();
  child.reset();
  std::printf(
      "crash test (%s): %d kills, %zu of %d readings acknowledged before the re-send, %zu after\n",
      mode, kKills, acked_before_resend, kMessages, acked.size());
  outcome.acked_before_resend = acked_before_resend;

  // Reopen and check.
  fi::ReadingStore store(db);
  EXPECT_EQ(store.IntegrityCheck(), "ok");
  std::map<int, int> seen;  // seq -> rows
  for (int s = 0; s < kStations; ++s)
    for (const auto& r :
         store.Query(fmt::format("S{}", s), fi::TimePoint{}, fi::TimePoint::max())) {
      const int seq = static_cast<int>(r.value);
      ++seen[seq];
      EXPECT_EQ(r.observed.time_since_epoch().count(), kT0Ms + seq * 60000LL) << seq;
      EXPECT_EQ(r.station_id, Station(seq));
    }
  std::size_t missing_acked = 0, doubled = 0;
  for (int seq : acked)
    if (seen[seq] != 1) ++missing_acked;
  for (const auto& [seq, n] : seen)
    if (n != 1) ++doubled;
  EXPECT_EQ(missing_acked, 0u) << "acknowledged readings missing from the store";
  EXPECT_EQ(doubled, 0u);
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kMessages)) << "the re-send did not complete";
  EXPECT_EQ(store.Count(), static_cast<std::size_t>(kMessages));
  // the cursor was committed with the readings: it names an acknowledged reading
  auto cursor = store.Cursor("mqtt:crash");
  ASSERT_TRUE(cursor);
  EXPECT_TRUE(acked.count(std::stoi(*cursor))) << *cursor;
}

}  // namespace

// Default mode: the MQTT thread queues, a worker commits batches of up to 64.
TEST(PipelineCrash, BatchedNoAcknowledgedReadingIsLostOrDoubled) {
  CrashOutcome outcome;
  RunCrashScenario("batch", 3000, outcome);
}

// commit_in_callback (the default): libmosquitto's threaded loop writes the
// PUBACK only after on_message (our commit) returned, so a killed child
// never PUBACKed an uncommitted message and the broker re-delivers it to the
// persistent session: every message arrives without any re-send.
TEST(PipelineCrash, CommitInCallbackAcksOnlyAfterCommit) {
  CrashOutcome outcome;
  constexpr int kMessages = 1000;
  RunCrashScenario("callback", kMessages, outcome);
  EXPECT_EQ(outcome.acked_before_resend, static_cast<std::size_t>(kMessages))
      << "a message was PUBACKed before its commit: has libmosquitto's threaded-loop "
         "behaviour changed? (docs/ingest/LIVE.md)";
}
