// A real mosquitto broker for integration tests (started on 127.0.0.1 on a
// free port, stopped by the destructor) and a small QoS 1 publisher.
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
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace floodwarn::testing {

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

inline bool CanConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class MosquittoBroker {
 public:
  // Throws with a clear message when the broker is not installed or does not start.
  MosquittoBroker() {
    if (access(kMosquittoBinary, X_OK) != 0)
      throw std::runtime_error(std::string(kMosquittoBinary) +
                               " not found: install the Debian package 'mosquitto' "
                               "(scripts/setup does); this integration test needs a real broker");
    dir_ = MakeTempDir("mosquitto");
    for (int attempt = 0; attempt < 5; ++attempt)
      if (Launch(FreeTcpPort())) return;
    throw std::runtime_error("mosquitto did not start (see " + dir_ + "/mosquitto.log)");
  }
  ~MosquittoBroker() { Stop(); }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  int port() const { return port_; }
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
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\n"
                        << "allow_anonymous true\n"
                        << "persistence false\n"
                        << "max_queued_messages 100000\n"
                        << "log_dest file " << dir_ << "/mosquitto.log\n";
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
      if (CanConnect(port_)) return true;
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

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Publishes with QoS 1 and waits for the broker's PUBACKs.
class TestPublisher {
 public:
  explicit TestPublisher(int port, const std::string& client_id = "floodwarn-test-publisher") {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(client_id.c_str(), true, this);
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* obj, int mid) {
      auto* self = static_cast<TestPublisher*>(obj);
      std::lock_guard<std::mutex> lock(self->mu_);
      self->pending_.erase(mid);
      self->cv_.notify_all();
    });
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
      throw std::runtime_error("test publisher cannot connect to the broker");
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
