// libFuzzer target: the ZRXP decoder must never crash, hang or throw on any
// input, and every reading it returns must be well-formed.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "floodwarn/ingest/zrxp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fi::ZrxpReadingOptions opt;
  opt.default_station_id = "fuzz";
  std::vector<fi::ForecastValue> forecasts;
  const fi::DecodeResult r =
      fi::DecodeZrxp(bytes, "fuzz.zrx", opt, (size % 2) == 0 ? &forecasts : nullptr);
  for (const auto& rd : r.readings) {
    if (rd.station_id.empty()) std::abort();
    if (rd.flag != fi::QcFlag::kMissing && !std::isfinite(rd.value)) std::abort();
  }
  for (const auto& v : forecasts)
    if (v.station_id.empty() || v.run_id.empty()) std::abort();
  for (const auto& e : r.errors)
    if (e.offset > size || e.line == 0) std::abort();
  return 0;
}
