// An MQTT message as a push source hands it on, and the handler that takes a
// batch of them: the contract between the transport (MqttSource, which owns
// the broker connection) and what stores the messages (the pipeline's
// MakeMqttIngestHandler). Both include this header; neither includes the
// other's.
//
// The handler runs on the source's worker (or network) thread and returns
// once the batch is durable; if it throws, the source offers the same batch
// again after a backoff (mqtt_source.hpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

struct MqttMessage {
  std::string topic;
  std::string payload;
  int mid = 0;
  TimePoint received{};
};

using MqttBatchHandler = std::function<void(const std::vector<MqttMessage>&)>;

}  // namespace floodwarn::ingest
