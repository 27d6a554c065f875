// Prometheus metrics of the ingest pipeline, registered on a registry that
// is passed in (never a global). prometheus-cpp stays private to the library:
// this header only forward-declares the registry.
//
//   floodwarn_ingest_readings_total{source,flag}     counter
//   floodwarn_ingest_decode_errors_total{source}     counter
//   floodwarn_ingest_duplicates_total{source}        counter (re-deliveries ignored by the store)
//   floodwarn_ingest_stale_stations                  gauge (stale or failing)
//   floodwarn_ingest_reading_age_seconds{station}    gauge (now - observed time of the last usable
//   reading)
//   floodwarn_ingest_connects_total{source}          counter (broker connections made)
//   floodwarn_ingest_connect_failures_total{source}  counter (attempts refused or failed: TCP, TLS,
//   login)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "floodwarn/ingest/reading.hpp"

namespace prometheus {
class Registry;
}

namespace floodwarn::ingest {

class IngestMetrics {
 public:
  explicit IngestMetrics(prometheus::Registry& registry);
  ~IngestMetrics();
  IngestMetrics(const IngestMetrics&) = delete;
  IngestMetrics& operator=(const IngestMetrics&) = delete;

  void CountReadings(const std::string& source, QcFlag flag, double n = 1.0);
  void CountDecodeErrors(const std::string& source, double n = 1.0);
  void CountDuplicates(const std::string& source, double n = 1.0);
  void SetStaleStations(double n);
  void SetReadingAge(const std::string& station, double seconds);
  // A source's own running totals (e.g. MqttSourceStats), sampled now and
  // then: the counters advance by what is new since the last sample.
  void SetConnectionTotals(const std::string& source, std::uint64_t connects,
                           std::uint64_t failures);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::ingest
