// SQLite implementation of the durable alert store (store.hpp). Schema,
// durability guarantees and sequence semantics: docs/alerting/STORE.md.
#include "floodwarn/alerting/store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "floodwarn/alerting/json_codec.hpp"

namespace floodwarn::alerting {
namespace {

constexpr int kSchemaVersion = 1;
// PRAGMA application_id: "FWAS" (floodwarn alert store), so that `file` and
// the store itself recognise the database.
constexpr int kApplicationId = 0x46574153;
constexpr int kBusyTimeoutMs = 10000;
const char* const kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// The schema of version 1. The sequence high-water mark lives in `meta`
// (key 'last_sequence'), updated in the same transaction as the outbox rows:
// sequences are never reused even when Compact() has deleted every row.
const char* const kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('last_sequence', 0);
CREATE TABLE alerts (
  id         TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  rule_id    TEXT NOT NULL,
  subject    TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('pending', 'active', 'acknowledged', 'resolved')),
  level      INTEGER NOT NULL,
  station_id TEXT NOT NULL,
  area_id    TEXT NOT NULL,
  json       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_by_state ON alerts(state);
CREATE INDEX alerts_by_rule_subject ON alerts(rule_id, subject);
CREATE TABLE outbox (
  sequence INTEGER PRIMARY KEY,
  at_ms    INTEGER NOT NULL,
  kind     TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  json     TEXT NOT NULL
);
CREATE TABLE silences (
  id         TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  expires_ms INTEGER NOT NULL,
  removed    INTEGER NOT NULL,
  json       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit (
  id        INTEGER PRIMARY KEY,
  at_ms     INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  alert_id  TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;
CREATE TABLE channel_cursor (
  channel  TEXT PRIMARY KEY NOT NULL,
  sequence INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE deliveries (
  channel TEXT NOT NULL,
  key     TEXT NOT NULL,
  at_ms   INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
) WITHOUT ROWID;
)sql";

std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

// --- thin RAII over sqlite3_stmt ----------------------------------------------

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, std::int64_t v) {
    Check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    Check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false, otherwise throws.
  bool Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SqlError(rc);
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

  struct SqlErrorT : std::runtime_error {
    SqlErrorT(int c, const std::string& m) : std::runtime_error(m), code(c) {}
    int code;
  };

 private:
  SqlErrorT SqlError(int rc) const {
    return SqlErrorT(rc, std::string(sqlite3_errstr(rc)) + ": " + sqlite3_errmsg(db_));
  }
  void Check(int rc) const {
    if (rc != SQLITE_OK) throw SqlError(rc);
  }
  sqlite3* db_;
  sqlite3_stmt* s_;
};
using SqlError = Stmt::SqlErrorT;

// One connection plus its prepared statements (cached by SQL text).
class Connection {
 public:
  // Readers open read-write too (WAL readers write the -shm index) but never
  // create the file, and set query_only.
  Connection(const std::string& path, bool create) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (create) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw std::runtime_error("alert store " + path + ": cannot open (" + msg +
                               "); does the directory exist and is it writable?");
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  }
  ~Connection() {
    for (auto& [sql, s] : stmts_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }

  Stmt Prepare(const char* sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      sqlite3_stmt* s = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
      if (rc != SQLITE_OK)
        throw SqlError(rc, std::string(sqlite3_errstr(rc)) + ": " + sqlite3_errmsg(db_));
      it = stmts_.emplace(sql, s).first;
    }
    return Stmt(db_, it->second);
  }

  void Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw SqlError(rc, msg);
    }
  }

  // Single-value query (PRAGMA or SELECT).
  std::int64_t QueryInt(const char* sql) {
    auto s = Prepare(sql);
    if (!s.Step()) return 0;
    return s.Int(0);
  }
  std::string QueryText(const char* sql) {
    auto s = Prepare(sql);
    if (!s.Step()) return {};
    return s.Text(0);
  }

 private:
  sqlite3* db_ = nullptr;
  // Keyed by the address of the (string literal) SQL text.
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

std::string ToHex(const unsigned char* p, std::size_t n) {
  static const char* const kHex = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 15];
  }
  return s;
}

void AppendField(std::string* out, const std::string& v) {
  *out += std::to_string(v.size());
  *out += ':';
  *out += v;
  *out += ',';
}

