// A local HTTP receiver for the channel tests (cpp-httplib on 127.0.0.1, free
// port). It plays a gateway that honours Idempotency-Key: a key it has
// processed is answered 409 afterwards. It fails on purpose per a script.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace floodwarn::testing {

class TestReceiver {
 public:
  enum class Fault {
    kNone,
    k500,                  // answers 500 without processing
    k400,                  // answers 400 without processing (permanent)
    kDropAfterProcessing,  // processes, then breaks the connection mid-answer
    kSlowAfterProcessing,  // processes, then answers after `slow` (client timed out)
  };
  struct Request {
    std::string path, key, content_type, body;
  };

  // Request i (0-based, over all paths) gets script[i]; later ones kNone.
  // With `cert_pem`/`key_pem` it serves HTTPS (httplib::SSLServer).
  explicit TestReceiver(std::vector<Fault> script = {},
                        std::chrono::milliseconds slow = std::chrono::milliseconds(800),
                        const std::string& cert_pem = "", const std::string& key_pem = "");
  ~TestReceiver();
  TestReceiver(const TestReceiver&) = delete;
  TestReceiver& operator=(const TestReceiver&) = delete;

  std::string Url(const std::string& path = "/deliver") const;
  int port() const { return port_; }

  std::vector<Request> Attempts() const;              // every request received
  std::map<std::string, int> ProcessedCount() const;  // key -> times processed
  std::map<std::string, Request> Processed() const;   // key -> the processed request
  void SetScript(std::vector<Fault> script);          // restarts the request count

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  std::chrono::milliseconds slow_;
  mutable std::mutex mu_;
  std::vector<Fault> script_;
  std::size_t next_ = 0;
  std::vector<Request> attempts_;
  std::map<std::string, int> processed_count_;
  std::map<std::string, Request> processed_;
};

}  // namespace floodwarn::testing
