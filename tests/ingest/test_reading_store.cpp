// ReadingStore: idempotent, batched, cursor in the same transaction,
// queries, pruning, thread safety, clear open errors.
#include "floodwarn/ingest/reading_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "test_support.hpp"

namespace fi = floodwarn::ingest;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

namespace {

fi::TimePoint T(long minutes_after_2024) {
  // 2024-01-01T00:00:00Z = 1704067200 s
  return fi::TimePoint(milliseconds(1704067200000LL)) + minutes(minutes_after_2024);
}

fi::Reading R(const std::string& station, long minute, double value,
              fi::QcFlag flag = fi::QcFlag::kPass, const std::string& source = "mqtt") {
  fi::Reading r;
  r.station_id = station;
  r.observed = T(minute);
  r.value = value;
  r.unit = "cm";
  r.flag = flag;
  r.source = source;
  r.received = T(minute) + milliseconds(1234);
  if (flag == fi::QcFlag::kSuspect) r.reason = "spike";
  return r;
}

std::string DbPath() { return floodwarn::testing::MakeTempDir("reading_store") + "/readings.db"; }

}  // namespace

TEST(ReadingStore, RoundTripsEveryField) {
  fi::ReadingStore store(DbPath());
  fi::Reading r = R("EITZE", 15, 369.5, fi::QcFlag::kSuspect, "pegelonline");
  r.quantity = fi::Quantity::kDischarge;
  r.unit = "m3/s";
  EXPECT_EQ(store.Write({r}).inserted, 1u);
  auto got = store.Query("EITZE", T(0), T(60));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].station_id, "EITZE");
  EXPECT_EQ(got[0].observed, T(15));
  EXPECT_EQ(got[0].value, 369.5);
  EXPECT_EQ(got[0].unit, "m3/s");
  EXPECT_EQ(got[0].quantity, fi::Quantity::kDischarge);
  EXPECT_EQ(got[0].flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(got[0].reason, "spike");
  EXPECT_EQ(got[0].source, "pegelonline");
  EXPECT_EQ(got[0].received, T(15) + milliseconds(1234));
}

TEST(ReadingStore, MissingValueStaysNaN) {
  fi::ReadingStore store(DbPath());
  store.Write({R("A", 0, std::numeric_limits<double>::quiet_NaN(), fi::QcFlag::kMissing)});
  auto latest = store.Latest("A");
  ASSERT_TRUE(latest);
  EXPECT_TRUE(std::isnan(latest->value));
  EXPECT_EQ(latest->flag, fi::QcFlag::kMissing);
}

TEST(ReadingStore, RedeliveryIsIgnoredAndCounted) {
  fi::ReadingStore store(DbPath());
  auto s1 = store.Write({R("A", 0, 1), R("A", 15, 2), R("B", 0, 3)});
  EXPECT_EQ(s1.inserted, 3u);
  EXPECT_EQ(s1.duplicates, 0u);
  // Same (station, time, source) again, even with another value: the first wins.
  auto s2 = store.Write({R("A", 0, 99), R("A", 30, 4), R("B", 0, 3)});
  EXPECT_EQ(s2.inserted, 1u);
  EXPECT_EQ(s2.duplicates, 2u);
  EXPECT_EQ(store.Count(), 4u);
  EXPECT_EQ(store.Query("A", T(0), T(1))[0].value, 1.0);
  // Same station and time from another source is a distinct reading.
  EXPECT_EQ(store.Write({R("A", 0, 1, fi::QcFlag::kPass, "pegelonline")}).inserted, 1u);
  EXPECT_EQ(store.Query("A", T(0), T(1)).size(), 2u);
}

TEST(ReadingStore, QueryIsHalfOpenAndAscending) {
  fi::ReadingStore store(DbPath());
  store.Write({R("A", 45, 4), R("A", 0, 1), R("A", 30, 3), R("A", 15, 2), R("B", 15, 9)});
  auto got = store.Query("A", T(15), T(45));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].observed, T(15));
  EXPECT_EQ(got[1].observed, T(30));
}

