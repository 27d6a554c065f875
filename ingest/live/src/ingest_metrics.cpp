#include "floodwarn/ingest/ingest_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <utility>

namespace floodwarn::ingest {

struct IngestMetrics::Impl {
  prometheus::Family<prometheus::Counter>& readings;
  prometheus::Family<prometheus::Counter>& decode_errors;
  prometheus::Family<prometheus::Counter>& duplicates;
  prometheus::Gauge& stale;
  prometheus::Family<prometheus::Gauge>& age;
  prometheus::Family<prometheus::Counter>& connects;
  prometheus::Family<prometheus::Counter>& connect_failures;
  struct ConnectionTotals {
    prometheus::Counter* connects = nullptr;
    prometheus::Counter* failures = nullptr;
    std::uint64_t last_connects = 0, last_failures = 0;
  };
  std::map<std::string, ConnectionTotals> connection_totals;
  // Family::Add hashes the label set under a lock; cache the children.
  std::mutex mu;
  std::map<std::pair<std::string, QcFlag>, prometheus::Counter*> reading_counters;
  std::map<std::string, prometheus::Counter*> error_counters, duplicate_counters;
  std::map<std::string, prometheus::Gauge*> age_gauges;

  explicit Impl(prometheus::Registry& r)
      : readings(prometheus::BuildCounter()
                     .Name("floodwarn_ingest_readings_total")
                     .Help("Readings stored, by source and QC flag")
                     .Register(r)),
        decode_errors(prometheus::BuildCounter()
                          .Name("floodwarn_ingest_decode_errors_total")
                          .Help("Malformed records skipped by the decoders, by source")
                          .Register(r)),
        duplicates(prometheus::BuildCounter()
                       .Name("floodwarn_ingest_duplicates_total")
                       .Help("Re-delivered readings ignored by the store, by source")
                       .Register(r)),
        stale(prometheus::BuildGauge()
                  .Name("floodwarn_ingest_stale_stations")
                  .Help("Stations without a usable reading within their expected interval")
                  .Register(r)
                  .Add({})),
        age(prometheus::BuildGauge()
                .Name("floodwarn_ingest_reading_age_seconds")
                .Help("Age of the last usable reading per station, seconds")
                .Register(r)),
        connects(prometheus::BuildCounter()
                     .Name("floodwarn_ingest_connects_total")
                     .Help("Connections made to a source's broker or server, by source")
                     .Register(r)),
        connect_failures(prometheus::BuildCounter()
                             .Name("floodwarn_ingest_connect_failures_total")
                             .Help("Connection attempts that failed (TCP, TLS, login), by source")
                             .Register(r)) {}
};

IngestMetrics::IngestMetrics(prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(registry)) {}
IngestMetrics::~IngestMetrics() = default;

void IngestMetrics::CountReadings(const std::string& source, QcFlag flag, double n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& c = impl_->reading_counters[{source, flag}];
  if (!c) c = &impl_->readings.Add({{"source", source}, {"flag", ToString(flag)}});
  c->Increment(n);
}

void IngestMetrics::CountDecodeErrors(const std::string& source, double n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& c = impl_->error_counters[source];
  if (!c) c = &impl_->decode_errors.Add({{"source", source}});
  c->Increment(n);
}

void IngestMetrics::CountDuplicates(const std::string& source, double n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& c = impl_->duplicate_counters[source];
  if (!c) c = &impl_->duplicates.Add({{"source", source}});
  c->Increment(n);
}

void IngestMetrics::SetStaleStations(double n) { impl_->stale.Set(n); }

void IngestMetrics::SetReadingAge(const std::string& station, double seconds) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& g = impl_->age_gauges[station];
  if (!g) g = &impl_->age.Add({{"station", station}});
  g->Set(seconds);
}

void IngestMetrics::SetConnectionTotals(const std::string& source, std::uint64_t connects,
                                        std::uint64_t failures) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& t = impl_->connection_totals[source];
  if (t.connects == nullptr) {
    t.connects = &impl_->connects.Add({{"source", source}});
    t.failures = &impl_->connect_failures.Add({{"source", source}});
  }
  // A total below the last sample: the source was recreated; count anew.
  if (connects < t.last_connects) t.last_connects = 0;
  if (failures < t.last_failures) t.last_failures = 0;
  t.connects->Increment(static_cast<double>(connects - t.last_connects));
  t.failures->Increment(static_cast<double>(failures - t.last_failures));
  t.last_connects = connects;
  t.last_failures = failures;
}

}  // namespace floodwarn::ingest
