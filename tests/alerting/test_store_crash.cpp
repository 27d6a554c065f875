// Crash test (integration): a child process applies batches to the store and
// reports each committed sequence after Apply returned; we SIGKILL it at
// random moments, reopen the file and check that nothing reported is lost,
// nothing is duplicated or torn, and a restarted child carries on.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "floodwarn/alerting/store.hpp"
#include "test_store_crash_events.hpp"
#include "test_store_util.hpp"
#include "test_support.hpp"

extern char** environ;

namespace floodwarn::alerting {
namespace {
using namespace std::chrono;

struct ChildRun {
  std::uint64_t start = 0;  // LastSequence the child saw when it opened the store
  bool started = false;
  std::vector<std::uint64_t> reported;
  int status = 0;
};

// Runs the child for `run_for`, then SIGKILLs it and collects what it printed.
ChildRun RunAndKill(const std::string& db, milliseconds run_for) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::string exe = FLOODWARN_STORE_CRASH_CHILD;
  std::vector<char*> argv = {exe.data(), const_cast<char*>(db.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + exe);

  std::string out;
  auto read_some = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return true;
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) return false;  // EOF: the child exited
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  auto deadline = steady_clock::now() + run_for;
  while (steady_clock::now() < deadline) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (!read_some(static_cast<int>(std::max<long>(1, left)))) break;
  }
  kill(pid, SIGKILL);
  while (read_some(1000)) {
  }
  close(fds[0]);
  ChildRun run;
  waitpid(pid, &run.status, 0);

  std::istringstream lines(out);
  std::string word;
  std::uint64_t value = 0;
  while (lines >> word >> value) {
    if (word == "start") {
      run.start = value;
      run.started = true;
    } else if (word == "seq") {
      run.reported.push_back(value);
    }
  }
  return run;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  std::string result = "prepare failed";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK) {
    result.clear();
    while (sqlite3_step(s) == SQLITE_ROW)
      result += reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return result;
}

// Parses "pid=P n=N i=I".
bool ParseNote(const std::string& note, long* pid, long* n, int* i) {
  return std::sscanf(note.c_str(), "pid=%ld n=%ld i=%d", pid, n, i) == 3;
}

TEST(AlertStoreCrash, KilledWriterLosesNothingReportedAndRestarts) {
  const std::string db = floodwarn::testing::MakeTempDir("store_crash") + "/alerts.db";
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(30, 400);
  std::set<std::uint64_t> all_reported;
  std::uint64_t last_seen = 0;
  int rounds_with_commits = 0;
  constexpr int kRounds = 8;

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // The first round gets extra time: it creates the file.
    ChildRun run = RunAndKill(db, milliseconds(delay_ms(rng) + (round == 0 ? 300 : 0)));
    ASSERT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL)
        << "the child ended by itself (status " << run.status << "): see its stderr above";
    ASSERT_TRUE(run.started) << "the child never opened the store";
    // A restarted child continues from where the last one's commits ended.
    EXPECT_EQ(run.start, last_seen);
    if (!run.reported.empty()) {
      ++rounds_with_commits;
      EXPECT_EQ(run.reported.front(), last_seen + crashtest::kBatch);
    }
    all_reported.insert(run.reported.begin(), run.reported.end());

    ASSERT_EQ(IntegrityCheck(db), "ok");
    AlertStore store(db);
    const std::uint64_t last = store.LastSequence();
    // What was reported is committed; at most the one batch whose report the
    // kill cut off may be there without being reported.
    ASSERT_FALSE(all_reported.empty() && last < *all_reported.rbegin());
    if (!all_reported.empty()) {
      EXPECT_LE(last, *all_reported.rbegin() + crashtest::kBatch);
    }
    EXPECT_EQ(last % crashtest::kBatch, 0u) << "a torn batch";

    auto events = store.ReadEvents(0, 1000000);
    ASSERT_EQ(events.size(), last) << "sequences are not contiguous from 1";
    std::map<long, long> next_n;  // per child pid: the next batch counter
    std::size_t batches = 0;
    for (std::size_t k = 0; k < events.size(); ++k) {
      const AlertEvent& e = events[k];
      ASSERT_EQ(e.sequence, k + 1);
      long pid = 0, n = 0;
      int i = 0;
      ASSERT_TRUE(ParseNote(e.note, &pid, &n, &i)) << e.note;
      ASSERT_EQ(i, static_cast<int>(k % crashtest::kBatch)) << "seq " << e.sequence;
      if (i == 0) {
        // Every batch of a child is there, in order, none twice.
        ASSERT_EQ(n, next_n[pid]) << "seq " << e.sequence;
        ++next_n[pid];
        ++batches;
      }
      AlertEvent want = crashtest::MakeEvent(pid, n, i);
      want.sequence = e.sequence;
      testutil::ExpectSameEvent(want, e);
    }
    for (std::uint64_t s : all_reported) EXPECT_LE(s, last);

    auto audit = store.ReadAudit(0, 1000000);
    EXPECT_EQ(audit.size(), batches);
    for (std::size_t b = 0; b < std::min(audit.size(), batches); ++b)
      EXPECT_EQ(audit[b].detail, events[b * crashtest::kBatch + 2].note);
    EXPECT_EQ(store.VerifyAuditChain(), 0u);
    if (last > 0) {
      // The alert row carries the state of the last committed batch.
      const AlertEvent& newest = events.back();
      auto alert = store.GetAlert(newest.alert.id);
      ASSERT_TRUE(alert.has_value());
      testutil::ExpectSameAlert(*alert, newest.alert);
    }
    last_seen = last;
  }
  // The test is only meaningful when the children got to commit something.
  EXPECT_GE(rounds_with_commits, kRounds / 2);
  std::printf("crash test: %d rounds, %zu reported commits, last sequence %llu\n", kRounds,
              all_reported.size(), static_cast<unsigned long long>(last_seen));
}

}  // namespace
}  // namespace floodwarn::alerting
