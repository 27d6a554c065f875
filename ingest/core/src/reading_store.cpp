// SQLite reading store. One connection guarded by a mutex: SQLite serialises
// writers anyway, and the batches are large enough that the lock is not the
// bottleneck (bench/ingest_bench.cpp). Forecast runs have a table of their
// own that no readings query touches (issue #12).
#include "floodwarn/ingest/reading_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace floodwarn::ingest {
namespace {

// 1: readings, cursors. 2: + forecasts (created on open when missing, so a
// version-1 file is upgraded in place; its readings are kept as they are).
constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS readings(
  station  TEXT    NOT NULL,
  observed INTEGER NOT NULL,  -- ms since 1970-01-01T00:00:00Z
  source   TEXT    NOT NULL,
  value    REAL,              -- NULL when the reading is missing (NaN)
  unit     TEXT    NOT NULL,
  quantity INTEGER NOT NULL,  -- floodwarn::ingest::Quantity
  flag     INTEGER NOT NULL,  -- QARTOD flag: 1 pass, 2 not evaluated, 3 suspect, 4 fail, 9 missing
  reason   TEXT    NOT NULL,
  received INTEGER NOT NULL,  -- ms since epoch
  PRIMARY KEY (station, observed, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors(
  name    TEXT PRIMARY KEY,
  value   TEXT NOT NULL,
  updated INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS forecasts(
  station  TEXT    NOT NULL,
  run_id   TEXT    NOT NULL,  -- e.g. zrxp:FILE#MEMBER@ISSUE_EPOCH_S
  issued   INTEGER NOT NULL,  -- ms since epoch: issue time of the run
  valid    INTEGER NOT NULL,  -- ms since epoch: the time the value is forecast for
  value    REAL,              -- NULL when missing (NaN)
  unit     TEXT    NOT NULL,
  quantity INTEGER NOT NULL,  -- floodwarn::ingest::Quantity
  source   TEXT    NOT NULL,
  member   TEXT    NOT NULL,
  received INTEGER NOT NULL,  -- ms since epoch
  PRIMARY KEY (station, run_id, valid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS forecasts_by_issue ON forecasts(station, issued);
)sql";

constexpr const char* kColumns =
    "station, observed, source, value, unit, quantity, flag, reason, received";
constexpr const char* kForecastColumns =
    "station, run_id, issued, valid, value, unit, quantity, source, member, received";

std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(
          fmt::format("reading store {}: cannot prepare '{}': {}", path, sql, sqlite3_errmsg(db)));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when it goes out of scope, whatever happened.
struct ResetOnExit {
  sqlite3_stmt* s;
  ~ResetOnExit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

Reading RowToReading(sqlite3_stmt* s) {
  Reading r;
  r.station_id = ColumnText(s, 0);
  r.observed = FromMs(sqlite3_column_int64(s, 1));
  r.source = ColumnText(s, 2);
  r.value = sqlite3_column_type(s, 3) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                     : sqlite3_column_double(s, 3);
  r.unit = ColumnText(s, 4);
  r.quantity = static_cast<Quantity>(sqlite3_column_int(s, 5));
  r.flag = static_cast<QcFlag>(sqlite3_column_int(s, 6));
  r.reason = ColumnText(s, 7);
  r.received = FromMs(sqlite3_column_int64(s, 8));
  return r;
}

double ColumnValue(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                  : sqlite3_column_double(s, i);
}

// Rows of kForecastColumns ordered by run (then valid time) -> runs.
void AppendForecastRow(sqlite3_stmt* s, std::vector<ForecastRun>& runs) {
  const std::string run_id = ColumnText(s, 1);
  const std::string station = ColumnText(s, 0);
  if (runs.empty() || runs.back().run_id != run_id || runs.back().station_id != station) {
    ForecastRun run;
    run.station_id = station;
    run.run_id = run_id;
    run.issued = FromMs(sqlite3_column_int64(s, 2));
    run.unit = ColumnText(s, 5);
    run.quantity = static_cast<Quantity>(sqlite3_column_int(s, 6));
    run.source = ColumnText(s, 7);
    run.member = ColumnText(s, 8);
    run.received = FromMs(sqlite3_column_int64(s, 9));
    runs.push_back(std::move(run));
  }
  runs.back().values.push_back({FromMs(sqlite3_column_int64(s, 3)), ColumnValue(s, 4)});
}

}  // namespace

struct ReadingStore::Impl {
  std::string path;
  ReadingStoreOptions options;
  sqlite3* db = nullptr;
  mutable std::mutex mu;
  std::unique_ptr<Statement> insert, upsert_cursor, query, latest, latest_usable, count, prune,
      cursor, stations, insert_forecast, query_forecast, latest_forecast, forecast_run,
      forecast_count, prune_forecasts;

  // Finalizes every prepared statement (before sqlite3_close).
  void ResetStatements() {
    for (auto* p : {&insert, &upsert_cursor, &query, &latest, &latest_usable, &count, &prune,
                    &cursor, &stations, &insert_forecast, &query_forecast, &latest_forecast,
                    &forecast_run, &forecast_count, &prune_forecasts})
      p->reset();
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error(
        fmt::format("reading store {}: {}: {}", path, what, db ? sqlite3_errmsg(db) : "no handle"));
  }

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw std::runtime_error(fmt::format("reading store {}: '{}' failed: {}", path, sql, msg));
    }
  }

  void Step(sqlite3_stmt* s, const char* what) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) Fail(what);
  }

  WriteSummary WriteLocked(const std::vector<Reading>& batch, const std::string* cursor_name,
                           const std::string* cursor_value, std::vector<bool>* inserted = nullptr) {
    if (inserted) inserted->assign(batch.size(), false);
    Exec("BEGIN IMMEDIATE");
    WriteSummary summary;
    std::size_t index = 0;
    try {
      sqlite3_stmt* s = insert->get();
      for (const Reading& r : batch) {
        ResetOnExit reset{s};
        sqlite3_bind_text(s, 1, r.station_id.data(), static_cast<int>(r.station_id.size()),
                          SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, Ms(r.observed));
        sqlite3_bind_text(s, 3, r.source.data(), static_cast<int>(r.source.size()), SQLITE_STATIC);
        if (std::isnan(r.value))
          sqlite3_bind_null(s, 4);
        else
          sqlite3_bind_double(s, 4, r.value);
        sqlite3_bind_text(s, 5, r.unit.data(), static_cast<int>(r.unit.size()), SQLITE_STATIC);
        sqlite3_bind_int(s, 6, static_cast<int>(r.quantity));
        sqlite3_bind_int(s, 7, static_cast<int>(r.flag));
        sqlite3_bind_text(s, 8, r.reason.data(), static_cast<int>(r.reason.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, 9, Ms(r.received));
        Step(s, "insert reading");
        if (sqlite3_changes(db) > 0) {
          ++summary.inserted;
          if (inserted) (*inserted)[index] = true;
        } else {
          ++summary.duplicates;
        }
        ++index;
      }
      if (cursor_name) {
        sqlite3_stmt* c = upsert_cursor->get();
        ResetOnExit reset{c};
        sqlite3_bind_text(c, 1, cursor_name->data(), static_cast<int>(cursor_name->size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(c, 2, cursor_value->data(), static_cast<int>(cursor_value->size()),
                          SQLITE_STATIC);
        sqlite3_bind_int64(
            c, 3,
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
                .count());
        Step(c, "write cursor");
      }
      Exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      if (inserted) inserted->assign(batch.size(), false);
      throw;
    }
    return summary;
  }
};

ReadingStore::ReadingStore(const std::string& path, ReadingStoreOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.options = options;
  const int rc =
      sqlite3_open_v2(path.c_str(), &m.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = m.db ? sqlite3_errmsg(m.db) : sqlite3_errstr(rc);
    sqlite3_close(m.db);
    m.db = nullptr;
    throw std::runtime_error(fmt::format("reading store {}: cannot open: {}", path, msg));
  }
  try {
    sqlite3_busy_timeout(m.db, 5000);
    // journal_mode returns a row; "wal" unless the file system cannot do WAL.
    {
      Statement wal(m.db, "PRAGMA journal_mode=WAL", path);
      if (sqlite3_step(wal.get()) != SQLITE_ROW) m.Fail("cannot switch to WAL");
      const std::string mode = ColumnText(wal.get(), 0);
      if (mode != "wal")
        throw std::runtime_error(fmt::format(
            "reading store {}: journal mode is '{}', expected 'wal' (is the file system local?)",
            path, mode));
    }
    m.Exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    // 64 MiB page cache: the primary-key B-tree of a busy store outgrows the
    // 2 MiB default, and every insert then reads pages back from the OS.
    m.Exec("PRAGMA cache_size=-65536");
    {
      Statement v(m.db, "PRAGMA user_version", path);
      sqlite3_step(v.get());
      const int version = sqlite3_column_int(v.get(), 0);
      if (version > kSchemaVersion)
        throw std::runtime_error(
            fmt::format("reading store {}: schema version {} is newer than this program's ({})",
                        path, version, kSchemaVersion));
    }
    m.Exec(kSchema);
    m.Exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());

    const std::string select = fmt::format("SELECT {} FROM readings ", kColumns);
    const std::string ins = fmt::format(
        "INSERT OR IGNORE INTO readings({}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)", kColumns);
    m.insert = std::make_unique<Statement>(m.db, ins.c_str(), path);
    m.upsert_cursor = std::make_unique<Statement>(
        m.db,
        "INSERT INTO cursors(name, value, updated) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(name) DO UPDATE SET value=excluded.value, updated=excluded.updated",
        path);
    m.query = std::make_unique<Statement>(
        m.db,
        (select + "WHERE station=?1 AND observed>=?2 AND observed<?3 ORDER BY observed, source")
            .c_str(),
        path);
    m.latest = std::make_unique<Statement>(
        m.db, (select + "WHERE station=?1 ORDER BY observed DESC LIMIT 1").c_str(), path);
    m.latest_usable = std::make_unique<Statement>(
        m.db,
        (select + "WHERE station=?1 AND flag IN (1, 3) ORDER BY observed DESC LIMIT 1").c_str(),
        path);
    m.count = std::make_unique<Statement>(m.db, "SELECT COUNT(*) FROM readings", path);
    m.prune = std::make_unique<Statement>(m.db, "DELETE FROM readings WHERE observed<?1", path);
    m.cursor = std::make_unique<Statement>(m.db, "SELECT value FROM cursors WHERE name=?1", path);
    m.stations = std::make_unique<Statement>(
        m.db, "SELECT DISTINCT station FROM readings ORDER BY station", path);

    const std::string fselect = fmt::format("SELECT {} FROM forecasts ", kForecastColumns);
    m.insert_forecast = std::make_unique<Statement>(
        m.db,
        fmt::format("INSERT OR IGNORE INTO forecasts({}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                    kForecastColumns)
            .c_str(),
        path);
    m.query_forecast = std::make_unique<Statement>(
        m.db,
        (fselect + "WHERE station=?1 AND issued>=?2 AND issued<?3 ORDER BY issued, run_id, valid")
            .c_str(),
        path);
    m.latest_forecast = std::make_unique<Statement>(
        m.db,
        "SELECT run_id FROM forecasts WHERE station=?1 ORDER BY issued DESC, run_id DESC LIMIT 1",
        path);
    m.forecast_run = std::make_unique<Statement>(
        m.db, (fselect + "WHERE station=?1 AND run_id=?2 ORDER BY valid").c_str(), path);
    m.forecast_count = std::make_unique<Statement>(m.db, "SELECT COUNT(*) FROM forecasts", path);
    m.prune_forecasts =
        std::make_unique<Statement>(m.db, "DELETE FROM forecasts WHERE issued<?1", path);
  } catch (...) {
    m.ResetStatements();
    sqlite3_close(m.db);
    m.db = nullptr;
    throw;
  }
}

ReadingStore::~ReadingStore() {
  if (!impl_) return;
  impl_->ResetStatements();
  sqlite3_close(impl_->db);
}

WriteSummary ReadingStore::Write(const std::vector<Reading>& batch) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->WriteLocked(batch, nullptr, nullptr);
}

WriteSummary ReadingStore::WriteWithCursor(const std::vector<Reading>& batch,
                                           const std::string& cursor_name,
                                           const std::string& cursor_value) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->WriteLocked(batch, &cursor_name, &cursor_value);
}

WriteSummary ReadingStore::WriteBatch(const std::vector<Reading>& batch,
                                      const std::string* cursor_name,
                                      const std::string* cursor_value,
                                      std::vector<bool>* inserted) {
  if ((cursor_name == nullptr) != (cursor_value == nullptr))
    throw std::invalid_argument("reading store: cursor name and value go together");
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->WriteLocked(batch, cursor_name, cursor_value, inserted);
}

std::vector<Reading> ReadingStore::Query(const std::string& station_id, TimePoint from,
                                         TimePoint to) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->query->get();
  ResetOnExit reset{s};
  sqlite3_bind_text(s, 1, station_id.data(), static_cast<int>(station_id.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, Ms(from));
  sqlite3_bind_int64(s, 3, Ms(to));
  std::vector<Reading> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(RowToReading(s));
  if (rc != SQLITE_DONE) impl_->Fail("query readings");
  return out;
}

namespace {
std::optional<Reading> One(sqlite3_stmt* s, const std::string& station_id) {
  ResetOnExit reset{s};
  sqlite3_bind_text(s, 1, station_id.data(), static_cast<int>(station_id.size()), SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) return RowToReading(s);
  return std::nullopt;
}
}  // namespace

std::optional<Reading> ReadingStore::Latest(const std::string& station_id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return One(impl_->latest->get(), station_id);
}

std::optional<Reading> ReadingStore::LatestUsable(const std::string& station_id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return One(impl_->latest_usable->get(), station_id);
}

std::size_t ReadingStore::Count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->count->get();
  ResetOnExit reset{s};
  if (sqlite3_step(s) != SQLITE_ROW) impl_->Fail("count readings");
  return static_cast<std::size_t>(sqlite3_column_int64(s, 0));
}

std::size_t ReadingStore::Prune(TimePoint now) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const TimePoint cutoff =
      now - std::chrono::duration_cast<std::chrono::milliseconds>(impl_->options.retention);
  std::size_t readings = 0;
  {
    sqlite3_stmt* s = impl_->prune->get();
    ResetOnExit reset{s};
    sqlite3_bind_int64(s, 1, Ms(cutoff));
    impl_->Step(s, "prune readings");
    readings = static_cast<std::size_t>(sqlite3_changes(impl_->db));
  }
  sqlite3_stmt* f = impl_->prune_forecasts->get();
  ResetOnExit reset{f};
  sqlite3_bind_int64(f, 1, Ms(cutoff));
  impl_->Step(f, "prune forecasts");
  return readings;
}

