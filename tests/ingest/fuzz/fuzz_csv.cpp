// libFuzzer target: the CSV decoder must never crash or throw, and errors
// must point inside the input.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "floodwarn/ingest/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fi::DecodeResult r = fi::DecodeCsv(bytes, "fuzz.csv", {});
  for (const auto& rd : r.readings)
    if (rd.flag != fi::QcFlag::kMissing && !std::isfinite(rd.value)) std::abort();
  for (const auto& e : r.errors)
    if (e.offset > size) std::abort();
  return 0;
}
