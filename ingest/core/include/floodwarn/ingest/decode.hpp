// Common result type of every decoder (MQTT JSON, TTN v3, PEGELONLINE,
// SensorThings, ZRXP, CSV). A decoder never throws on bad input: a malformed
// record becomes a DecodeError (counted, logged with source and offset) and
// the good records of the same message/file are still returned.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

struct DecodeError {
  std::string source;      // file name, topic or URL
  std::size_t line = 0;    // 1-based line, 0 if not line-oriented
  std::size_t offset = 0;  // byte offset of the bad record
  std::string message;     // what was expected
};

struct DecodeResult {
  std::vector<Reading> readings;  // flag == kNotEvaluated (or kMissing), QC not yet run
  std::vector<DecodeError> errors;
};

}  // namespace floodwarn::ingest