WriteSummary ReadingStore::WriteForecast(const std::vector<ForecastValue>& values) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  m.Exec("BEGIN IMMEDIATE");
  WriteSummary summary;
  try {
    sqlite3_stmt* s = m.insert_forecast->get();
    for (const ForecastValue& v : values) {
      ResetOnExit reset{s};
      sqlite3_bind_text(s, 1, v.station_id.data(), static_cast<int>(v.station_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(s, 2, v.run_id.data(), static_cast<int>(v.run_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s, 3, Ms(v.issued));
      sqlite3_bind_int64(s, 4, Ms(v.valid));
      if (std::isnan(v.value))
        sqlite3_bind_null(s, 5);
      else
        sqlite3_bind_double(s, 5, v.value);
      sqlite3_bind_text(s, 6, v.unit.data(), static_cast<int>(v.unit.size()), SQLITE_STATIC);
      sqlite3_bind_int(s, 7, static_cast<int>(v.quantity));
      sqlite3_bind_text(s, 8, v.source.data(), static_cast<int>(v.source.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 9, v.member.data(), static_cast<int>(v.member.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s, 10, Ms(v.received));
      m.Step(s, "insert forecast value");
      if (sqlite3_changes(m.db) > 0)
        ++summary.inserted;
      else
        ++summary.duplicates;
    }
    m.Exec("COMMIT");
  } catch (...) {
    sqlite3_exec(m.db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return summary;
}

std::vector<ForecastRun> ReadingStore::QueryForecast(const std::string& station_id,
                                                     TimePoint issued_from,
                                                     TimePoint issued_to) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->query_forecast->get();
  ResetOnExit reset{s};
  sqlite3_bind_text(s, 1, station_id.data(), static_cast<int>(station_id.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, Ms(issued_from));
  sqlite3_bind_int64(s, 3, Ms(issued_to));
  std::vector<ForecastRun> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) AppendForecastRow(s, out);
  if (rc != SQLITE_DONE) impl_->Fail("query forecasts");
  return out;
}

std::optional<ForecastRun> ReadingStore::LatestForecast(const std::string& station_id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string run_id;
  {
    sqlite3_stmt* s = impl_->latest_forecast->get();
    ResetOnExit reset{s};
    sqlite3_bind_text(s, 1, station_id.data(), static_cast<int>(station_id.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) impl_->Fail("latest forecast");
    run_id = ColumnText(s, 0);
  }
  sqlite3_stmt* s = impl_->forecast_run->get();
  ResetOnExit reset{s};
  sqlite3_bind_text(s, 1, station_id.data(), static_cast<int>(station_id.size()), SQLITE_STATIC);
  sqlite3_bind_text(s, 2, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
  std::vector<ForecastRun> runs;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) AppendForecastRow(s, runs);
  if (rc != SQLITE_DONE) impl_->Fail("query forecast run");
  if (runs.empty()) return std::nullopt;
  return std::move(runs.front());
}

std::size_t ReadingStore::ForecastCount() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->forecast_count->get();
  ResetOnExit reset{s};
  if (sqlite3_step(s) != SQLITE_ROW) impl_->Fail("count forecasts");
  return static_cast<std::size_t>(sqlite3_column_int64(s, 0));
}

std::optional<std::string> ReadingStore::Cursor(const std::string& cursor_name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->cursor->get();
  ResetOnExit reset{s};
  sqlite3_bind_text(s, 1, cursor_name.data(), static_cast<int>(cursor_name.size()), SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) return ColumnText(s, 0);
  return std::nullopt;
}

std::vector<std::string> ReadingStore::StationIds() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->stations->get();
  ResetOnExit reset{s};
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(ColumnText(s, 0));
  return out;
}

std::string ReadingStore::IntegrityCheck() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Statement s(impl_->db, "PRAGMA integrity_check", impl_->path);
  std::string out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    if (!out.empty()) out += "; ";
    out += ColumnText(s.get(), 0);
  }
  return out;
}

const std::string& ReadingStore::path() const { return impl_->path; }

}  // namespace floodwarn::ingest
