// The durable alert store on real SQLite files: sequences, atomicity,
// outbox reads and retention, the audit hash chain, concurrency, delivery
// idempotency and start-up errors.
#include "floodwarn/alerting/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_store_util.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {
using namespace testutil;
namespace fs = std::filesystem;

std::string NewDbPath() { return floodwarn::testing::MakeTempDir("store") + "/alerts.db"; }

// Raw access to the database file, bypassing the store (as an attacker or a
// broken tool would).
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open");
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  // Returns the SQLite error message, or "" on success.
  std::string Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = rc == SQLITE_OK ? "" : (err ? err : "error");
    sqlite3_free(err);
    return msg;
  }
  std::int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

Changeset Batch(int n, int events) {
  Changeset c;
  std::string id = "fw.alert" + std::to_string(n % 5);
  c.alerts.push_back(SampleAlert(id, n));
  for (int i = 0; i < events; ++i) c.events.push_back(SampleEvent(id, n * 100 + i));
  c.audit.push_back(SampleAudit("transition", n));
  return c;
}

std::uint64_t ApplyOk(AlertStore& s, const Changeset& c) {
  auto r = s.Apply(c);
  EXPECT_TRUE(r.ok()) << r.error.message;
  if (!r.ok() || r.value->empty()) return 0;
  return r.value->back().sequence;
}

TEST(AlertStore, SequencesAreConsecutiveAndContinueAfterReopenAndCompact) {
  std::string path = NewDbPath();
  std::uint64_t expected = 0;
  {
    AlertStore s(path);
    EXPECT_EQ(s.LastSequence(), 0u);
    EXPECT_EQ(s.FirstRetainedSequence(), 0u);
    for (int n = 0; n < 50; ++n) {
      auto r = s.Apply(Batch(n, 1 + n % 3));
      ASSERT_TRUE(r.ok()) << r.error.message;
      for (const AlertEvent& e : *r.value) EXPECT_EQ(e.sequence, ++expected);
    }
    // A change without events does not consume a sequence.
    Changeset no_events = Batch(99, 0);
    ASSERT_TRUE(s.Apply(no_events).ok());
    EXPECT_EQ(s.LastSequence(), expected);
  }
  {
    AlertStore s(path);
    EXPECT_EQ(s.LastSequence(), expected);
    auto r = s.Apply(Batch(60, 2));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r.value)[0].sequence, expected + 1);
    EXPECT_EQ((*r.value)[1].sequence, expected + 2);
    expected += 2;
    // Everything is older than the retention: all but the newest row go.
    std::size_t deleted = s.Compact(Ms(1700000200000) + std::chrono::hours(24 * 365));
    EXPECT_EQ(deleted, expected - 1);
    EXPECT_EQ(s.FirstRetainedSequence(), expected);
    EXPECT_EQ(s.LastSequence(), expected);
  }
  {
    // Even with every outbox row deleted behind its back, the high-water mark
    // in `meta` keeps sequences from being reused.
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("DELETE FROM outbox"), "");
  }
  {
    AlertStore s(path);
    EXPECT_EQ(s.LastSequence(), expected);
    EXPECT_EQ(ApplyOk(s, Batch(70, 1)), expected + 1);
  }
}