// Canonical bytes of an audit entry (netstrings, so that no field boundary is
// ambiguous): prev_hash, id, at (ms), actor, action, alert_id, detail.
std::string AuditCanonical(const AuditEntry& e) {
  std::string s;
  AppendField(&s, e.prev_hash);
  AppendField(&s, std::to_string(e.id));
  AppendField(&s, std::to_string(Ms(e.at)));
  AppendField(&s, e.actor);
  AppendField(&s, e.action);
  AppendField(&s, e.alert_id);
  AppendField(&s, e.detail);
  return s;
}

std::string AuditHash(const AuditEntry& e) {
  std::string bytes = AuditCanonical(e);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 (OpenSSL EVP_Digest) failed");
  return ToHex(md.data(), len);
}

}  // namespace

struct AlertStore::Impl {
  std::string path;
  StoreOptions options;
  int lock_fd = -1;  // StoreOptions::exclusive

  ~Impl() {
    // Close the database before giving up the lock.
    pool.clear();
    writer.reset();
    if (lock_fd >= 0) close(lock_fd);
  }

  void Lock() {
    std::string lock_path = path + ".lock";
    lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0)
      throw std::runtime_error("alert store " + path + ": cannot create the lock file " +
                               lock_path + " (" + std::strerror(errno) + ")");
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      close(lock_fd);
      lock_fd = -1;
      throw std::runtime_error(
          "alert store " + path + ": in use by another floodwarn service (lock " + lock_path +
          " is held" + (err == EWOULDBLOCK ? "" : std::string(": ") + std::strerror(err)) +
          "); two services on one store would both fire every warning");
    }
  }

  std::mutex write_mu;
  std::unique_ptr<Connection> writer;

  // Pool of read connections: each reader thread borrows one, so reads run
  // concurrently with each other and with the writer (WAL snapshots).
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> pool;

  class Reader {
   public:
    Reader(Impl* impl, std::unique_ptr<Connection> c) : impl_(impl), c_(std::move(c)) {}
    ~Reader() {
      std::lock_guard<std::mutex> lock(impl_->pool_mu);
      impl_->pool.push_back(std::move(c_));
    }
    Connection* operator->() const { return c_.get(); }
    Connection& operator*() const { return *c_; }

   private:
    Impl* impl_;
    std::unique_ptr<Connection> c_;
  };

  Reader Read() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        auto c = std::move(pool.back());
        pool.pop_back();
        return Reader(this, std::move(c));
      }
    }
    auto c = std::make_unique<Connection>(path, /*create=*/false);
    c->Exec("PRAGMA query_only = 1");
    return Reader(this, std::move(c));
  }

  [[noreturn]] void Fail(const std::string& what, const std::exception& e) const {
    throw std::runtime_error("alert store " + path + ": " + what + ": " + e.what());
  }

  void OpenAndMigrate();
  void Rollback() {
    if (!sqlite3_get_autocommit(writer->db())) sqlite3_exec(writer->db(), "ROLLBACK", 0, 0, 0);
  }
};