TEST(ReadingStore, LatestAndLatestUsable) {
  fi::ReadingStore store(DbPath());
  EXPECT_FALSE(store.Latest("A"));
  store.Write({R("A", 0, 1, fi::QcFlag::kPass), R("A", 15, 2, fi::QcFlag::kSuspect),
               R("A", 30, 3, fi::QcFlag::kFail), R("A", 45, 4, fi::QcFlag::kNotEvaluated)});
  EXPECT_EQ(store.Latest("A")->value, 4.0);
  // fail and not-evaluated are never used for forcing or rules
  EXPECT_EQ(store.LatestUsable("A")->value, 2.0);
  store.Write({R("B", 0, 1, fi::QcFlag::kFail)});
  EXPECT_FALSE(store.LatestUsable("B"));
}

TEST(ReadingStore, CursorCommitsWithItsReadings) {
  const std::string path = DbPath();
  {
    fi::ReadingStore store(path);
    EXPECT_FALSE(store.Cursor("pegelonline:EITZE:W"));
    store.WriteWithCursor({R("A", 0, 1)}, "pegelonline:EITZE:W", "2024-01-01T00:00:00Z");
    store.WriteWithCursor({R("A", 15, 2)}, "pegelonline:EITZE:W", "2024-01-01T00:15:00Z");
  }
  fi::ReadingStore reopened(path);
  EXPECT_EQ(reopened.Cursor("pegelonline:EITZE:W").value_or(""), "2024-01-01T00:15:00Z");
  EXPECT_EQ(reopened.Count(), 2u);
  EXPECT_EQ(reopened.IntegrityCheck(), "ok");
}

TEST(ReadingStore, FailedBatchLeavesNeitherReadingsNorCursor) {
  const std::string path = DbPath();
  fi::ReadingStore store(path);
  store.WriteWithCursor({R("A", 0, 1)}, "c", "1");
  // A trigger (added by a second connection) aborts the insert of one
  // station, in the middle of the batch.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER reject BEFORE INSERT ON readings WHEN NEW.station='BAD' "
                         "BEGIN SELECT RAISE(ABORT, 'rejected'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(store.WriteWithCursor({R("A", 15, 2), R("BAD", 15, 3)}, "c", "2"),
               std::runtime_error);
  EXPECT_EQ(store.Count(), 1u);  // A@15 rolled back with the failing row
  EXPECT_EQ(store.Cursor("c").value_or(""), "1");
  // and the store is still usable
  EXPECT_EQ(store.Write({R("A", 15, 2)}).inserted, 1u);
}

TEST(ReadingStore, PruneDeletesOlderThanRetention) {
  fi::ReadingStoreOptions opt;
  opt.retention = hours(24);
  fi::ReadingStore store(DbPath(), opt);
  store.Write({R("A", 0, 1), R("A", 60 * 12, 2), R("A", 60 * 30, 3)});
  // now = T(36 h): cutoff T(12 h); observed < cutoff is deleted
  EXPECT_EQ(store.Prune(T(60 * 36)), 1u);
  EXPECT_EQ(store.Count(), 2u);
  EXPECT_EQ(store.Query("A", T(0), T(60 * 48)).front().value, 2.0);
}

TEST(ReadingStore, StationIdsSorted) {
  fi::ReadingStore store(DbPath());
  store.Write({R("Z", 0, 1), R("A", 0, 1), R("M", 0, 1), R("A", 15, 1)});
  EXPECT_EQ(store.StationIds(), (std::vector<std::string>{"A", "M", "Z"}));
}

TEST(ReadingStore, ConcurrentWritersLoseNothing) {
  fi::ReadingStore store(DbPath());
  constexpr int kThreads = 4, kBatches = 25, kPerBatch = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<fi::Reading> batch;
        for (int i = 0; i < kPerBatch; ++i)
          batch.push_back(R("S" + std::to_string(t), b * kPerBatch + i, i));
        // every thread also re-delivers a reading of thread 0
        batch.push_back(R("S0", b, b));
        store.Write(batch);
        (void)store.Latest("S0");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store.Count(), static_cast<std::size_t>(kThreads * kBatches * kPerBatch));
  EXPECT_EQ(store.IntegrityCheck(), "ok");
}

