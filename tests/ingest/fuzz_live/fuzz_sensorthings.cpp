// libFuzzer target: SensorThings Observations collection decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "floodwarn/ingest/sensorthings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  fi::SensorThingsDatastream ds;
  ds.station_id = "S";
  ds.datastream_id = "1";
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)fi::DecodeSensorThingsObservations(body, "fuzz", ds, fi::TimePoint{});
  return 0;
}