void AlertStore::Impl::OpenAndMigrate() {
  writer = std::make_unique<Connection>(path, /*create=*/true);
  Connection& c = *writer;
  try {
    // The first statement that reads the file: a non-database file fails here.
    std::int64_t version = c.QueryInt("PRAGMA user_version");
    std::int64_t app_id = c.QueryInt("PRAGMA application_id");
    std::int64_t objects = c.QueryInt("SELECT count(*) FROM sqlite_master");
    if (version > kSchemaVersion)
      throw std::runtime_error(
          "schema version " + std::to_string(version) + " is newer than this floodwarn supports (" +
          std::to_string(kSchemaVersion) + "); use a newer floodwarn or another file");
    if (objects > 0 && app_id != kApplicationId)
      throw std::runtime_error(
          "not a floodwarn alert store (the database has other tables and application_id " +
          std::to_string(app_id) + ")");
    if (objects > 0 && version == 0)
      throw std::runtime_error("a floodwarn alert store without schema version (damaged?)");

    std::string mode = c.QueryText("PRAGMA journal_mode = WAL");
    if (mode != "wal")
      throw std::runtime_error("cannot switch to WAL journal mode (got '" + mode +
                               "'); is the file on a local file system?");
    c.Exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");

    if (version == 0) {
      c.Exec("BEGIN IMMEDIATE");
      try {
        // Re-check under the write lock: another process may have created it.
        if (c.QueryInt("SELECT count(*) FROM sqlite_master") == 0) {
          c.Exec(kSchemaV1);
          c.Exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
          c.Exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
        }
        c.Exec("COMMIT");
      } catch (...) {
        Rollback();
        throw;
      }
      spdlog::info("alert_store=created path={} schema_version={}", path, kSchemaVersion);
    }
    std::string check = c.QueryText("PRAGMA quick_check");
    if (check != "ok") throw std::runtime_error("quick_check failed: " + check);
    // The audit head goes to the log at every start: a copy of the newest
    // hash outside the database is what detects truncation (STORE.md).
    std::int64_t last_seq = c.QueryInt("SELECT value FROM meta WHERE key = 'last_sequence'");
    std::int64_t head_id = c.QueryInt("SELECT coalesce(max(id), 0) FROM audit");
    std::string head_hash = c.QueryText("SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
    spdlog::info("alert_store=opened path={} last_sequence={} audit_head_id={} audit_head_hash={}",
                 path, last_seq, head_id, head_hash.empty() ? kGenesisHash : head_hash);
  } catch (const std::exception& e) {
    writer.reset();
    throw std::runtime_error("alert store " + path + ": " + e.what());
  }
}

AlertStore::AlertStore(const std::string& path, StoreOptions options)
    : path_(path), impl_(std::make_unique<Impl>()) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0)
    throw std::runtime_error("alert store '" + path +
                             "': a file path is required (the store exists to be durable; "
                             "in-memory and URI databases are refused)");
  impl_->path = path;
  impl_->options = options;
  if (options.exclusive) impl_->Lock();
  impl_->OpenAndMigrate();
}

AlertStore::~AlertStore() = default;

