#include "floodwarn/ingest/mqtt_source.hpp"

#include <fmt/format.h>
#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace floodwarn::ingest {
namespace {

void LibInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

TimePoint NowMs() { return std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()); }

}  // namespace

struct MqttSource::Impl {
  MqttSourceConfig config;
  BatchHandler handler;
  mosquitto* mosq = nullptr;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<MqttMessage> queue;
  bool stopping = false;        // worker: drain and exit
  bool stop_requested = false;  // Stop() called: a failing handler gives up
  bool connected = false;
  bool subscribed = false;
  int pending_subscribe_mid = -1;
  MqttSourceStats stats;
  std::thread worker;
  bool started = false;

  static Impl* Self(void* obj) { return static_cast<Impl*>(obj); }

  static void OnConnect(mosquitto* m, void* obj, int rc) {
    Impl* self = Self(obj);
    if (rc != 0) {
      spdlog::warn("mqtt connect_refused host={} port={} client_id={} reason=\"{}\"",
                   self->config.host, self->config.port, self->config.client_id,
                   mosquitto_connack_string(rc));
      return;
    }
    std::vector<char*> topics;
    for (auto& t : self->config.topics) topics.push_back(const_cast<char*>(t.c_str()));
    int mid = 0;
    const int src = mosquitto_subscribe_multiple(m, &mid, static_cast<int>(topics.size()),
                                                 topics.data(), self->config.qos, 0, nullptr);
    {
      std::lock_guard<std::mutex> lock(self->mu);
      self->connected = true;
      self->pending_subscribe_mid = mid;
      ++self->stats.connects;
    }
    spdlog::info("mqtt connected host={} port={} client_id={} topics={} subscribe_rc={}",
                 self->config.host, self->config.port, self->config.client_id,
                 fmt::join(self->config.topics, ","), src);
  }

  static void OnSubscribe(mosquitto*, void* obj, int mid, int count, const int* granted) {
    Impl* self = Self(obj);
    for (int i = 0; i < count; ++i)
      if (granted[i] == 0x80)
        spdlog::error(
            "mqtt subscribe_refused client_id={} topic={}", self->config.client_id,
            i < static_cast<int>(self->config.topics.size()) ? self->config.topics[i] : "?");
    std::lock_guard<std::mutex> lock(self->mu);
    if (mid == self->pending_subscribe_mid) self->subscribed = true;
    self->cv.notify_all();
  }

  static void OnDisconnect(mosquitto*, void* obj, int rc) {
    Impl* self = Self(obj);
    {
      std::lock_guard<std::mutex> lock(self->mu);
      self->connected = false;
      self->subscribed = false;
    }
    if (rc != 0)
      spdlog::warn("mqtt disconnected host={} port={} client_id={} rc={} reason=\"{}\"",
                   self->config.host, self->config.port, self->config.client_id, rc,
                   mosquitto_strerror(rc));
  }

  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* msg) {
    Impl* self = Self(obj);
    MqttMessage m;
    m.topic = msg->topic ? msg->topic : "";
    if (msg->payload && msg->payloadlen > 0)
      m.payload.assign(static_cast<const char*>(msg->payload),
                       static_cast<std::size_t>(msg->payloadlen));
    m.mid = msg->mid;
    m.received = NowMs();
    if (self->config.commit_in_callback) {
      // On the network thread: the next packet is read (and PUBACKed) only
      // after this message is committed.
      {
        std::lock_guard<std::mutex> lock(self->mu);
        ++self->stats.messages;
      }
      self->Deliver({std::move(m)});
      return;
    }
    {
      std::lock_guard<std::mutex> lock(self->mu);
      self->queue.push_back(std::move(m));
      ++self->stats.messages;
    }
    self->cv.notify_all();
  }

  // Offers the batch until the handler accepts it: a message already
  // PUBACKed exists nowhere else. Gives up only when the source stops.
  void Deliver(const std::vector<MqttMessage>& batch) {
    std::chrono::milliseconds backoff{100};
    for (;;) {
      try {
        handler(batch);
        std::lock_guard<std::mutex> lock(mu);
        ++stats.batches;
        return;
      } catch (const std::exception& e) {
        bool giving_up;
        {
          std::lock_guard<std::mutex> lock(mu);
          ++stats.handler_failures;
          giving_up = stop_requested;
        }
        if (giving_up) {
          spdlog::error("mqtt handler_failed_at_stop client_id={} messages_lost={} error=\"{}\"",
                        config.client_id, batch.size(), e.what());
          return;
        }
        spdlog::error("mqtt handler_failed client_id={} messages={} retry_in_ms={} error=\"{}\"",
                      config.client_id, batch.size(), backoff.count(), e.what());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
  }

  void WorkerLoop() {
    std::vector<MqttMessage> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        const std::size_t n = std::min(queue.size(), config.max_batch);
        batch.clear();
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      Deliver(batch);
    }
  }
};

