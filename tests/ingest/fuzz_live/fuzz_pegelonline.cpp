// libFuzzer target: PEGELONLINE measurements / current-measurement decoders.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "floodwarn/ingest/pegelonline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  fi::PegelonlineSeries s;
  s.station_id = "S";
  s.uuid = "u";
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)fi::DecodePegelonlineMeasurements(body, "fuzz", s, fi::TimePoint{});
  (void)fi::DecodePegelonlineCurrent(body, "fuzz", s, fi::TimePoint{});
  return 0;
}
