// Durable reading store: SQLite (WAL) as the embedded default.
// Idempotent on (station, observed time, source): re-delivery never
// double-counts. Write() returns only after the batch is committed, so a
// source may acknowledge (MQTT ack, poll cursor) exactly the readings that
// Write() accepted.
//
// Forecast runs (issue time, valid time) are kept in a table of their own:
// WriteForecast / QueryForecast. They are never readings: Query, Latest,
// LatestUsable, Count and StationIds see observations only (issue #12).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/ingest/forecast_run.hpp"
#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

struct ReadingStoreOptions {
  // Readings observed, and forecast runs issued, longer ago than this are
  // deleted by Prune().
  std::chrono::hours retention{24 * 400};
  bool synchronous_full = true;  // survive power loss, not only a process crash
};

struct WriteSummary {
  std::size_t inserted = 0;    // new rows
  std::size_t duplicates = 0;  // (station, time, source) already stored: ignored
};

class ReadingStore {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened.
  explicit ReadingStore(const std::string& path, ReadingStoreOptions options = {});
  ~ReadingStore();
  ReadingStore(const ReadingStore&) = delete;
  ReadingStore& operator=(const ReadingStore&) = delete;

  // One transaction for the whole batch. Thread-safe.
  WriteSummary Write(const std::vector<Reading>& batch);

  // Readings of a station in [from, to), ascending by observed time.
  std::vector<Reading> Query(const std::string& station_id, TimePoint from, TimePoint to) const;
  // The newest reading of a station (any flag), if any.
  std::optional<Reading> Latest(const std::string& station_id) const;
  // The newest reading with flag pass or suspect (usable for forcing/rules).
  std::optional<Reading> LatestUsable(const std::string& station_id) const;
  std::size_t Count() const;
  // Deletes readings observed and forecast values issued before now -
  // retention; returns the number of readings deleted.
  std::size_t Prune(TimePoint now);

  // --- forecast runs (never readings) ---
  // One transaction for the whole batch; idempotent on (station, run id,
  // valid time): a re-imported run stores nothing twice. Thread-safe.
  WriteSummary WriteForecast(const std::vector<ForecastValue>& values);
  // The forecast runs of a station issued in [issued_from, issued_to),
  // ascending by issue time (then run id); each run's values ascending by
  // valid time.
  std::vector<ForecastRun> QueryForecast(const std::string& station_id, TimePoint issued_from,
                                         TimePoint issued_to) const;
  // The most recently issued run of a station (the greatest run id among
  // runs issued at the same time), if any.
  std::optional<ForecastRun> LatestForecast(const std::string& station_id) const;
  // Number of stored forecast values (all stations, all runs).
  std::size_t ForecastCount() const;

  // Source cursors (poll position, last MQTT message id...), committed with
  // the readings they cover when passed to WriteWithCursor.
  WriteSummary WriteWithCursor(const std::vector<Reading>& batch, const std::string& cursor_name,
                               const std::string& cursor_value);
  std::optional<std::string> Cursor(const std::string& cursor_name) const;

  // --- additions by ingest-live (compatible) ---
  // Write() / WriteWithCursor() that also says which readings were new:
  // (*inserted)[i] is true when batch[i] was inserted, false for a duplicate.
  // cursor_name/cursor_value may be null (no cursor). Used by the pipeline to
  // raise events for new readings only (a re-delivery never fires twice).
  WriteSummary WriteBatch(const std::vector<Reading>& batch, const std::string* cursor_name,
                          const std::string* cursor_value, std::vector<bool>* inserted);
  // Every station id that has at least one stored reading, sorted.
  std::vector<std::string> StationIds() const;
  // SQLite's `PRAGMA integrity_check` result: "ok" when the file is sound.
  std::string IntegrityCheck() const;
  // The file this store was opened from.
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::ingest
