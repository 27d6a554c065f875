#include "floodwarn/ingest/ingest_pipeline.hpp"

#include "floodwarn/ingest/qc.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

namespace floodwarn::ingest {
namespace {

bool Usable(QcFlag f) {
  return f == QcFlag::kPass || f == QcFlag::kSuspect || f == QcFlag::kNotEvaluated;
}

double Seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

std::string Minutes(std::chrono::milliseconds d) {
  return fmt::format("{:.0f} min", static_cast<double>(d.count()) / 60000.0);
}

}  // namespace

IngestPipeline::IngestPipeline(ReadingStore& store, prometheus::Registry& registry,
                               IngestPipelineOptions options)
    : store_(store), metrics_(registry), options_(std::move(options)) {
  // Start from what the store knows, so a restart does not forget when a
  // station last reported (and does not call a silent station fresh).
  for (const auto& [station, interval] : options_.expected_interval) {
    (void)interval;
    StationState& s = stations_[station];
    if (auto latest = store_.Latest(station)) {
      s.seen = true;
      s.last_any = latest->observed;
    }
    // Usable here includes not-evaluated (QC not configured), which the
    // store's LatestUsable (pass/suspect only) does not count.
    if (auto latest = store_.Latest(station); latest && Usable(latest->flag)) {
      s.usable_seen = true;
      s.last_usable = latest->observed;
    } else if (auto usable = store_.LatestUsable(station)) {
      s.usable_seen = true;
      s.last_usable = usable->observed;
    }
  }
}

IngestPipeline::~IngestPipeline() = default;

void IngestPipeline::AddSubscriber(IngestSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(subscriber);
}

std::chrono::milliseconds IngestPipeline::StaleLimit(const std::string& station_id,
                                                     std::chrono::seconds interval) const {
  auto it = options_.stale_after_intervals_by_station.find(station_id);
  const double factor = it != options_.stale_after_intervals_by_station.end()
                            ? it->second
                            : options_.stale_after_intervals;
  return ingest::StaleLimit(interval, factor);
}

IngestPipeline::StationState& IngestPipeline::State(const std::string& station_id) {
  return stations_[station_id];
}

void IngestPipeline::Emit(const StationHealthEvent& e) {
  spdlog::log(e.health == StationHealth::kOk ? spdlog::level::info : spdlog::level::warn,
              "station_health station={} health={} reason=\"{}\"", e.station_id, ToString(e.health),
              e.reason);
  for (IngestSubscriber* s : subscribers_) s->OnStationHealth(e);
}

IngestResult IngestPipeline::Ingest(const std::string& source, DecodeResult decoded) {
  std::vector<DecodeResult> v;
  v.push_back(std::move(decoded));
  return Ingest(source, std::move(v));
}

IngestResult IngestPipeline::Ingest(const std::string& source, std::vector<DecodeResult> decoded,
                                    const std::string* cursor_name,
                                    const std::string* cursor_value) {
  IngestResult result;
  std::vector<Reading> batch;
  for (DecodeResult& d : decoded) {
    for (const DecodeError& e : d.errors)
      spdlog::warn("decode_error source={} where=\"{}\" line={} offset={} error=\"{}\"", source,
                   e.source, e.line, e.offset, e.message);
    result.decode_errors += d.errors.size();
    result.decoded += d.readings.size();
    if (batch.empty()) {
      batch = std::move(d.readings);
    } else {
      batch.insert(batch.end(), std::make_move_iterator(d.readings.begin()),
                   std::make_move_iterator(d.readings.end()));
    }
  }
  if (result.decode_errors) metrics_.CountDecodeErrors(source, result.decode_errors);
  if (options_.qc && !batch.empty()) options_.qc(batch);

  std::vector<bool> inserted;
  const WriteSummary summary = store_.WriteBatch(batch, cursor_name, cursor_value, &inserted);
  result.inserted = summary.inserted;
  result.duplicates = summary.duplicates;

  // Durable from here on: count, update station state, raise events.
  std::map<QcFlag, std::size_t> by_flag;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (inserted[i]) ++by_flag[batch[i].flag];
  for (const auto& [flag, n] : by_flag) metrics_.CountReadings(source, flag, n);
  if (summary.duplicates) metrics_.CountDuplicates(source, summary.duplicates);

  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!inserted[i]) continue;
    const Reading& r = batch[i];
    for (IngestSubscriber* s : subscribers_) s->OnReading(r);
    auto interval = options_.expected_interval.find(r.station_id);
    if (interval == options_.expected_interval.end()) continue;
    StationState& st = State(r.station_id);
    if (!st.seen || r.observed > st.last_any) st.last_any = r.observed;
    st.seen = true;
    if (Usable(r.flag)) {
      if (!st.usable_seen || r.observed > st.last_usable) st.last_usable = r.observed;
      st.usable_seen = true;
      // A late backfill of old readings does not make a silent station fresh.
      const auto limit = StaleLimit(r.station_id, interval->second);
      if (st.reported && st.health != StationHealth::kOk && r.received - r.observed <= limit) {
        st.health = StationHealth::kOk;
        Emit({r.station_id, StationHealth::kOk, r.received, st.last_usable,
              fmt::format("usable reading again ({})", ToString(r.flag))});
      }
    }
  }
  return result;
}

