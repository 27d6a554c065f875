#include "floodwarn/ingest/mqtt_source.hpp"

#include <fmt/format.h>
#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace floodwarn::ingest {
using namespace std::chrono_literals;
namespace {

void LibInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

TimePoint NowMs() { return std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()); }

// The calling thread's OpenSSL error queue as text (and emptied).
std::string TakeOpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

bool Readable(const std::string& path, std::string* why) {
  std::ifstream f(path);
  if (f) return true;
  *why = fmt::format("{}: cannot read ({})", path, std::strerror(errno));
  return false;
}

}  // namespace

// Loads the TLS files the way libmosquitto will at connect time (it does so
// only then, and a broker that is down hides the error), so a wrong file is
// a start-up error that names it instead of an endless retry loop.
std::optional<MqttTlsProblem> CheckMqttTls(const MqttSourceConfig& c) {
  using P = MqttTlsProblem;
  if (c.tls_ca_file.empty()) {
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string&>{"tls_cert_file", c.tls_cert_file},
          {"tls_key_file", c.tls_key_file},
          {"tls_version", c.tls_version}})
      if (!value.empty())
        return P{field,
                 "needs tls_ca_file (the CA that signed the broker's certificate; it turns TLS "
                 "on)"};
    return std::nullopt;
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty())
    return c.tls_cert_file.empty()
               ? P{"tls_key_file", "needs tls_cert_file (the client certificate of this key)"}
               : P{"tls_cert_file", "needs tls_key_file (the private key of this certificate)"};
  if (!c.tls_version.empty() && c.tls_version != "tlsv1.2" && c.tls_version != "tlsv1.3")
    return P{"tls_version", fmt::format("\"{}\": expected tlsv1.2 or tlsv1.3 (or nothing: either)",
                                        c.tls_version)};
  std::string why;
  if (!Readable(c.tls_ca_file, &why)) return P{"tls_ca_file", why};
  if (!c.tls_cert_file.empty()) {
    if (!Readable(c.tls_cert_file, &why)) return P{"tls_cert_file", why};
    if (!Readable(c.tls_key_file, &why)) return P{"tls_key_file", why};
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  if (!ctx) return P{"tls_ca_file", "SSL_CTX_new failed: " + TakeOpenSslErrors()};
  ERR_clear_error();
  std::optional<P> problem;
  if (SSL_CTX_load_verify_locations(ctx.get(), c.tls_ca_file.c_str(), nullptr) != 1) {
    problem = P{"tls_ca_file", fmt::format("{}: no usable PEM CA certificate ({})", c.tls_ca_file,
                                           TakeOpenSslErrors())};
  } else if (!c.tls_cert_file.empty()) {
    // An encrypted key would make OpenSSL prompt on the terminal: refuse it.
    const auto no_passphrase = [](char*, int, int, void*) { return 0; };
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> key_ctx(SSL_CTX_new(TLS_client_method()),
                                                              &SSL_CTX_free);
    if (key_ctx) SSL_CTX_set_default_passwd_cb(key_ctx.get(), no_passphrase);
    SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.tls_cert_file.c_str()) != 1)
      problem = P{"tls_cert_file", fmt::format("{}: not a usable PEM certificate ({})",
                                               c.tls_cert_file, TakeOpenSslErrors())};
    // The key alone first (a context without a certificate), so that a
    // key that does not parse and a key of another certificate differ.
    else if (!key_ctx || SSL_CTX_use_PrivateKey_file(key_ctx.get(), c.tls_key_file.c_str(),
                                                     SSL_FILETYPE_PEM) != 1)
      problem = P{"tls_key_file", fmt::format("{}: not an unencrypted PEM private key ({})",
                                              c.tls_key_file, TakeOpenSslErrors())};
    else if (SSL_CTX_use_PrivateKey_file(ctx.get(), c.tls_key_file.c_str(), SSL_FILETYPE_PEM) !=
                 1 ||
             SSL_CTX_check_private_key(ctx.get()) != 1)
      problem =
          P{"tls_key_file", fmt::format("{}: is not the key of tls_cert_file {} ({})",
                                        c.tls_key_file, c.tls_cert_file, TakeOpenSslErrors())};
  }
  ERR_clear_error();
  return problem;
}

