// One HTTP POST with libcurl for the channel adapters.
#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "channel_internal.hpp"

namespace floodwarn::alerting {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t DiscardBody(char* /*ptr*/, size_t size, size_t nmemb, void* /*userdata*/) {
  return size * nmemb;
}

size_t ReadHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  const size_t n = size * nitems;
  auto* retry_after = static_cast<Duration*>(userdata);
  const std::string line(buffer, n);
  static const char kName[] = "retry-after:";
  if (line.size() > sizeof(kName) - 1) {
    bool match = true;
    for (size_t i = 0; i + 1 < sizeof(kName); ++i) {
      const char c = line[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      // Only the delta-seconds form; an HTTP date is ignored (backoff applies).
      char* end = nullptr;
      const long s = std::strtol(line.c_str() + sizeof(kName) - 1, &end, 10);
      if (end != line.c_str() + sizeof(kName) - 1 && s > 0 && s < 86400)
        *retry_after = std::chrono::seconds(s);
    }
  }
  return n;
}

int AbortOnStop(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* stop = static_cast<const std::atomic<bool>*>(clientp);
  return stop != nullptr && stop->load() ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

HttpResult HttpPost(const std::string& url, const std::vector<std::string>& headers,
                    const std::string& body, const RetryPolicy& retry, const std::string& ca_file,
                    const std::atomic<bool>* stop) {
  GlobalInit();
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(retry.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(retry.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.retry_after);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);  // Stop() aborts a slow request
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortOnStop);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stop));

  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.status = status;
  } else {
    // A status line followed by a broken body is still a failure: the answer
    // did not arrive whole, so the attempt counts as unanswered (retried).
    result.error = errbuf[0] != 0 ? std::string(errbuf) : curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace floodwarn::alerting