Result<std::vector<AlertEvent>> AlertStore::Apply(const Changeset& change) {
  using R = Result<std::vector<AlertEvent>>;
  // Validate before touching the database.
  for (std::size_t i = 0; i < change.alerts.size(); ++i) {
    const Alert& a = change.alerts[i];
    if (a.id.empty())
      return R::Fail(ErrorCode::kInvalidArgument, "alerts[" + std::to_string(i) + "].id is empty");
    if (a.level < 0 || a.level > 4)
      return R::Fail(ErrorCode::kInvalidArgument, "alerts[" + std::to_string(i) + "] (" + a.id +
                                                      ").level " + std::to_string(a.level) +
                                                      " is outside 0..4");
  }
  for (std::size_t i = 0; i < change.silences.size(); ++i)
    if (change.silences[i].id.empty())
      return R::Fail(ErrorCode::kInvalidArgument,
                     "silences[" + std::to_string(i) + "].id is empty");

  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Connection& c = *impl_->writer;
  std::vector<AlertEvent> out = change.events;
  std::string stage = "begin";
  try {
    c.Exec("BEGIN IMMEDIATE");

    stage = "alerts";
    for (const Alert& a : change.alerts) {
      std::string json = Dump(ToJson(a));
      c.Prepare(
           "INSERT INTO alerts(id, rule_id, subject, state, level, station_id, area_id, json) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "
           "rule_id = excluded.rule_id, subject = excluded.subject, state = excluded.state, "
           "level = excluded.level, station_id = excluded.station_id, "
           "area_id = excluded.area_id, json = excluded.json")
          .Bind(1, a.id)
          .Bind(2, a.rule_id)
          .Bind(3, a.subject)
          .Bind(4, std::string(ToString(a.state)))
          .Bind(5, a.level)
          .Bind(6, a.station_id)
          .Bind(7, a.area.id)
          .Bind(8, json)
          .Step();
    }

    stage = "silences";
    for (const Silence& s : change.silences) {
      std::string json = Dump(ToJson(s));
      c.Prepare(
           "INSERT INTO silences(id, expires_ms, removed, json) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT(id) DO UPDATE SET expires_ms = excluded.expires_ms, "
           "removed = excluded.removed, json = excluded.json")
          .Bind(1, s.id)
          .Bind(2, Ms(s.expires))
          .Bind(3, s.removed ? 1 : 0)
          .Bind(4, json)
          .Step();
    }

    stage = "outbox";
    if (!out.empty()) {
      std::uint64_t seq = static_cast<std::uint64_t>(
          c.QueryInt("SELECT value FROM meta WHERE key = 'last_sequence'"));
      for (AlertEvent& e : out) {
        e.sequence = ++seq;
        std::string json = Dump(ToJson(e));
        c.Prepare(
             "INSERT INTO outbox(sequence, at_ms, kind, alert_id, json) "
             "VALUES (?1, ?2, ?3, ?4, ?5)")
            .Bind(1, static_cast<std::int64_t>(e.sequence))
            .Bind(2, Ms(e.at))
            .Bind(3, std::string(ToString(e.kind)))
            .Bind(4, e.alert.id)
            .Bind(5, json)
            .Step();
      }
      c.Prepare("UPDATE meta SET value = ?1 WHERE key = 'last_sequence'")
          .Bind(1, static_cast<std::int64_t>(seq))
          .Step();
    }

    stage = "audit";
    if (!change.audit.empty()) {
      AuditEntry prev;
      prev.hash = kGenesisHash;
      {
        auto s = c.Prepare("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
        if (s.Step()) {
          prev.id = static_cast<std::uint64_t>(s.Int(0));
          prev.hash = s.Text(1);
        }
      }
      for (const AuditEntry& in : change.audit) {
        AuditEntry e = in;
        e.id = prev.id + 1;
        e.prev_hash = prev.hash;
        e.hash = AuditHash(e);
        c.Prepare(
             "INSERT INTO audit(id, at_ms, actor, action, alert_id, detail, prev_hash, "
             "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .Bind(1, static_cast<std::int64_t>(e.id))
            .Bind(2, Ms(e.at))
            .Bind(3, e.actor)
            .Bind(4, e.action)
            .Bind(5, e.alert_id)
            .Bind(6, e.detail)
            .Bind(7, e.prev_hash)
            .Bind(8, e.hash)
            .Step();
        prev = std::move(e);
      }
    }

    stage = "commit";
    c.Exec("COMMIT");
  } catch (const std::invalid_argument& e) {
    impl_->Rollback();
    return R::Fail(ErrorCode::kInvalidArgument,
                   std::string("alert store: ") + stage + ": " + e.what());
  } catch (const SqlError& e) {
    impl_->Rollback();
    int primary = e.code & 0xff;
    ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                      primary == SQLITE_FULL || primary == SQLITE_IOERR)
                         ? ErrorCode::kUnavailable
                         : ErrorCode::kInternal;
    spdlog::error("alert_store=apply_failed path={} stage={} error=\"{}\"", impl_->path, stage,
                  e.what());
    return R::Fail(code, "alert store " + impl_->path + ": " + stage + ": " + e.what());
  } catch (const std::exception& e) {
    impl_->Rollback();
    spdlog::error("alert_store=apply_failed path={} stage={} error=\"{}\"", impl_->path, stage,
                  e.what());
    return R::Fail(ErrorCode::kInternal,
                   "alert store " + impl_->path + ": " + stage + ": " + e.what());
  }
  return R::Ok(std::move(out));
}

std::vector<Alert> AlertStore::LoadOpenAlerts() const {
  std::vector<Alert> out;
  try {
    auto r = impl_->Read();
    auto s = r->Prepare("SELECT json FROM alerts WHERE state <> 'resolved' ORDER BY id");
    while (s.Step()) out.push_back(AlertFromJson(ParseJson(s.Text(0), "alerts.json"), "alert"));
  } catch (const std::exception& e) {
    impl_->Fail("LoadOpenAlerts", e);
  }
  return out;
}

std::optional<Alert> AlertStore::GetAlert(const std::string& id) const {
  try {
    auto r = impl_->Read();
    auto s = r->Prepare("SELECT json FROM alerts WHERE id = ?1");
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    return AlertFromJson(ParseJson(s.Text(0), "alerts.json"), "alert");
  } catch (const std::exception& e) {
    impl_->Fail("GetAlert " + id, e);
  }
}

std::vector<Silence> AlertStore::LoadSilences() const {
  std::vector<Silence> out;
  try {
    auto r = impl_->Read();
    auto s = r->Prepare("SELECT json FROM silences ORDER BY id");
    while (s.Step())
      out.push_back(SilenceFromJson(ParseJson(s.Text(0), "silences.json"), "silence"));
  } catch (const std::exception& e) {
    impl_->Fail("LoadSilences", e);
  }
  return out;
}

std::uint64_t AlertStore::LastSequence() const {
  try {
    auto r = impl_->Read();
    return static_cast<std::uint64_t>(
        r->QueryInt("SELECT value FROM meta WHERE key = 'last_sequence'"));
  } catch (const std::exception& e) {
    impl_->Fail("LastSequence", e);
  }
}

std::uint64_t AlertStore::FirstRetainedSequence() const {
  try {
    auto r = impl_->Read();
    return static_cast<std::uint64_t>(r->QueryInt("SELECT coalesce(min(sequence), 0) FROM outbox"));
  } catch (const std::exception& e) {
    impl_->Fail("FirstRetainedSequence", e);
  }
}

namespace {
void ReadEventsFrom(Connection& c, std::uint64_t after, std::size_t max_events,
                    std::vector<AlertEvent>* out) {
  auto s =
      c.Prepare("SELECT sequence, json FROM outbox WHERE sequence > ?1 ORDER BY sequence LIMIT ?2");
  s.Bind(1, static_cast<std::int64_t>(after))
      .Bind(2, static_cast<std::int64_t>(
                   std::min<std::size_t>(max_events, static_cast<std::size_t>(INT64_MAX))));
  while (s.Step()) {
    std::uint64_t seq = static_cast<std::uint64_t>(s.Int(0));
    AlertEvent e =
        AlertEventFromJson(ParseJson(s.Text(1), "outbox row " + std::to_string(seq)), "event");
    e.sequence = seq;
    out->push_back(std::move(e));
  }
}
}  // namespace

std::vector<AlertEvent> AlertStore::ReadEvents(std::uint64_t after, std::size_t max_events) const {
  std::vector<AlertEvent> out;
  if (max_events == 0) return out;
  try {
    auto r = impl_->Read();
    // One statement = one WAL read snapshot: a batch is seen whole or not at all.
    ReadEventsFrom(*r, after, max_events, &out);
  } catch (const std::exception& e) {
    impl_->Fail("ReadEvents", e);
  }
  return out;
}

AlertStore::OutboxRead AlertStore::ReadOutbox(std::uint64_t after, std::size_t max_events) const {
  OutboxRead out;
  try {
    auto r = impl_->Read();
    // A read transaction: the three statements see the same snapshot.
    r->Exec("BEGIN");
    try {
      out.last_sequence = static_cast<std::uint64_t>(
          r->QueryInt("SELECT value FROM meta WHERE key = 'last_sequence'"));
      out.first_retained =
          static_cast<std::uint64_t>(r->QueryInt("SELECT coalesce(min(sequence), 0) FROM outbox"));
      if (after > out.last_sequence) {
        out.reset = true;
      } else if (after < out.last_sequence) {
        out.reset = out.first_retained == 0 || after + 1 < out.first_retained;
        if (!out.reset && max_events > 0) ReadEventsFrom(*r, after, max_events, &out.events);
      }
      r->Exec("COMMIT");
    } catch (...) {
      sqlite3_exec(r->db(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const std::exception& e) {
    impl_->Fail("ReadOutbox", e);
  }
  return out;
}

std::size_t AlertStore::Compact(TimePoint now) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Connection& c = *impl_->writer;
  std::int64_t cutoff = Ms(now) - impl_->options.retention.count();
  std::size_t deleted = 0;
  try {
    c.Exec("BEGIN IMMEDIATE");
    // Delete a prefix only (the retained range stays contiguous): everything
    // before the first event still inside the retention window, and never the
    // newest row.
    c.Prepare(
         "DELETE FROM outbox WHERE sequence < coalesce("
         "(SELECT min(sequence) FROM outbox WHERE at_ms >= ?1), "
         "(SELECT max(sequence) FROM outbox))")
        .Bind(1, cutoff)
        .Step();
    deleted = static_cast<std::size_t>(sqlite3_changes(c.db()));
    c.Exec("COMMIT");
  } catch (const std::exception& e) {
    impl_->Rollback();
    impl_->Fail("Compact", e);
  }
  if (deleted > 0)
    spdlog::info("alert_store=compacted path={} deleted={} cutoff_ms={}", impl_->path, deleted,
                 cutoff);
  return deleted;
}

std::uint64_t AlertStore::GetCursor(const std::string& channel) const {
  try {
    auto r = impl_->Read();
    auto s = r->Prepare("SELECT sequence FROM channel_cursor WHERE channel = ?1");
    s.Bind(1, channel);
    return s.Step() ? static_cast<std::uint64_t>(s.Int(0)) : 0;
  } catch (const std::exception& e) {
    impl_->Fail("GetCursor " + channel, e);
  }
}

void AlertStore::SetCursor(const std::string& channel, std::uint64_t sequence) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->writer
        ->Prepare(
            "INSERT INTO channel_cursor(channel, sequence) VALUES (?1, ?2) "
            "ON CONFLICT(channel) DO UPDATE SET sequence = excluded.sequence")
        .Bind(1, channel)
        .Bind(2, static_cast<std::int64_t>(sequence))
        .Step();
  } catch (const std::exception& e) {
    impl_->Fail("SetCursor " + channel, e);
  }
}

bool AlertStore::RecordDelivery(const std::string& channel, const std::string& key, TimePoint at) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->writer
        ->Prepare(
            "INSERT INTO deliveries(channel, key, at_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(channel, key) DO NOTHING")
        .Bind(1, channel)
        .Bind(2, key)
        .Bind(3, Ms(at))
        .Step();
    return sqlite3_changes(impl_->writer->db()) == 1;
  } catch (const std::exception& e) {
    impl_->Fail("RecordDelivery " + channel + "/" + key, e);
  }
}

