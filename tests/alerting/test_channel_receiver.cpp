#include "test_channel_receiver.hpp"

#include <httplib.h>

#include <stdexcept>

namespace floodwarn::testing {

namespace {

std::unique_ptr<httplib::Server> MakeServer(const std::string& cert, const std::string& key) {
  if (cert.empty()) return std::make_unique<httplib::Server>();
  auto s = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
  if (!s->is_valid()) throw std::runtime_error("TestReceiver: cannot load " + cert + " / " + key);
  return s;
}

}  // namespace

TestReceiver::TestReceiver(std::vector<Fault> script, std::chrono::milliseconds slow,
                           const std::string& cert_pem, const std::string& key_pem)
    : server_(MakeServer(cert_pem, key_pem)),
      tls_(!cert_pem.empty()),
      slow_(slow),
      script_(std::move(script)) {
  server_->Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    Request r{req.path, req.get_header_value("Idempotency-Key"),
              req.get_header_value("Content-Type"), req.body};
    Fault fault = Fault::kNone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ < script_.size()) fault = script_[next_];
      ++next_;
      attempts_.push_back(r);
      if (fault == Fault::k500) {
        res.status = 500;
        res.set_content("injected failure", "text/plain");
        return;
      }
      if (fault == Fault::k400) {
        res.status = 400;
        res.set_content("injected rejection", "text/plain");
        return;
      }
      if (r.key.empty()) {
        res.status = 400;
        res.set_content("Idempotency-Key missing", "text/plain");
        return;
      }
      if (processed_count_.count(r.key) != 0) {
        res.status = 409;  // already processed: the sender treats it as delivered
        res.set_content("duplicate", "text/plain");
        return;
      }
      ++processed_count_[r.key];
      processed_[r.key] = r;
    }
    if (fault == Fault::kDropAfterProcessing) {
      // Announce 1000 bytes, send 7, abort: the client sees a broken answer.
      res.set_content_provider(1000, "text/plain", [](size_t, size_t, httplib::DataSink& sink) {
        sink.write("partial", 7);
        return false;
      });
      return;
    }
    if (fault == Fault::kSlowAfterProcessing) std::this_thread::sleep_for(slow_);
    res.status = 200;
    res.set_content("ok", "text/plain");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("TestReceiver: cannot bind 127.0.0.1");
  // bind_to_any_port already listens: connections queue until the loop runs.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the loop runs would be lost (and the join would hang).
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TestReceiver::~TestReceiver() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string TestReceiver::Url(const std::string& path) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

std::vector<TestReceiver::Request> TestReceiver::Attempts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attempts_;
}

std::map<std::string, int> TestReceiver::ProcessedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return processed_count_;
}

std::map<std::string, TestReceiver::Request> TestReceiver::Processed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return processed_;
}

void TestReceiver::SetScript(std::vector<Fault> script) {
  std::lock_guard<std::mutex> lock(mu_);
  script_ = std::move(script);
  next_ = 0;
}

}  // namespace floodwarn::testing
