// libFuzzer target: the RADOLAN decoder either decodes or throws RadolanError;
// anything else (a crash, another exception, a grid that disagrees with its
// header) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "floodwarn/ingest/radolan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fi = floodwarn::ingest;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const fi::RadolanComposite c = fi::DecodeRadolan(bytes, "fuzz.bin");
    if (c.rain_rate.rows() != c.header.rows || c.rain_rate.cols() != c.header.cols) std::abort();
    if (c.flags.size() != c.rain_rate.size()) std::abort();
  } catch (const fi::RadolanError&) {
  }
  return 0;
}