void IngestPipeline::CheckStale(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t stale = 0;
  for (const auto& [station, interval] : options_.expected_interval) {
    StationState& st = State(station);
    const auto limit = StaleLimit(station, interval);
    const auto usable_age = now - st.last_usable;
    const auto any_age = now - st.last_any;
    StationHealth h;
    std::string reason;
    if (st.usable_seen && usable_age <= limit) {
      h = StationHealth::kOk;
      reason = "reporting";
    } else if (st.seen && any_age <= limit) {
      h = StationHealth::kFailing;
      reason = st.usable_seen ? fmt::format("no usable reading for {} (expected every {})",
                                            Minutes(usable_age), Minutes(interval))
                              : "reports, but no usable reading yet";
    } else {
      h = StationHealth::kStale;
      reason = st.seen ? fmt::format("no reading for {} (expected every {})", Minutes(any_age),
                                     Minutes(interval))
                       : fmt::format("no reading yet (expected every {})", Minutes(interval));
    }
    if (h != StationHealth::kOk) ++stale;
    if (st.usable_seen) metrics_.SetReadingAge(station, Seconds(usable_age));
    // The first evaluation announces only a problem; later ones every change.
    if ((!st.reported && h != StationHealth::kOk) || (st.reported && h != st.health))
      Emit({station, h, now, st.usable_seen ? st.last_usable : TimePoint{}, reason});
    st.reported = true;
    st.health = h;
  }
  metrics_.SetStaleStations(static_cast<double>(stale));
}

StationHealth IngestPipeline::Health(const std::string& station_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stations_.find(station_id);
  return it == stations_.end() ? StationHealth::kOk : it->second.health;
}

IngestPipelineOptions PipelineOptionsFromRegistry(const StationRegistry& registry,
                                                  const ReadingStore& store) {
  IngestPipelineOptions o;
  for (const Station& s : registry.stations()) {
    o.expected_interval[s.id] = s.expected_interval;
    o.stale_after_intervals_by_station[s.id] = s.qc.stale_factor;
  }
  o.qc = [&registry, &store](std::vector<Reading>& batch) {
    ApplyQcByStation(batch, registry, [&](const std::string& station_id, TimePoint before) {
      const Station* s = registry.Find(station_id);
      // enough context for the flat-line run and the spike/rate neighbours
      const int n =
          std::max({s ? s->qc.flat_fail_count : 0, s ? s->qc.flat_suspect_count : 0, 2}) + 2;
      const auto interval = s ? s->expected_interval : std::chrono::seconds(900);
      return store.Query(
          station_id, before - std::chrono::duration_cast<std::chrono::milliseconds>(interval * n),
          before);
    });
  };
  return o;
}

MqttBatchHandler MakeMqttIngestHandler(IngestPipeline& pipeline, std::string source,
                                       MqttMessageDecoder decode) {
  return [&pipeline, source = std::move(source),
          decode = std::move(decode)](const std::vector<MqttMessage>& batch) {
    std::vector<DecodeResult> decoded;
    decoded.reserve(batch.size());
    for (const MqttMessage& m : batch) decoded.push_back(decode(m));
    pipeline.Ingest(source, std::move(decoded));
  };
}

}  // namespace floodwarn::ingest
