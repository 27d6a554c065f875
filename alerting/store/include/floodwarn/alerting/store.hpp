// Durable alert store: alert state, the event outbox, silences, channel
// delivery cursors and the append-only audit log in one SQLite database (WAL).
//
// The contract the whole service rests on: Apply() writes the state change,
// its outbox events and its audit entries in ONE transaction, and assigns the
// events strictly increasing sequence numbers inside that transaction. An
// event is visible to readers (subscribers, channels) only once committed; a
// crash loses either the whole change or nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting {

struct StoreOptions {
  // Outbox entries older than this are deleted by Compact(); a subscriber
  // resuming from before the oldest retained sequence gets a reset.
  Duration retention = std::chrono::hours(24 * 7);
  // synchronous=FULL: a committed transaction survives power loss, not only
  // a process crash (docs/alerting/STORE.md).
  bool synchronous_full = true;
  // Take an exclusive advisory lock (flock on "<path>.lock") for the lifetime
  // of the store, and refuse to open (std::runtime_error naming the file) when
  // another store holds it: two live services on one store would both fire
  // every warning. For `serve`; tools that only read leave it off.
  bool exclusive = false;
};

// Everything one engine step changes, committed atomically.
struct Changeset {
  std::vector<Alert> alerts;       // upserts by id (resolved alerts too)
  std::vector<AlertEvent> events;  // sequence is ignored on input and assigned
  std::vector<AuditEntry> audit;   // id/prev_hash/hash are assigned
  std::vector<Silence> silences;   // upserts by id
};

class AlertStore {
 public:
  // Opens or creates the database at `path` (":memory:" is not allowed: the
  // store exists to be durable). Throws std::runtime_error naming the file on
  // failure (start-up error).
  AlertStore(const std::string& path, StoreOptions options = {});
  ~AlertStore();
  AlertStore(const AlertStore&) = delete;
  AlertStore& operator=(const AlertStore&) = delete;

  // One transaction. Returns the events with their sequence numbers filled,
  // in the order given. Thread-safe (writes are serialised).
  Result<std::vector<AlertEvent>> Apply(const Changeset& change);

  // --- state ----------------------------------------------------------------
  std::vector<Alert> LoadOpenAlerts() const;  // every alert not resolved
  std::optional<Alert> GetAlert(const std::string& id) const;
  // Every stored silence, removed and expired ones included: which of them
  // are in effect at load time is the caller's call.
  std::vector<Silence> LoadSilences() const;

  // --- outbox ---------------------------------------------------------------
  std::uint64_t LastSequence() const;           // 0 when empty
  std::uint64_t FirstRetainedSequence() const;  // 0 when empty; else the smallest stored
  // Events with sequence > after, ascending, at most max_events.
  std::vector<AlertEvent> ReadEvents(std::uint64_t after, std::size_t max_events) const;
  // Resume read for a subscriber whose last seen sequence is `after`, from ONE
  // read snapshot (a concurrent Compact cannot open a gap between the check
  // and the read). `reset` is true, and `events` empty, when the events right
  // after `after` are gone (after + 1 < first_retained: deleted by retention)
  // or when `after` is beyond last_sequence (a cursor from another or a
  // restored database); the subscriber must then re-list and continue from
  // last_sequence. Otherwise `events` starts at after + 1 (docs/alerting/STORE.md).
  struct OutboxRead {
    bool reset = false;
    std::uint64_t first_retained = 0;  // as FirstRetainedSequence()
    std::uint64_t last_sequence = 0;   // as LastSequence()
    std::vector<AlertEvent> events;
  };
  OutboxRead ReadOutbox(std::uint64_t after, std::size_t max_events) const;
  // Deletes outbox entries older than the retention (never the newest one,
  // so LastSequence() stays monotonic across restarts). Returns rows deleted.
  std::size_t Compact(TimePoint now);

  // --- channel delivery cursors (per channel name) ---------------------------
  std::uint64_t GetCursor(const std::string& channel) const;  // 0 when unset
  void SetCursor(const std::string& channel, std::uint64_t sequence);
  // Idempotency record of a delivery: true if `key` was newly recorded.
  bool RecordDelivery(const std::string& channel, const std::string& key, TimePoint at);
  bool WasDelivered(const std::string& channel, const std::string& key) const;

  // --- audit ------------------------------------------------------------------
  std::vector<AuditEntry> ReadAudit(std::uint64_t after_id, std::size_t max_entries) const;
  // Recomputes the hash chain; returns the id of the first broken entry, or 0.
  std::uint64_t VerifyAuditChain() const;

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::alerting
