// PEGELONLINE REST API v2 (WSV federal waterway gauges), NOTES §5.1:
//   GET {base}/stations/{uuid}/{ts}/currentmeasurement.json   (ETag / 304)
//     {"timestamp":"2022-07-18T16:45:00+02:00","value":369.0,"trend":0,
//      "stateMnwMhw":"normal","stateNswHsw":"normal"}
//   GET {base}/stations/{uuid}/{ts}/measurements.json?start=ISO|P1D
//     [{"timestamp":"2023-01-04T18:15:00+01:00","value":366.0}, ...]   (max 31 days back)
// W (water level) is in cm above gauge zero, Q in m3/s. Timestamps carry the
// local offset and are converted to UTC.
//
// Poll cycle per station: the current measurement with If-None-Match; 304 or
// a timestamp not newer than the cursor means nothing new. Otherwise the
// measurements since the cursor (or since now - initial_lookback) are
// fetched, which also fills a gap after an outage, and stored together with
// the new cursor in one transaction.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "floodwarn/ingest/decode.hpp"
#include "floodwarn/ingest/http_poller.hpp"

namespace floodwarn::ingest {

class IngestPipeline;
class ReadingStore;

struct PegelonlineSeries {
  std::string station_id;        // our station id
  std::string uuid;              // PEGELONLINE station UUID (stable; names are not)
  std::string timeseries = "W";  // W, Q, ...
  std::string unit = "cm";       // unit the API uses for this series
  Quantity quantity = Quantity::kWaterLevel;
};

struct PegelonlineConfig {
  std::string base_url = "https://www.pegelonline.wsv.de/webservices/rest-api/v2";
  std::vector<PegelonlineSeries> series;
  std::chrono::seconds interval{300};
  std::chrono::hours initial_lookback{24};  // at most 31 days (API limit)
  HttpClientOptions http;
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(5)};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
};

// Decoders (never throw; bad records become DecodeErrors with byte offsets).
DecodeResult DecodePegelonlineMeasurements(std::string_view json, const std::string& source,
                                           const PegelonlineSeries& series, TimePoint received);
DecodeResult DecodePegelonlineCurrent(std::string_view json, const std::string& source,
                                      const PegelonlineSeries& series, TimePoint received);

class PegelonlinePoller {
 public:
  // The pipeline stores through `store` (the same one): cursors live there.
  PegelonlinePoller(PegelonlineConfig config, IngestPipeline& pipeline, ReadingStore& store);
  ~PegelonlinePoller();

  // One round over all series (used by the thread and by tests).
  PollOutcome PollOnce(TimePoint now);
  void Start();  // polls on a thread at the configured interval
  void Stop();

  static std::string CursorName(const PegelonlineSeries& s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::ingest
