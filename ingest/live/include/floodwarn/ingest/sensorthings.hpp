// OGC SensorThings API (e.g. FROST-Server; the Eifelkreis Bitburg-Pruem
// radar gauges), NOTES §5.3:
//   GET {base}/Datastreams({id})/Observations
//       ?$filter=phenomenonTime gt {cursor}&$orderby=phenomenonTime asc&$top={n}
//   {"@iot.count": 3, "value": [{"@iot.id": 1, "phenomenonTime": "...",
//     "resultTime": "...", "result": 123.4}, ...], "@iot.nextLink": "..."}
// Pages are followed through @iot.nextLink; each page is stored with the
// cursor (its last phenomenonTime) in one transaction, so a crash mid-way
// resumes after the last stored page. phenomenonTime is an instant or an
// interval "start/end"; for an interval the end is the observation time
// (a rain total is known at the end of its interval).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "floodwarn/ingest/decode.hpp"
#include "floodwarn/ingest/http_poller.hpp"

namespace floodwarn::ingest {

class IngestPipeline;
class ReadingStore;

struct SensorThingsDatastream {
  std::string station_id;
  std::string datastream_id;  // as in the URL: 42 or 'abc' (quoted string ids)
  std::string unit = "cm";    // the Datastream's unitOfMeasurement.symbol
  Quantity quantity = Quantity::kWaterLevel;
};

struct SensorThingsConfig {
  std::string base_url;  // e.g. https://example.org/FROST-Server/v1.1
  std::vector<SensorThingsDatastream> datastreams;
  std::chrono::seconds interval{300};
  std::chrono::hours initial_lookback{24};
  int page_size = 100;  // $top
  int max_pages = 100;  // per datastream and round (the rest follows next round)
  HttpClientOptions http;
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(5)};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
};

struct SensorThingsPage {
  DecodeResult decoded;
  std::optional<std::string> next_link;  // @iot.nextLink, if present
};

// Decodes one page of an Observations collection. result null -> a missing
// reading; a non-numeric result is an error. Never throws.
SensorThingsPage DecodeSensorThingsObservations(std::string_view json, const std::string& source,
                                                const SensorThingsDatastream& datastream,
                                                TimePoint received);

class SensorThingsPoller {
 public:
  SensorThingsPoller(SensorThingsConfig config, IngestPipeline& pipeline, ReadingStore& store);
  ~SensorThingsPoller();
  PollOutcome PollOnce(TimePoint now);
  void Start();
  void Stop();

  static std::string CursorName(const SensorThingsDatastream& d);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::ingest
