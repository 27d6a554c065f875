// MQTT source: subscribes to a broker with libmosquitto (QoS 1, persistent
// session, reconnect with exponential backoff) and hands the messages, in
// arrival order and in batches, to a handler on one worker thread.
//
// Delivery guarantee (docs/ingest/LIVE.md, "What an MQTT ack means"):
// libmosquitto 2.0 has no manual-ack API (mosquitto_manual_ack arrived in
// 2.1). It queues the PUBACK of a QoS 1 message before calling on_message;
// in threaded mode (our own network thread runs mosquitto_loop) the queued
// PUBACK is written to the socket by that thread only after on_message
// returns.
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
//
// TLS (docs/ingest/LIVE.md, "MQTT over TLS"): a non-empty tls_ca_file turns
// TLS on. The broker's certificate must chain to that CA and name the host
// (SAN DNS or IP); there is no switch to skip either check. tls_cert_file +
// tls_key_file add a client certificate (both or neither). The files are
// loaded and checked in the constructor, which throws std::invalid_argument
// naming the file and what is wrong with it; a handshake that fails later
// (untrusted broker, refused client certificate) is retried like a broker
// that is down, logged, and counted in MqttSourceStats::connect_failures with
// the reason in last_error. A source with TLS never falls back to plain TCP.
// (The network thread is ours, not mosquitto_loop_forever's, which stops for
// good at the first TLS error.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/ingest/mqtt_message.hpp"

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
  // TLS: PEM files. tls_ca_file non-empty = TLS on (verify the broker's
  // certificate chain against it and its name against `host`).
  std::string tls_ca_file;
  std::string tls_cert_file;  // client certificate (chain), with tls_key_file
  std::string tls_key_file;   // unencrypted PEM private key of tls_cert_file
  // Empty: TLS 1.2 or 1.3. "tlsv1.2" or "tlsv1.3": exactly that version.
  std::string tls_version;
  std::chrono::seconds reconnect_min{1};
  std::chrono::seconds reconnect_max{30};
  std::size_t max_batch = 1000;  // messages handed to the handler at once
  // Run the handler on the network thread, one message at a time, so the
  // PUBACK follows the commit (see above). Costs one commit (fsync) per
  // message: right for gauges that report every few minutes; set false for
  // bulk feeds and accept the documented window.
  bool commit_in_callback = true;
};

// What is wrong with the TLS part of a config: the field ("tls_ca_file",
// "tls_cert_file", "tls_key_file", "tls_version") and why, naming the file.
struct MqttTlsProblem {
  std::string field;
  std::string message;
};

// The TLS checks of MqttSource's constructor (files readable, PEM, key
// matches certificate, cert and key together, known version), for config
// loaders that want to name the line: nullopt when usable or TLS is off.
std::optional<MqttTlsProblem> CheckMqttTls(const MqttSourceConfig& config);

struct MqttSourceStats {
  std::uint64_t messages = 0;
  std::uint64_t batches = 0;
  std::uint64_t connects = 0;  // successful CONNACKs (1 + reconnects)
  std::uint64_t handler_failures = 0;
  // Connection attempts that ended without a CONNACK with rc 0: TCP refused,
  // TLS handshake failed (untrusted broker certificate, name mismatch,
  // client certificate refused), CONNACK refused (bad login).
  std::uint64_t connect_failures = 0;
  std::string last_error;  // why the latest one failed; empty when none yet
};

class MqttSource {
 public:
  // Runs on the worker thread; returns once the batch is durable. If it
  // throws, the same batch is offered again after a backoff.
  using BatchHandler = MqttBatchHandler;

  // Throws std::invalid_argument when the config is unusable (no topics,
  // qos not 0..2, empty client id with clean_session = false, a TLS file
  // that is missing, unreadable or not PEM, a key that does not match the
  // certificate, cert without key or key without cert, an unknown
  // tls_version); std::runtime_error when libmosquitto rejects the TLS setup.
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