TEST(AlertStore, FailedChangesetLeavesNothingBehindAndNoGap) {
  std::string path = NewDbPath();
  AlertStore s(path);
  ASSERT_EQ(ApplyOk(s, Batch(1, 3)), 3u);
  {
    // A trigger that fails the LAST insert of a changeset (the audit entry),
    // after its alert, silence and outbox rows have been written.
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("CREATE TRIGGER poison BEFORE INSERT ON audit WHEN NEW.action = 'poison' "
                       "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"),
              "");
  }
  Changeset bad = Batch(2, 3);
  bad.alerts[0].id = "fw.never";
  bad.silences.push_back(SampleSilence("sil.never"));
  bad.audit.push_back(SampleAudit("poison"));
  auto r = s.Apply(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.message.find("poisoned"), std::string::npos) << r.error.message;
  EXPECT_NE(r.error.message.find("audit"), std::string::npos) << r.error.message;

  EXPECT_FALSE(s.GetAlert("fw.never").has_value());
  EXPECT_TRUE(s.LoadSilences().empty());
  EXPECT_EQ(s.LastSequence(), 3u);
  EXPECT_TRUE(s.ReadEvents(3, 100).empty());
  EXPECT_EQ(s.ReadAudit(0, 100).size(), 1u);

  // Validation failures are values too and write nothing.
  Changeset invalid = Batch(3, 1);
  invalid.alerts.push_back(SampleAlert(""));
  auto r2 = s.Apply(invalid);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r2.error.message.find("alerts[1].id is empty"), std::string::npos);
  Changeset bad_text = Batch(4, 2);
  bad_text.events[1].note = "\xc3\x28";  // invalid UTF-8
  auto r3 = s.Apply(bad_text);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error.code, ErrorCode::kInvalidArgument) << r3.error.message;
  EXPECT_EQ(s.LastSequence(), 3u);

  // The next good change gets the next sequence: no gap after a rollback.
  auto ok = s.Apply(Batch(5, 2));
  ASSERT_TRUE(ok.ok()) << ok.error.message;
  EXPECT_EQ((*ok.value)[0].sequence, 4u);
  auto events = s.ReadEvents(0, 100);
  ASSERT_EQ(events.size(), 5u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence, i + 1);
  EXPECT_EQ(s.VerifyAuditChain(), 0u);
}

TEST(AlertStore, ReadEventsIsAscendingExactAndPaged) {
  std::string path = NewDbPath();
  std::vector<AlertEvent> written;
  {
    AlertStore s(path);
    for (int n = 0; n < 10; ++n) {
      auto r = s.Apply(Batch(n, 3));
      ASSERT_TRUE(r.ok());
      written.insert(written.end(), r.value->begin(), r.value->end());
    }
  }
  AlertStore s(path);  // read back from the file, not from a cache
  auto all = s.ReadEvents(0, 1000);
  ASSERT_EQ(all.size(), 30u);
  for (std::size_t i = 0; i < all.size(); ++i) ExpectSameEvent(written[i], all[i]);
  // Paging: after=7, max=5 -> 8..12.
  auto page = s.ReadEvents(7, 5);
  ASSERT_EQ(page.size(), 5u);
  EXPECT_EQ(page.front().sequence, 8u);
  EXPECT_EQ(page.back().sequence, 12u);
  EXPECT_TRUE(s.ReadEvents(30, 10).empty());
  EXPECT_TRUE(s.ReadEvents(0, 0).empty());
}

TEST(AlertStore, CompactKeepsEventsInsideRetentionAsAContiguousSuffix) {
  StoreOptions opt;
  opt.retention = std::chrono::hours(1);
  AlertStore s(NewDbPath(), opt);
  const TimePoint t0 = Ms(1700000000000);
  // Event times are not monotonic in sequence: seq 3 is "old" again.
  int minutes[] = {0, 10, 200, 5, 150, 160};
  for (int m : minutes) {
    Changeset c;
    AlertEvent e = SampleEvent("fw.a");
    e.at = t0 + std::chrono::minutes(m);
    c.events.push_back(e);
    ASSERT_TRUE(s.Apply(c).ok());
  }
  // now = t0 + 200 min, cutoff = t0 + 140 min: the first event inside the
  // window is seq 3; seq 4 (old) is kept because a newer one precedes it.
  EXPECT_EQ(s.Compact(t0 + std::chrono::minutes(200)), 2u);
  EXPECT_EQ(s.FirstRetainedSequence(), 3u);
  auto left = s.ReadEvents(0, 10);
  ASSERT_EQ(left.size(), 4u);
  EXPECT_EQ(left[0].sequence, 3u);
  EXPECT_EQ(left[3].sequence, 6u);
  EXPECT_EQ(s.Compact(t0 + std::chrono::minutes(200)), 0u);  // idempotent
}

