// floodwarn's own MQTT payload (docs/ingest/LIVE.md, "MQTT JSON payload"):
//
//   {"station": "EITZE", "time": "2024-03-01T12:15:00+01:00", "value": 369.0,
//    "unit": "cm", "quantity": "water_level"}
//
// or a JSON array of such objects. station, time (ISO 8601 with Z or an
// offset), value (number, or null for a missing value) and unit are
// required; quantity is optional ("water_level" (default), "discharge",
// "rainfall"). Unknown keys are errors (a typo must not pass).
// Every bad object becomes a DecodeError with its byte offset in the
// payload; the good objects of the same array are kept.
#pragma once

#include <string>
#include <string_view>

#include "floodwarn/ingest/decode.hpp"

namespace floodwarn::ingest {

// `source` names the message in errors (the topic); `source_tag` is what the
// readings carry in Reading::source (the store's idempotency key), e.g. "mqtt".
DecodeResult DecodeMqttJson(std::string_view payload, const std::string& source, TimePoint received,
                            const std::string& source_tag = "mqtt");

}  // namespace floodwarn::ingest