bool AlertStore::WasDelivered(const std::string& channel, const std::string& key) const {
  try {
    auto r = impl_->Read();
    auto s = r->Prepare("SELECT 1 FROM deliveries WHERE channel = ?1 AND key = ?2");
    s.Bind(1, channel).Bind(2, key);
    return s.Step();
  } catch (const std::exception& e) {
    impl_->Fail("WasDelivered " + channel + "/" + key, e);
  }
}

namespace {
AuditEntry AuditRow(const Stmt& s) {
  AuditEntry e;
  e.id = static_cast<std::uint64_t>(s.Int(0));
  e.at = TimePoint(Duration(s.Int(1)));
  e.actor = s.Text(2);
  e.action = s.Text(3);
  e.alert_id = s.Text(4);
  e.detail = s.Text(5);
  e.prev_hash = s.Text(6);
  e.hash = s.Text(7);
  return e;
}
}  // namespace

std::vector<AuditEntry> AlertStore::ReadAudit(std::uint64_t after_id,
                                              std::size_t max_entries) const {
  std::vector<AuditEntry> out;
  if (max_entries == 0) return out;
  try {
    auto r = impl_->Read();
    auto s = r->Prepare(
        "SELECT id, at_ms, actor, action, alert_id, detail, prev_hash, hash FROM audit "
        "WHERE id > ?1 ORDER BY id LIMIT ?2");
    s.Bind(1, static_cast<std::int64_t>(after_id))
        .Bind(2, static_cast<std::int64_t>(
                     std::min<std::size_t>(max_entries, static_cast<std::size_t>(INT64_MAX))));
    while (s.Step()) out.push_back(AuditRow(s));
  } catch (const std::exception& e) {
    impl_->Fail("ReadAudit", e);
  }
  return out;
}

std::uint64_t AlertStore::VerifyAuditChain() const {
  try {
    auto r = impl_->Read();
    auto s = r->Prepare(
        "SELECT id, at_ms, actor, action, alert_id, detail, prev_hash, hash FROM audit "
        "ORDER BY id");
    std::string prev_hash = kGenesisHash;
    std::uint64_t prev_id = 0;
    while (s.Step()) {
      AuditEntry e = AuditRow(s);
      if (e.id != prev_id + 1 || e.prev_hash != prev_hash || AuditHash(e) != e.hash) {
        spdlog::error("alert_store=audit_chain_broken path={} id={}", impl_->path, e.id);
        return e.id;
      }
      prev_hash = e.hash;
      prev_id = e.id;
    }
  } catch (const std::exception& e) {
    impl_->Fail("VerifyAuditChain", e);
  }
  return 0;
}

}  // namespace floodwarn::alerting