TEST(AlertStore, ReadOutboxResetsWhenTheCursorIsCompactedAwayOrFromTheFuture) {
  StoreOptions opt;
  opt.retention = std::chrono::hours(1);
  AlertStore s(NewDbPath(), opt);
  auto empty = s.ReadOutbox(0, 10);
  EXPECT_FALSE(empty.reset);
  EXPECT_TRUE(empty.events.empty());
  EXPECT_TRUE(s.ReadOutbox(5, 10).reset);  // a cursor this store never issued

  const TimePoint t0 = Ms(1700000000000);
  for (int m = 0; m < 10; ++m) {
    Changeset c;
    AlertEvent e = SampleEvent("fw.a", m);
    e.at = t0 + std::chrono::minutes(10 * m);
    c.events.push_back(e);
    ASSERT_TRUE(s.Apply(c).ok());
  }
  auto full = s.ReadOutbox(0, 3);
  EXPECT_FALSE(full.reset);
  ASSERT_EQ(full.events.size(), 3u);
  EXPECT_EQ(full.events[0].sequence, 1u);
  EXPECT_EQ(full.last_sequence, 10u);
  EXPECT_EQ(full.first_retained, 1u);

  // cutoff = t0 + 30 min: seqs 1..3 go, 4..10 stay.
  ASSERT_EQ(s.Compact(t0 + std::chrono::minutes(90)), 3u);
  auto gone = s.ReadOutbox(2, 10);  // seq 3 is missing for this subscriber
  EXPECT_TRUE(gone.reset);
  EXPECT_TRUE(gone.events.empty());
  EXPECT_EQ(gone.first_retained, 4u);
  EXPECT_EQ(gone.last_sequence, 10u);
  EXPECT_TRUE(s.ReadOutbox(0, 10).reset);
  auto edge = s.ReadOutbox(3, 10);  // saw 3, next is 4: still complete
  EXPECT_FALSE(edge.reset);
  ASSERT_EQ(edge.events.size(), 7u);
  EXPECT_EQ(edge.events.front().sequence, 4u);
  auto caught_up = s.ReadOutbox(10, 10);
  EXPECT_FALSE(caught_up.reset);
  EXPECT_TRUE(caught_up.events.empty());
  EXPECT_TRUE(s.ReadOutbox(11, 10).reset);
}

TEST(AlertStore, StateUpsertsAndOpenAlerts) {
  AlertStore s(NewDbPath());
  Changeset c;
  c.alerts.push_back(SampleAlert("fw.a"));
  c.alerts.push_back(SampleAlert("fw.b"));
  c.alerts[1].state = AlertState::kResolved;
  c.silences.push_back(SampleSilence("sil.1"));
  ASSERT_TRUE(s.Apply(c).ok());
  auto open = s.LoadOpenAlerts();
  ASSERT_EQ(open.size(), 1u);
  ExpectSameAlert(open[0], c.alerts[0]);
  ASSERT_TRUE(s.GetAlert("fw.b").has_value());
  EXPECT_EQ(s.GetAlert("fw.b")->state, AlertState::kResolved);
  EXPECT_FALSE(s.GetAlert("fw.zzz").has_value());

  Changeset up;
  up.alerts.push_back(c.alerts[0]);
  up.alerts[0].level = 4;
  up.alerts[0].state = AlertState::kResolved;
  up.silences.push_back(SampleSilence("sil.1"));
  up.silences[0].reason = "changed";
  ASSERT_TRUE(s.Apply(up).ok());
  EXPECT_TRUE(s.LoadOpenAlerts().empty());
  EXPECT_EQ(s.GetAlert("fw.a")->level, 4);
  auto sil = s.LoadSilences();
  ASSERT_EQ(sil.size(), 1u);
  EXPECT_EQ(sil[0].reason, "changed");

  Changeset bad_level;
  bad_level.alerts.push_back(SampleAlert("fw.c"));
  bad_level.alerts[0].level = 5;
  auto r = s.Apply(bad_level);
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error.message.find("level 5 is outside 0..4"), std::string::npos);
}

