// MQTT source: subscribes to a broker with libmosquitto (QoS 1, persistent
// session, reconnect with exponential backoff) and hands the messages, in
// arrival order and in batches, to a handler on one worker thread.
//
// Delivery guarantee (docs/ingest/LIVE.md, "What an MQTT ack means"):
// libmosquitto 2.0 sends PUBACK for a QoS 1 message as soon as it has read it,
// before on_message runs; it has no manual-ack API (that arrived in 2.1).
// So the broker's copy is released before our store commit. What this class
// guarantees instead: the handler is called with every received message, and
// a handler that throws (store down) is retried with backoff, never skipped;
// a message is lost only if the process dies between PUBACK and commit (a
// window of one batch). Close that window with an application-level ack:
// publish the committed cursor (see IngestPipeline) and let the sender
// re-publish what was not acknowledged; the idempotent store ignores the
// duplicates.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest {

struct MqttSourceConfig {
  std::string host = "127.0.0.1";
  int port = 1883;
  // Fixed client id: with clean_session = false the broker keeps the
  // subscription and queues QoS 1 messages while we are away.
  std::string client_id;
  bool clean_session = false;
  std::vector<std::string> topics;  // MQTT topic filters (+ and # allowed)
  int qos = 1;
  int keepalive_s = 30;
  std::string username;
  std::string password;
  std::chrono::seconds reconnect_min{1};
  std::chrono::seconds reconnect_max{30};
  std::size_t max_batch = 1000;  // messages handed to the handler at once
};

struct MqttMessage {
  std::string topic;
  std::string payload;
  int mid = 0;
  TimePoint received{};
};

struct MqttSourceStats {
  std::uint64_t messages = 0;
  std::uint64_t batches = 0;
  std::uint64_t connects = 0;  // successful CONNACKs (1 + reconnects)
  std::uint64_t handler_failures = 0;
};

class MqttSource {
 public:
  // Runs on the worker thread; returns once the batch is durable. If it
  // throws, the same batch is offered again after a backoff.
  using BatchHandler = std::function<void(const std::vector<MqttMessage>&)>;

  // Throws std::invalid_argument when the config is unusable (no topics,
  // qos not 0..2, empty client id with clean_session = false).
  MqttSource(MqttSourceConfig config, BatchHandler handler);
  ~MqttSource();  // Stop()
  MqttSource(const MqttSource&) = delete;
  MqttSource& operator=(const MqttSource&) = delete;

  // Connects in the background; a broker that is down is retried with backoff.
  void Start();
  // Disconnects, then delivers what was already received and stops the worker.
  void Stop();

  bool connected() const;
  // True once connected and subscribed, false on timeout.
  bool WaitSubscribed(std::chrono::milliseconds timeout) const;
  MqttSourceStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodwarn::ingest