MqttSource::MqttSource(MqttSourceConfig config, BatchHandler handler)
    : impl_(std::make_unique<Impl>()) {
  if (config.topics.empty()) throw std::invalid_argument("mqtt source: no topics to subscribe to");
  if (config.qos < 0 || config.qos > 2)
    throw std::invalid_argument(
        fmt::format("mqtt source: qos {} (expected 0, 1 or 2)", config.qos));
  if (config.client_id.empty() && !config.clean_session)
    throw std::invalid_argument(
        "mqtt source: a persistent session (clean_session = false) needs a fixed client_id");
  if (config.port <= 0 || config.port > 65535)
    throw std::invalid_argument(fmt::format("mqtt source: port {} out of range", config.port));
  for (const auto& t : config.topics)
    if (mosquitto_sub_topic_check(t.c_str()) != MOSQ_ERR_SUCCESS)
      throw std::invalid_argument(fmt::format("mqtt source: invalid topic filter \"{}\"", t));
  if (!handler) throw std::invalid_argument("mqtt source: no handler");
  LibInitOnce();
  impl_->config = std::move(config);
  impl_->handler = std::move(handler);
  Impl& m = *impl_;
  m.mosq = mosquitto_new(m.config.client_id.empty() ? nullptr : m.config.client_id.c_str(),
                         m.config.clean_session, impl_.get());
  if (!m.mosq) throw std::runtime_error("mqtt source: mosquitto_new failed (out of memory?)");
  mosquitto_int_option(m.mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(m.mosq, &Impl::OnConnect);
  mosquitto_disconnect_callback_set(m.mosq, &Impl::OnDisconnect);
  mosquitto_message_callback_set(m.mosq, &Impl::OnMessage);
  mosquitto_subscribe_callback_set(m.mosq, &Impl::OnSubscribe);
  mosquitto_reconnect_delay_set(m.mosq, static_cast<unsigned>(m.config.reconnect_min.count()),
                                static_cast<unsigned>(m.config.reconnect_max.count()), true);
  if (!m.config.username.empty())
    mosquitto_username_pw_set(m.mosq, m.config.username.c_str(),
                              m.config.password.empty() ? nullptr : m.config.password.c_str());
}

MqttSource::~MqttSource() {
  Stop();
  if (impl_->mosq) mosquitto_destroy(impl_->mosq);
}

void MqttSource::Start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.worker = std::thread([&m] { m.WorkerLoop(); });
  const int rc =
      mosquitto_connect_async(m.mosq, m.config.host.c_str(), m.config.port, m.config.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS)
    spdlog::warn("mqtt connect_failed host={} port={} rc={} reason=\"{}\" (retrying)",
                 m.config.host, m.config.port, rc, mosquitto_strerror(rc));
  const int lrc = mosquitto_loop_start(m.mosq);
  if (lrc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(
        fmt::format("mqtt source: cannot start the network thread: {}", mosquitto_strerror(lrc)));
}

void MqttSource::Stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stop_requested = true;
  }
  mosquitto_disconnect(m.mosq);
  mosquitto_loop_stop(m.mosq, false);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.worker.joinable()) m.worker.join();
}

bool MqttSource::connected() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->connected;
}

bool MqttSource::WaitSubscribed(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [this] { return impl_->subscribed; });
}

MqttSourceStats MqttSource::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace floodwarn::ingest
