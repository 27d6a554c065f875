// A real Prometheus server (the Debian `prometheus` package) scrapes the
// alerting service's /metrics: the target is up, the exposition parses (the
// metadata API knows the metric types), and the values Prometheus stores are
// the ones the service set (an alert raised at level 3 is counted and shows
// in the open-alert gauge).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "service_harness.hpp"
#include "test_support.hpp"

namespace {

using namespace floodwarn::testing;
using std::chrono::milliseconds;
using Json = nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// A port nothing listens on right now (Prometheus takes its port from the
// command line, not from the kernel).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// `prometheus` scraping 127.0.0.1:<target_port> every 500 ms, stopped with
// the object. Its log goes to dir/prometheus.log (printed on failure).
class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, int target_port) : dir_(dir) {
    port_ = FreePort();
    WriteText(dir + "/prometheus.yml",
              "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n"
              "scrape_configs:\n  - job_name: floodwarn\n    static_configs:\n"
              "      - targets: ['127.0.0.1:" +
                  std::to_string(target_port) + "']\n");
    const std::string config = "--config.file=" + dir + "/prometheus.yml";
    const std::string storage = "--storage.tsdb.path=" + dir + "/tsdb";
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    const std::string log = dir + "/prometheus.log";
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execl(kPrometheus, kPrometheus, config.c_str(), storage.c_str(), listen.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  // The JSON `data` of GET path, or null if Prometheus did not answer.
  Json Get(const std::string& path) const {
    httplib::Client http("127.0.0.1", port_);
    http.set_connection_timeout(1);
    auto res = http.Get(path.c_str());
    if (!res || res->status != 200) return nullptr;
    Json j = Json::parse(res->body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return nullptr;
    return j["data"];
  }
  // The value of an instant query with exactly one series, or NaN.
  double Query(const std::string& promql) const {
    Json d = Get("/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
    if (d.is_null() || !d["result"].is_array() || d["result"].size() != 1) return std::nan("");
    return std::stod(d["result"][0]["value"][1].get<std::string>());
  }
  std::string Log() const { return ReadText(dir_ + "/prometheus.log"); }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(PrometheusScrape, RealPrometheusStoresTheServiceMetrics) {
  ASSERT_TRUE(std::filesystem::exists(kPrometheus))
      << kPrometheus << " not found: install the Debian package 'prometheus' (scripts/setup does)";
  ServerHarness h;
  h.Start();
  fa::MetricsEndpoint endpoint("127.0.0.1:0", h.registry);
  ASSERT_GT(endpoint.port(), 0);
  h.Issue("prometheus", 3, "unterstadt");

  PrometheusServer prom(h.dir, endpoint.port());
  // The target is scraped and healthy: Prometheus parsed the exposition.
  Json target;
  ASSERT_TRUE(WaitFor(
      [&] {
        Json d = prom.Get("/api/v1/targets");
        if (d.is_null() || d["activeTargets"].empty()) return false;
        target = d["activeTargets"][0];
        return target.value("health", "") == "up";
      },
      milliseconds(30000), milliseconds(200)))
      << "target: " << target.dump() << "\nprometheus log:\n"
      << prom.Log();
  EXPECT_EQ(target.value("lastError", "?"), "");
  EXPECT_EQ(prom.Query("up{job=\"floodwarn\"}"), 1.0);

  // What Prometheus stored equals what the service did: one alert raised at
  // level 3, open and active (the gauges are refreshed every 5 s).
  EXPECT_TRUE(
      WaitFor([&] { return prom.Query("floodwarn_alert_events_total{kind=\"raised\"}") == 1.0; },
              milliseconds(15000), milliseconds(200)));
  EXPECT_TRUE(
      WaitFor([&] { return prom.Query("floodwarn_alerts{level=\"3\",state=\"active\"}") == 1.0; },
              milliseconds(15000), milliseconds(200)))
      << prom.Query("floodwarn_alerts{level=\"3\",state=\"active\"}");
  EXPECT_EQ(prom.Query("sum(floodwarn_alerts)"), 1.0);

  // The metric types came through (HELP/TYPE lines parsed).
  Json meta = prom.Get("/api/v1/metadata?metric=floodwarn_delivery_lag_seconds");
  ASSERT_FALSE(meta.is_null());
  ASSERT_TRUE(meta.contains("floodwarn_delivery_lag_seconds")) << meta.dump();
  EXPECT_EQ(meta["floodwarn_delivery_lag_seconds"][0].value("type", ""), "histogram");
  meta = prom.Get("/api/v1/metadata?metric=floodwarn_alert_events_total");
  ASSERT_FALSE(meta.is_null());
  ASSERT_TRUE(meta.contains("floodwarn_alert_events_total")) << meta.dump();
  EXPECT_EQ(meta["floodwarn_alert_events_total"][0].value("type", ""), "counter");
}

}  // namespace
