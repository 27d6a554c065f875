#include "floodwarn/ingest/http_poller.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace floodwarn::ingest {
namespace {

void CurlInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* body;
  std::string* etag;
  std::size_t max;
  bool overflow = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

std::size_t WriteHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  std::string line(data, bytes);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "etag") {
      std::string value = line.substr(colon + 1);
      const auto b = value.find_first_not_of(" \t");
      const auto e = value.find_last_not_of(" \t\r\n");
      *sink->etag = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    }
  }
  return bytes;
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  CURL* curl = nullptr;
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  CurlInitOnce();
  impl_->options = std::move(options);
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw std::runtime_error("http client: curl_easy_init failed");
}

HttpClient::~HttpClient() { curl_easy_cleanup(impl_->curl); }

HttpResponse HttpClient::Get(const std::string& url, const std::string& if_none_match) {
  HttpResponse r;
  CURL* c = impl_->curl;
  curl_easy_reset(c);
  Sink sink{&r.body, &r.etag, impl_->options.max_body_bytes};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->options.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(impl_->options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, impl_->options.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate if the server offers them
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (!if_none_match.empty())
    headers = curl_slist_append(headers, ("If-None-Match: " + if_none_match).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    r.error = sink.overflow ? fmt::format("response larger than {} bytes", sink.max)
                            : curl_easy_strerror(rc);
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

std::string HttpClient::Escape(const std::string& value) {
  std::string out;
  for (unsigned char ch : value) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
      out += static_cast<char>(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

std::chrono::milliseconds Backoff::Fail() {
  const auto d = next_;
  ++failures_;
  next_ = std::min(max_, std::chrono::milliseconds(
                             static_cast<long long>(static_cast<double>(next_.count()) * factor_)));
  return d;
}

PollerThread::PollerThread(PollFn poll) : poll_(std::move(poll)) {}
PollerThread::~PollerThread() { Stop(); }

void PollerThread::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    for (;;) {
      std::chrono::milliseconds delay;
      try {
        delay = poll_();
      } catch (const std::exception& e) {  // e.g. the store failed: try again later
        spdlog::error("poller failed error=\"{}\" retry_in_s=30", e.what());
        delay = std::chrono::seconds(30);
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, delay, [this] { return stop_; })) return;
    }
  });
}

void PollerThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace floodwarn::ingest