TEST(AlertStore, AuditChainVerifiesAndFindsTampering) {
  std::string path = NewDbPath();
  AlertStore s(path);
  for (int n = 0; n < 5; ++n) {
    Changeset c;
    c.audit.push_back(SampleAudit("acknowledge", 2 * n));
    c.audit.push_back(SampleAudit("silence", 2 * n + 1));
    ASSERT_TRUE(s.Apply(c).ok());
  }
  auto log = s.ReadAudit(0, 100);
  ASSERT_EQ(log.size(), 10u);
  EXPECT_EQ(log[0].prev_hash, std::string(64, '0'));
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].id, i + 1);
    EXPECT_EQ(log[i].hash.size(), 64u);
    if (i > 0) {
      EXPECT_EQ(log[i].prev_hash, log[i - 1].hash);
    }
  }
  // Known answer: SHA-256 of the documented canonical bytes of entry 1,
  // computed independently with `printf '...' | sha256sum` (STORE.md).
  EXPECT_EQ(log[0].hash, "62dde0160536c20cd744951c3ce6ce69126681904563dd5e7a38192ea866f581");
  auto page = s.ReadAudit(8, 5);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 9u);
  EXPECT_EQ(s.VerifyAuditChain(), 0u);

  RawDb raw(path);
  // The schema refuses UPDATE and DELETE of audit rows ...
  EXPECT_NE(raw.Exec("UPDATE audit SET detail = 'x' WHERE id = 4").find("append-only"),
            std::string::npos);
  EXPECT_NE(raw.Exec("DELETE FROM audit WHERE id = 4").find("append-only"), std::string::npos);
  EXPECT_EQ(s.VerifyAuditChain(), 0u);
  // ... and a tamperer who drops the trigger is caught by the chain.
  ASSERT_EQ(raw.Exec("DROP TRIGGER audit_no_update"), "");
  ASSERT_EQ(raw.Exec("UPDATE audit SET detail = 'nothing happened' WHERE id = 4"), "");
  EXPECT_EQ(s.VerifyAuditChain(), 4u);
}

TEST(AlertStore, AuditChainFindsADeletedRow) {
  std::string path = NewDbPath();
  AlertStore s(path);
  Changeset c;
  for (int n = 0; n < 6; ++n) c.audit.push_back(SampleAudit("transition", n));
  ASSERT_TRUE(s.Apply(c).ok());
  RawDb raw(path);
  ASSERT_EQ(raw.Exec("DROP TRIGGER audit_no_delete"), "");
  ASSERT_EQ(raw.Exec("DELETE FROM audit WHERE id = 3"), "");
  EXPECT_EQ(s.VerifyAuditChain(), 4u);
}

