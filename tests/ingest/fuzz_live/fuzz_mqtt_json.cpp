// libFuzzer target: floodwarn's MQTT JSON payload decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "floodwarn/ingest/mqtt_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto r = floodwarn::ingest::DecodeMqttJson(payload, "fuzz", floodwarn::ingest::TimePoint{});
  for (const auto& e : r.errors)
    if (e.offset > size) __builtin_trap();  // an offset must point into the message
  return 0;
}
