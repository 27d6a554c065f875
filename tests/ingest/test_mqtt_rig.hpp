// An MqttSource feeding a real ingest pipeline (store, metrics, a recorder of
// the readings it hands on), for the tests against a mosquitto broker
// (test_mqtt_broker, test_mqtt_tls).
#pragma once

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <memory>
#include <string>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/mqtt_source.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "test_mqtt_broker_fixture.hpp"
#include "test_support.hpp"

namespace floodwarn::testing {

// A gauge reading as the MQTT JSON decoder expects it: `station` at
// 2024-03-01 00:00 UTC + `minute`, `value` in cm.
inline std::string GaugeJson(const std::string& station, int minute, double value) {
  return fmt::format(
      R"({{"station":"{}","time":"2024-03-01T{:02}:{:02}:00Z","value":{},"unit":"cm"}})", station,
      minute / 60, minute % 60, value);
}

struct MqttRig {
  // Subscribes to floodwarn/gauges/#; reconnects after 1 s, backing off to
  // `reconnect_max`.
  MqttRig(int port, const std::string& client_id,
          std::chrono::seconds reconnect_max = std::chrono::seconds(2))
      : store(MakeTempDir("mqtt") + "/readings.db"), pipeline(store, registry) {
    pipeline.AddSubscriber(&recorder);
    config.port = port;
    config.client_id = client_id;
    config.topics = {"floodwarn/gauges/#"};
    config.reconnect_min = std::chrono::seconds(1);
    config.reconnect_max = reconnect_max;
  }
  std::unique_ptr<ingest::MqttSource> MakeSource() {
    return std::make_unique<ingest::MqttSource>(
        config, ingest::MakeMqttIngestHandler(pipeline, "mqtt", [](const ingest::MqttMessage& m) {
          return ingest::DecodeMqttJson(m.payload, m.topic, m.received);
        }));
  }
  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry.Collect()); }

  prometheus::Registry registry;
  ingest::ReadingStore store;
  ingest::IngestPipeline pipeline;
  ReadingRecorder recorder;
  ingest::MqttSourceConfig config;
};

}  // namespace floodwarn::testing