namespace {}  // namespace

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
  // The current connection attempt (network thread): CONNACK 0 seen, and
  // what libmosquitto logged as errors meanwhile.
  bool attempt_connacked = false;
  std::string attempt_error;
  bool net_stop = false;  // Stop(): the network thread ends its loop
  std::thread net;        // network thread (NetLoop)
  MqttSourceStats stats;
  std::thread worker;
  bool started = false;

  static Impl* Self(void* obj) { return static_cast<Impl*>(obj); }

  const char* Transport() const { return config.tls_ca_file.empty() ? "tcp" : "tls"; }

  // libmosquitto reports why a TLS handshake failed (untrusted certificate,
  // name mismatch, alert from the broker) only through its log: the error
  // lines of the current attempt become its reason.
  static void OnLog(mosquitto*, void* obj, int level, const char* text) {
    if (level != MOSQ_LOG_ERR && level != MOSQ_LOG_WARNING) return;
    Impl* self = Self(obj);
    const std::string msg = text ? text : "";
    if (level == MOSQ_LOG_ERR) {
      std::lock_guard<std::mutex> lock(self->mu);
      self->attempt_error += (self->attempt_error.empty() ? "" : " / ") + msg;
    }
    spdlog::warn("mqtt library_{} host={} port={} transport={} client_id={} message=\"{}\"",
                 level == MOSQ_LOG_ERR ? "error" : "warning", self->config.host, self->config.port,
                 self->Transport(), self->config.client_id, msg);
  }

  static void OnConnect(mosquitto* m, void* obj, int rc) {
    Impl* self = Self(obj);
    if (rc != 0) {
      {
        std::lock_guard<std::mutex> lock(self->mu);
        if (self->attempt_error.empty())
          self->attempt_error =
              fmt::format("broker refused the connection: {}", mosquitto_connack_string(rc));
      }
      spdlog::warn("mqtt connect_refused host={} port={} transport={} client_id={} reason=\"{}\"",
                   self->config.host, self->config.port, self->Transport(), self->config.client_id,
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
      self->attempt_connacked = true;
      self->pending_subscribe_mid = mid;
      ++self->stats.connects;
    }
    spdlog::info(
        "mqtt connected host={} port={} transport={} client_id={} topics={} subscribe_rc={}",
        self->config.host, self->config.port, self->Transport(), self->config.client_id,
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
      spdlog::warn(
          "mqtt disconnected host={} port={} transport={} client_id={} rc={} reason=\"{}\"",
          self->config.host, self->config.port, self->Transport(), self->config.client_id, rc,
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

  // The network thread. Not mosquitto_loop_forever: it gives up for good on a
  // TLS error (MOSQ_ERR_TLS is "fatal" there), and a source must keep trying
  // a broker whose certificate is fixed later. Each attempt that ends
  // without a CONNACK is counted and logged with its reason; retries back off
  // from reconnect_min to reconnect_max (reset by a CONNACK). Never plain TCP
  // when TLS is configured: libmosquitto has no fallback, nor do we.
  void NetLoop() {
    std::chrono::seconds delay = config.reconnect_min;
    bool first = true;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (net_stop) return;
        attempt_connacked = false;
        attempt_error.clear();
      }
      int rc = first ? mosquitto_connect_async(mosq, config.host.c_str(), config.port,
                                               config.keepalive_s)
                     : mosquitto_reconnect_async(mosq);
      // mosquitto_reconnect_async needs the host that a successful
      // mosquitto_connect_async set up (INVAL: it was rejected before that).
      if (rc != MOSQ_ERR_INVAL) first = false;
      // Run the connection until it breaks (or Stop(): then until the
      // DISCONNECT is out, at most 2 s).
      std::optional<std::chrono::steady_clock::time_point> stop_deadline;
      while (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_loop(mosq, 1000, 1);
        std::lock_guard<std::mutex> lock(mu);
        if (net_stop && !stop_deadline) stop_deadline = std::chrono::steady_clock::now() + 2s;
        if (stop_deadline && std::chrono::steady_clock::now() > *stop_deadline) break;
      }
      bool connacked;
      std::string reason;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (net_stop) return;
        connacked = attempt_connacked;
        if (!connacked) {
          ++stats.connect_failures;
          reason = attempt_error.empty() ? fmt::format("{} (rc={})", mosquitto_strerror(rc), rc)
                                         : attempt_error;
          stats.last_error = reason;
        }
      }
      if (connacked) {
        delay = config.reconnect_min;
      } else {
        spdlog::warn(
            "mqtt connect_failed host={} port={} transport={} client_id={} rc={} reason=\"{}\" "
            "retry_in_s={}",
            config.host, config.port, Transport(), config.client_id, rc, reason, delay.count());
      }
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, delay, [this] { return net_stop; })) return;
      if (!connacked) delay = std::min(delay * 2, config.reconnect_max);
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
  if (auto problem = CheckMqttTls(config))
    throw std::invalid_argument(
        fmt::format("mqtt source: {}: {}", problem->field, problem->message));
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
  mosquitto_log_callback_set(m.mosq, &Impl::OnLog);
  if (!m.config.tls_ca_file.empty()) {
    const auto fail = [&m](const std::string& call, int rc) {
      mosquitto_destroy(m.mosq);
      m.mosq = nullptr;
      throw std::runtime_error(
          fmt::format("mqtt source: {} failed: {} (rc={})", call, mosquitto_strerror(rc), rc));
    };
    const auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    // Verifies the broker's chain against tls_ca_file and, with
    // tls_insecure false (set explicitly), its name against `host`.
    int rc = mosquitto_tls_set(m.mosq, m.config.tls_ca_file.c_str(), nullptr,
                               opt(m.config.tls_cert_file), opt(m.config.tls_key_file), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      fail(fmt::format("mosquitto_tls_set(tls_ca_file={}, tls_cert_file={}, tls_key_file={})",
                       m.config.tls_ca_file, m.config.tls_cert_file, m.config.tls_key_file),
           rc);
    rc = mosquitto_tls_opts_set(m.mosq, /*SSL_VERIFY_PEER=*/1, opt(m.config.tls_version), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      fail(fmt::format("mosquitto_tls_opts_set(cert_reqs=SSL_VERIFY_PEER, tls_version={})",
                       m.config.tls_version.empty() ? "default" : m.config.tls_version),
           rc);
    rc = mosquitto_tls_insecure_set(m.mosq, false);
    if (rc != MOSQ_ERR_SUCCESS) fail("mosquitto_tls_insecure_set(false)", rc);
  }
  // Our own network thread (NetLoop), so libmosquitto must lock for it.
  mosquitto_threaded_set(m.mosq, true);
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
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.net_stop = false;
    m.stop_requested = false;
    m.stopping = false;
  }
  m.worker = std::thread([&m] { m.WorkerLoop(); });
  m.net = std::thread([&m] { m.NetLoop(); });
}

void MqttSource::Stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stop_requested = true;  // a failing handler gives up
    m.net_stop = true;
  }
  m.cv.notify_all();
  mosquitto_disconnect(m.mosq);  // wakes mosquitto_loop; NetLoop sends it and ends
  if (m.net.joinable()) m.net.join();
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