TEST(ReadingStore, UsesWalAndSynchronousFull) {
  const std::string path = DbPath();
  fi::ReadingStore store(path);
  store.Write({R("A", 0, 1)});
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(ReadingStore, OpenErrorNamesTheFile) {
  const std::string dir = floodwarn::testing::MakeTempDir("reading_store");
  const std::string path = dir + "/no/such/dir/readings.db";
  try {
    fi::ReadingStore store(path);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  // a file that is not a database
  const std::string junk = dir + "/junk.db";
  std::ofstream(junk) << std::string(4096, 'x');
  try {
    fi::ReadingStore store(junk);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
  }
}

// Issue #12: forecast runs live apart from readings. The readings queries
// (what staleness, QC history and serve's preload read) never see them.
namespace {

fi::ForecastValue F(const std::string& station, long issued_minute, long valid_minute, double value,
                    const std::string& member = "AVG") {
  fi::ForecastValue v;
  v.station_id = station;
  v.issued = T(issued_minute);
  v.valid = T(valid_minute);
  v.value = value;
  v.unit = "cm";
  v.source = "zrxp:f.zrx";
  v.member = member;
  v.run_id = "zrxp:f.zrx#" + member + "@" + std::to_string(issued_minute);
  v.received = T(issued_minute) + milliseconds(500);
  return v;
}

}  // namespace

TEST(ReadingStore, ForecastRunsAreNeverReadings) {
  fi::ReadingStore store(DbPath());
  store.Write({R("A", 0, 100), R("A", 15, 101)});
  std::vector<fi::ForecastValue> run1, run2;
  for (int k = 1; k <= 8; ++k) run1.push_back(F("A", 15, 15 + 60 * k, 500 + k));
  for (int k = 8; k >= 1; --k) run2.push_back(F("A", 75, 75 + 60 * k, 600 + k));  // any order
  run2.push_back(F("A", 75, 75 + 60, std::numeric_limits<double>::quiet_NaN(), "MIN"));
  run2.push_back(F("B", 75, 135, 7));  // a station without readings
  EXPECT_EQ(store.WriteForecast(run1).inserted, 8u);
  const fi::WriteSummary w2 = store.WriteForecast(run2);
  EXPECT_EQ(w2.inserted, 10u);
  EXPECT_EQ(w2.duplicates, 0u);
  // Re-importing a run stores nothing twice.
  const fi::WriteSummary again = store.WriteForecast(run1);
  EXPECT_EQ(again.inserted, 0u);
  EXPECT_EQ(again.duplicates, 8u);
  EXPECT_EQ(store.ForecastCount(), 18u);

  // Readings: unchanged, ending at the last observation.
  EXPECT_EQ(store.Count(), 2u);
  const auto rs = store.Query("A", T(-60 * 24), T(60 * 24 * 30));
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs.back().observed, T(15));
  EXPECT_EQ(store.Latest("A")->observed, T(15));
  EXPECT_EQ(store.LatestUsable("A")->value, 101.0);
  EXPECT_FALSE(store.Latest("B").has_value());
  EXPECT_EQ(store.StationIds(), (std::vector<std::string>{"A"}));

  // Forecast runs: by issue time, each ascending by valid time.
  auto runs = store.QueryForecast("A", T(0), T(60 * 24));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_id, "zrxp:f.zrx#AVG@15");
  EXPECT_EQ(runs[0].issued, T(15));
  EXPECT_EQ(runs[0].station_id, "A");
  EXPECT_EQ(runs[0].unit, "cm");
  EXPECT_EQ(runs[0].member, "AVG");
  EXPECT_EQ(runs[0].source, "zrxp:f.zrx");
  EXPECT_EQ(runs[0].received, T(15) + milliseconds(500));
  ASSERT_EQ(runs[0].values.size(), 8u);
  EXPECT_EQ(runs[0].values.front().valid, T(75));
  EXPECT_EQ(runs[0].values.front().value, 501.0);
  EXPECT_EQ(runs[0].values.back().valid, T(15 + 480));
  EXPECT_EQ(runs[1].run_id, "zrxp:f.zrx#AVG@75");
  ASSERT_EQ(runs[1].values.size(), 8u);
  for (std::size_t i = 1; i < runs[1].values.size(); ++i)
    EXPECT_LT(runs[1].values[i - 1].valid, runs[1].values[i].valid);
  EXPECT_EQ(runs[2].run_id, "zrxp:f.zrx#MIN@75");
  ASSERT_EQ(runs[2].values.size(), 1u);
  EXPECT_TRUE(std::isnan(runs[2].values[0].value));
  // Half-open on the issue time.
  runs = store.QueryForecast("A", T(16), T(75));
  EXPECT_TRUE(runs.empty());
  runs = store.QueryForecast("A", T(16), T(76));
  EXPECT_EQ(runs.size(), 2u);
  ASSERT_EQ(store.QueryForecast("B", T(0), T(60 * 24)).size(), 1u);

  const auto latest = store.LatestForecast("A");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->issued, T(75));
  EXPECT_EQ(latest->run_id, "zrxp:f.zrx#MIN@75");  // same issue time: greatest run id
  EXPECT_FALSE(store.LatestForecast("C").has_value());
}

