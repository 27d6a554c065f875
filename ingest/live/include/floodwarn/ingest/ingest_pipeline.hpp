// The ingest pipeline: decoded readings -> QC -> durable store -> events.
//
// Order matters: subscribers (the alerting service) see a reading only after
// it is committed, so a warning never rests on a reading that a crash could
// take back; and only new readings raise events, so a re-delivery never
// fires a warning twice.
//
// Staleness: each station with an expected reporting interval becomes
// kStale when its last reading is older than stale_after_intervals x the
// interval (StaleLimit and kDefaultStaleFactor, stations.hpp), kFailing when
// it still reports but nothing usable (fail/missing), and kOk again with the
// next usable reading. A dead gauge is never read as "no flood": the
// alerting side treats kStale as "unknown".
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "floodwarn/ingest/decode.hpp"
#include "floodwarn/ingest/ingest_metrics.hpp"
#include "floodwarn/ingest/mqtt_message.hpp"
#include "floodwarn/ingest/reading.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace prometheus {
class Registry;
}

namespace floodwarn::ingest {

struct IngestPipelineOptions {
  // Expected reporting interval per station; stations not listed here are
  // stored and forwarded but never checked for staleness.
  std::map<std::string, std::chrono::seconds> expected_interval;
  double stale_after_intervals = kDefaultStaleFactor;
  // Per-station factor (a station's QcParams::stale_factor); overrides the above.
  std::map<std::string, double> stale_after_intervals_by_station;
  // Quality control, run on each batch before it is stored; it sets flag and
  // reason. Empty: pass-through (flags stay kNotEvaluated / kMissing) until
  // the station QC (qc.hpp) is wired in.
  std::function<void(std::vector<Reading>&)> qc;
};

struct IngestResult {
  std::size_t decoded = 0;        // readings out of the decoder
  std::size_t decode_errors = 0;  // records skipped
  std::size_t inserted = 0;       // new in the store
  std::size_t duplicates = 0;     // already stored (re-delivery)
};

class IngestPipeline {
 public:
  IngestPipeline(ReadingStore& store, prometheus::Registry& registry,
                 IngestPipelineOptions options = {});
  ~IngestPipeline();
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Not owned; must outlive the pipeline. Add before ingesting.
  void AddSubscriber(IngestSubscriber* subscriber);

  // One or more decoded messages of one source, stored in one transaction
  // (with the source's cursor when given). Decode errors are counted and
  // logged with source and offset; the good readings are kept. Throws
  // std::runtime_error when the store fails: then nothing of the batch was
  // stored, no event was raised and the caller must not acknowledge.
  IngestResult Ingest(const std::string& source, std::vector<DecodeResult> decoded,
                      const std::string* cursor_name = nullptr,
                      const std::string* cursor_value = nullptr);
  IngestResult Ingest(const std::string& source, DecodeResult decoded);

  // Re-evaluates every station with an expected interval at `now`: raises
  // health events on transitions and updates the stale/age gauges. Call it
  // periodically (e.g. every minute) and at start-up.
  void CheckStale(TimePoint now);
  StationHealth Health(const std::string& station_id) const;
  // The pipeline's metrics, for what its sources report besides readings
  // (connection totals).
  IngestMetrics& metrics() { return metrics_; }

 private:
  struct StationState {
    TimePoint last_any{};     // observed time of the newest reading of any flag
    TimePoint last_usable{};  // ... with a value that may be used
    bool seen = false;
    bool usable_seen = false;
    StationHealth health = StationHealth::kOk;
    bool reported = false;  // has a health state been announced yet
  };
  void Emit(const StationHealthEvent& e);
  StationState& State(const std::string& station_id);
  std::chrono::milliseconds StaleLimit(const std::string& station_id,
                                       std::chrono::seconds interval) const;

  ReadingStore& store_;
  IngestMetrics metrics_;
  IngestPipelineOptions options_;
  std::vector<IngestSubscriber*> subscribers_;
  mutable std::mutex mu_;  // station state and event order
  std::map<std::string, StationState> stations_;
};

// Options for the stations of a registry: expected interval and stale factor
// of each station, and QC by the station's parameters (qc.hpp ApplyQcByStation)
// with the station's recent readings from `store` as history. `registry` and
// `store` must outlive the pipeline.
IngestPipelineOptions PipelineOptionsFromRegistry(const StationRegistry& registry,
                                                  const ReadingStore& store);

// Wires an MqttSource to a pipeline: each message of a batch is decoded with
// `decode`, the batch is ingested in one transaction, and the handler returns
// only after the commit (so the source's retry covers a failing store).
using MqttMessageDecoder = std::function<DecodeResult(const MqttMessage&)>;
MqttBatchHandler MakeMqttIngestHandler(IngestPipeline& pipeline, std::string source,
                                       MqttMessageDecoder decode);

}  // namespace floodwarn::ingest
