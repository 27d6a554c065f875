// MQTT source: subscribes to a broker with libmosquitto (QoS 1, persistent
// session, reconnect with exponential backoff) and hands the messages, in
// arrival order and in batches, to a handler on one worker thread.
//
// Delivery guarantee (docs/ingest/LIVE.md, "What an MQTT ack means"):
// libmosquitto 2.0 has no manual-ack API (mosquitto_manual_ack arrived in
// 2.1). It queues the PUBACK of a QoS 1 message before calling on_message;
// with the threaded loop (mosquitto_loop_start, used here) the queued PUBACK
// is written to the socket by the loop thread only after on_message returns.
//  - commit_in_callback = true (default): the handler (decode + commit) runs
//    inside on_message, so the PUBACK leaves only after the commit. A crash
//    before the commit means no PUBACK, and the broker re-delivers to our
//    persistent session (clean_session = false); the idempotent store
//    absorbs re-deliveries. tests/ingest/test_pipeline_crash.cpp checks this
//    with SIGKILLs: no message needs a re-send. One commit per message.
//  - commit_in_callback = false: messages are queued and committed in
//    batches by a worker thread (bulk feeds, the benchmark). The PUBACK goes
//    out on receipt, so what was received but not yet committed is lost in a
//    crash unless the sender re-sends on a missing application ack (the
//    committed cursor); the crash test shows that this closes the gap.
// A handler that throws (store down) is retried with backoff, never skipped.
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
  // Run the handler on the network thread, one message at a time, so the
  // PUBACK follows the commit (see above). Costs one commit (fsync) per
  // message: right for gauges that report every few minutes; set false for
  // bulk feeds and accept the documented window.
  bool commit_in_callback = true;
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
