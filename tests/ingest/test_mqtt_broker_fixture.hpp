// A real mosquitto broker for integration tests (started on 127.0.0.1 on a
// free port, stopped by the destructor), optionally with a TLS listener, a
// throwaway PKI for it (tests/alerting/pki.sh) and a small QoS 1 publisher.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/ingest/reading.hpp"
#include "test_support.hpp"

namespace floodwarn::testing {

// Records the readings a pipeline hands to its subscribers; tests wait for
// a count.
class ReadingRecorder : public ingest::IngestSubscriber {
 public:
  void OnReading(const ingest::Reading& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    readings_.push_back(r);
    cv_.notify_all();
  }
  void OnStationHealth(const ingest::StationHealthEvent&) override {}
  bool WaitFor(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return readings_.size() >= n; });
  }
  std::vector<ingest::Reading> readings() {
    std::lock_guard<std::mutex> lock(mu_);
    return readings_;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return readings_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ingest::Reading> readings_;
};

inline constexpr const char* kMosquittoBinary = "/usr/sbin/mosquitto";

inline int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool CanConnect(int port, const std::string& address = "127.0.0.1") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    throw std::runtime_error("not an IPv4 address: " + address);
  }
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A throwaway PKI from tests/alerting/pki.sh in `dir`: ca.pem, server.pem/.key
// (SAN IP:127.0.0.1, DNS:localhost), <client>.pem/.key for each client,
// other-ca.pem and intruder.pem/.key (an unrelated CA and a client of it).
// Throws with pki.sh's output when it fails (openssl missing: broken install).
inline void MakeTestPki(const std::string& dir, const std::string& clients = "client") {
  const CommandResult r =
      RunCommand("/bin/sh '" + SourceDir() + "/tests/alerting/pki.sh' '" + dir + "' " + clients);
  if (r.exit_code != 0)
    throw std::runtime_error("pki.sh failed (exit " + std::to_string(r.exit_code) +
                             "; openssl is required, scripts/setup installs it):\n" + r.output);
}

// TLS listener of the test broker: PEM files (e.g. from MakeTestPki).
struct BrokerTls {
  std::string ca_file;    // clients' certificates are verified against it
  std::string cert_file;  // the broker's certificate
  std::string key_file;
  bool require_certificate = false;  // refuse clients without a certificate from ca_file
};

struct BrokerOptions {
  std::optional<BrokerTls> tls;  // TLS only (no plain listener) when set
  // Any 127.x.y.z address (all of 127/8 is loopback on Linux): a name the
  // broker's certificate does not carry tests the client's hostname check.
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: a free one; else this one (e.g. a broker's successor)
};

class MosquittoBroker {
 public:
  // Throws with a clear message when the broker is not installed or does not start.
  MosquittoBroker() : MosquittoBroker(BrokerOptions{}) {}
  explicit MosquittoBroker(BrokerOptions options) : options_(std::move(options)) {
    if (access(kMosquittoBinary, X_OK) != 0)
      throw std::runtime_error(std::string(kMosquittoBinary) +
                               " not found: install the Debian package 'mosquitto' "
                               "(scripts/setup does); this integration test needs a real broker");
    dir_ = MakeTempDir("mosquitto");
    if (options_.port != 0) {
      port_ = options_.port;
      Restart();
      return;
    }
    for (int attempt = 0; attempt < 5; ++attempt)
      if (Launch(FreeTcpPort())) return;
    throw std::runtime_error("mosquitto did not start (see " + dir_ + "/mosquitto.log)");
  }
  ~MosquittoBroker() { Stop(); }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // The broker's log (TLS errors, refused clients): for failure messages.
  std::string Log() const {
    std::ifstream f(dir_ + "/mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  // Stops and starts the broker again on the same port (its sessions are gone:
  // persistence is off, as in a broker crash without a persistence file).
  void Restart() {
    Stop();
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (Launch(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("mosquitto did not restart on port " + std::to_string(port_));
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  bool Launch(int port) {
    port_ = port;
    const std::string conf = dir_ + "/mosquitto.conf";
    {
      std::ofstream out(conf);
      out << "listener " << port_ << " " << options_.bind_address << "\n"
          << "allow_anonymous true\n"
          << "persistence false\n"
          << "max_queued_messages 100000\n"
          << "log_dest file " << dir_ << "/mosquitto.log\n";
      if (options_.tls) {
        out << "cafile " << options_.tls->ca_file << "\n"
            << "certfile " << options_.tls->cert_file << "\n"
            << "keyfile " << options_.tls->key_file << "\n"
            << "require_certificate " << (options_.tls->require_certificate ? "true" : "false")
            << "\n";
      }
      // As root, mosquitto drops to user "mosquitto", which cannot read the
      // 0600 keys (nor the log) in our temp dir: stay the same user.
      if (geteuid() == 0) out << "user root\n";
    }
    pid_ = fork();
    if (pid_ == 0) {
      const int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(kMosquittoBinary, kMosquittoBinary, "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (CanConnect(port_, options_.bind_address)) return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;  // port taken in between: retry
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop();
    return false;
  }

  BrokerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// TLS for the test publisher: verify the broker against ca_file (and its
// name against the host), optionally present a client certificate.
struct ClientTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// Publishes with QoS 1 and waits for the broker's PUBACKs.
class TestPublisher {
 public:
  explicit TestPublisher(int port, const std::string& client_id = "floodwarn-test-publisher",
                         const std::optional<ClientTls>& tls = std::nullopt,
                         const std::string& host = "127.0.0.1") {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(client_id.c_str(), true, this);
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* obj, int mid) {
      auto* self = static_cast<TestPublisher*>(obj);
      std::lock_guard<std::mutex> lock(self->mu_);
      self->pending_.erase(mid);
      self->cv_.notify_all();
    });
    if (tls) {
      const auto opt = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
      if (mosquitto_tls_set(mosq_, tls->ca_file.c_str(), nullptr, opt(tls->cert_file),
                            opt(tls->key_file), nullptr) != MOSQ_ERR_SUCCESS ||
          mosquitto_tls_opts_set(mosq_, 1, nullptr, nullptr) != MOSQ_ERR_SUCCESS)
        throw std::runtime_error("test publisher: TLS setup failed (ca " + tls->ca_file + ")");
    }
    if (const int rc = mosquitto_connect(mosq_, host.c_str(), port, 30); rc != MOSQ_ERR_SUCCESS)
      throw std::runtime_error(std::string("test publisher cannot connect to the broker: ") +
                               mosquitto_strerror(rc));
    mosquitto_loop_start(mosq_);
  }
  ~TestPublisher() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }
  void Publish(const std::string& topic, const std::string& payload, int qos = 1) {
    std::lock_guard<std::mutex> lock(mu_);  // so the PUBACK cannot overtake the insert
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), qos, false);
    if (rc != MOSQ_ERR_SUCCESS)
      throw std::runtime_error(std::string("publish failed: ") + mosquitto_strerror(rc));
    if (qos > 0) pending_.insert(mid);
  }
  bool WaitAllAcked(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return pending_.empty(); });
  }

 private:
  mosquitto* mosq_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> pending_;
};

}  // namespace floodwarn::testing