TEST(AlertStore, ConcurrentReadersSeeEverySequenceOnceInOrderNeverATornBatch) {
  StoreOptions opt;
  opt.synchronous_full = false;  // durability is not under test here; keeps it quick
  AlertStore s(NewDbPath(), opt);
  constexpr int kApplies = 2000;
  constexpr int kBatch = 3;
  std::atomic<bool> done{false};
  auto reader = [&](std::string* failure, std::uint64_t* seen) {
    std::uint64_t last = 0;
    for (;;) {
      bool finished = done.load();
      auto events = s.ReadEvents(last, 64);
      if (!events.empty() && events.size() < 64 && events.back().sequence % kBatch != 0) {
        // A read that is not cut by the page limit ends on a batch boundary.
        *failure = "torn batch: read ended at " + std::to_string(events.back().sequence);
        return;
      }
      for (const AlertEvent& e : events) {
        if (e.sequence != last + 1) {
          *failure = "expected " + std::to_string(last + 1) + ", got " + std::to_string(e.sequence);
          return;
        }
        // The note says which batch and which member the event was.
        std::uint64_t batch = (e.sequence - 1) / kBatch;
        std::string want = "event " + std::to_string(batch * 100 + (e.sequence - 1) % kBatch);
        if (e.note != want) {
          *failure = "seq " + std::to_string(e.sequence) + " note '" + e.note + "'";
          return;
        }
        last = e.sequence;
      }
      if (events.empty() && finished) break;
    }
    *seen = last;
  };
  std::string f1, f2;
  std::uint64_t seen1 = 0, seen2 = 0;
  std::thread r1(reader, &f1, &seen1), r2(reader, &f2, &seen2);
  std::string write_failure;
  for (int n = 0; n < kApplies; ++n) {
    Changeset c;
    for (int i = 0; i < kBatch; ++i) c.events.push_back(SampleEvent("fw.a", n * 100 + i));
    auto r = s.Apply(c);
    if (!r.ok()) {
      write_failure = r.error.message;
      break;
    }
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(write_failure, "");
  EXPECT_EQ(f1, "");
  EXPECT_EQ(f2, "");
  EXPECT_EQ(seen1, std::uint64_t{kApplies * kBatch});
  EXPECT_EQ(seen2, std::uint64_t{kApplies * kBatch});
}

TEST(AlertStore, ReadOutboxUnderConcurrentCompactIsGaplessOrAnExplicitReset) {
  StoreOptions opt;
  opt.synchronous_full = false;
  opt.retention = std::chrono::seconds(20);
  AlertStore s(NewDbPath(), opt);
  const TimePoint t0 = Ms(1700000000000);
  constexpr int kApplies = 600;
  std::atomic<bool> done{false};
  auto reader = [&](bool wait_for_compaction, std::string* failure, int* resets) {
    if (wait_for_compaction) {
      // Start from 0 only once event 1 is gone: the first read must reset.
      while (s.FirstRetainedSequence() <= 1 && !done.load()) std::this_thread::yield();
    }
    std::uint64_t cursor = 0;
    for (;;) {
      bool finished = done.load();
      auto r = s.ReadOutbox(cursor, 16);
      if (r.reset) {
        if (!r.events.empty()) *failure = "reset with events";
        if (cursor + 1 >= r.first_retained && cursor <= r.last_sequence)
          *failure = "reset without cause at cursor " + std::to_string(cursor);
        if (!failure->empty()) return;
        ++*resets;
        cursor = r.last_sequence;
        continue;
      }
      for (const AlertEvent& e : r.events) {
        if (e.sequence != cursor + 1) {
          *failure =
              "gap: cursor " + std::to_string(cursor) + ", got " + std::to_string(e.sequence);
          return;
        }
        cursor = e.sequence;
      }
      if (r.events.empty() && finished) break;
    }
    if (cursor != std::uint64_t{kApplies * 3}) *failure = "ended at " + std::to_string(cursor);
  };
  std::string f_fast, f_slow;
  int resets_fast = 0, resets_slow = 0;
  std::thread fast(reader, false, &f_fast, &resets_fast);
  std::thread slow(reader, true, &f_slow, &resets_slow);
  for (int n = 0; n < kApplies; ++n) {
    Changeset c;
    for (int i = 0; i < 3; ++i) {
      c.events.push_back(SampleEvent("fw.a", n * 100 + i));
      c.events.back().at = t0 + std::chrono::seconds(n);
    }
    ASSERT_TRUE(s.Apply(c).ok());
    if (n % 25 == 24) s.Compact(t0 + std::chrono::seconds(n));
  }
  done = true;
  fast.join();
  slow.join();
  EXPECT_EQ(f_fast, "");
  EXPECT_EQ(f_slow, "");
  EXPECT_GE(resets_slow, 1);
  EXPECT_GT(s.FirstRetainedSequence(), 1u);
}

TEST(AlertStore, DeliveriesAreIdempotentAndCursorsSurviveReopen) {
  std::string path = NewDbPath();
  {
    AlertStore s(path);
    EXPECT_EQ(s.GetCursor("siren"), 0u);
    EXPECT_TRUE(s.RecordDelivery("siren", "fw.a.1", Ms(1)));
    EXPECT_FALSE(s.RecordDelivery("siren", "fw.a.1", Ms(2)));
    EXPECT_TRUE(s.RecordDelivery("cell_broadcast", "fw.a.1", Ms(3)));  // per channel
    EXPECT_TRUE(s.WasDelivered("siren", "fw.a.1"));
    EXPECT_FALSE(s.WasDelivered("siren", "fw.a.2"));
    s.SetCursor("siren", 41);
    s.SetCursor("siren", 42);
    s.SetCursor("cell_broadcast", 7);
  }
  AlertStore s(path);
  EXPECT_FALSE(s.RecordDelivery("siren", "fw.a.1", Ms(4)));
  EXPECT_FALSE(s.RecordDelivery("cell_broadcast", "fw.a.1", Ms(4)));
  EXPECT_TRUE(s.WasDelivered("siren", "fw.a.1"));
  EXPECT_EQ(s.GetCursor("siren"), 42u);
  EXPECT_EQ(s.GetCursor("cell_broadcast"), 7u);
}

void ExpectOpenErrorWith(const std::string& path, const StoreOptions& opt,
                         const std::string& needle) {
  try {
    AlertStore s(path, opt);
    ADD_FAILURE() << "opened " << path;
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

void ExpectOpenError(const std::string& path, const std::string& needle) {
  ExpectOpenErrorWith(path, StoreOptions{}, needle);
}

TEST(AlertStore, StartUpErrorsNameTheFile) {
  std::string dir = floodwarn::testing::MakeTempDir("store");
  ExpectOpenError(dir + "/missing/dir/alerts.db", "cannot open");
  std::string text = dir + "/notes.txt";
  std::ofstream(text) << "this is not an SQLite database, just some text that is long enough "
                         "to fill a header page of a database file........................";
  ExpectOpenError(text, "not a database");
  EXPECT_THROW(AlertStore(":memory:"), std::runtime_error);
  EXPECT_THROW(AlertStore(""), std::runtime_error);

  std::string newer = dir + "/newer.db";
  { AlertStore s(newer); }
  {
    RawDb raw(newer);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = 2"), "");
  }
  ExpectOpenError(newer, "schema version 2 is newer");

  std::string foreign = dir + "/foreign.db";
  {
    RawDb raw(foreign);
    ASSERT_EQ(raw.Exec("CREATE TABLE t(x)"), "");
  }
  ExpectOpenError(foreign, "not a floodwarn alert store");
}

TEST(AlertStore, ExclusiveStoreRefusesASecondService) {
  std::string path = NewDbPath();
  StoreOptions opt;
  opt.exclusive = true;
  {
    AlertStore first(path, opt);
    ExpectOpenErrorWith(path, opt, "in use by another floodwarn service");
    AlertStore reader(path);  // a non-exclusive tool may still open it
    EXPECT_EQ(reader.LastSequence(), 0u);
  }
  AlertStore again(path, opt);  // released with the first store
  EXPECT_EQ(again.LastSequence(), 0u);
}

TEST(AlertStore, FileIsWalWithVersionedSchema) {
  std::string path = NewDbPath();
  { AlertStore s(path); }
  RawDb raw(path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 1);
  EXPECT_EQ(raw.Int("PRAGMA application_id"), 0x46574153);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace floodwarn::alerting