TEST(ReadingStore, PruneAlsoDeletesOldForecastRuns) {
  fi::ReadingStoreOptions opt;
  opt.retention = hours(24);
  fi::ReadingStore store(DbPath(), opt);
  store.Write({R("A", 0, 1), R("A", 60 * 30, 3)});
  store.WriteForecast({F("A", 0, 60, 1), F("A", 60 * 30, 60 * 31, 2)});
  EXPECT_EQ(store.Prune(T(60 * 36)), 1u);  // readings deleted
  EXPECT_EQ(store.Count(), 1u);
  EXPECT_EQ(store.ForecastCount(), 1u);
  EXPECT_EQ(store.LatestForecast("A")->issued, T(60 * 30));
}

// A store written before forecast runs existed (schema version 1) is
// upgraded in place when opened: its readings are kept, the forecasts table
// is created. A forecast that an earlier `ingest import --include-forecasts`
// stored as a reading stays a reading: the store does not guess (its source
// zrxp:FILE#MEMBER@ISSUE is the only trace; docs/ingest/LIVE.md).
TEST(ReadingStore, UpgradesAVersion1StoreInPlace) {
  const std::string path = DbPath();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
CREATE TABLE readings(station TEXT NOT NULL, observed INTEGER NOT NULL, source TEXT NOT NULL,
  value REAL, unit TEXT NOT NULL, quantity INTEGER NOT NULL, flag INTEGER NOT NULL,
  reason TEXT NOT NULL, received INTEGER NOT NULL,
  PRIMARY KEY (station, observed, source)) WITHOUT ROWID;
CREATE TABLE cursors(name TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL)
  WITHOUT ROWID;
INSERT INTO readings VALUES('A', 1704067200000, 'mqtt', 12.5, 'cm', 0, 1, '', 1704067201000);
INSERT INTO readings VALUES('A', 1704070800000, 'zrxp:f.zrx#AVG@1704067200', 99, 'cm', 0, 2, '',
  1704067201000);
INSERT INTO cursors VALUES('poll', '42', 1);
PRAGMA user_version = 1;
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  {
    fi::ReadingStore store(path);
    EXPECT_EQ(store.Count(), 2u);
    EXPECT_EQ(store.Cursor("poll").value_or(""), "42");
    EXPECT_EQ(store.Query("A", T(0), T(1))[0].value, 12.5);
    EXPECT_EQ(store.ForecastCount(), 0u);
    EXPECT_EQ(store.WriteForecast({F("A", 0, 60, 5)}).inserted, 1u);
    EXPECT_EQ(store.IntegrityCheck(), "ok");
  }
  fi::ReadingStore reopened(path);  // the upgrade is done once; reopening keeps everything
  EXPECT_EQ(reopened.Count(), 2u);
  EXPECT_EQ(reopened.ForecastCount(), 1u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 2);
  sqlite3_finalize(s);
  sqlite3_close(db);
}
