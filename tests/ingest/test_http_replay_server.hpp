// A local HTTP server (cpp-httplib on 127.0.0.1, a free port) for the poller
// tests: handlers replay recorded-shaped responses from tests/ingest/data.
#pragma once

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace floodwarn::testing {

inline std::string ReadTestData(const std::string& name) {
  const std::string path = SourceDir() + "/tests/ingest/data/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReplayServer {
 public:
  ReplayServer() = default;
  ~ReplayServer() { Stop(); }
  httplib::Server& server() { return server_; }
  // Call after registering the handlers.
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind the replay server on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace floodwarn::testing
