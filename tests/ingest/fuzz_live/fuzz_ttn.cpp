// libFuzzer target: The Things Stack v3 uplink + Dragino LDDS75 decoder.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "floodwarn/ingest/ttn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  static const fi::TtnConfig config = [] {
    fi::TtnConfig c;
    fi::TtnDevice d;
    d.station_id = "S";
    d.mount_height_mm = 4000;
    c.devices["dev"] = d;
    return c;
  }();
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto r = fi::DecodeTtnUplink(payload, "fuzz", config, fi::TimePoint{});
  for (const auto& x : r.readings)
    if (x.flag != fi::QcFlag::kMissing && !std::isfinite(x.value)) __builtin_trap();
  // the raw frame decoder on the bytes themselves
  std::vector<std::uint8_t> bytes(data, data + size);
  (void)fi::DecodeLdds75(bytes);
  (void)fi::DecodeBase64(payload);
  return 0;
}
