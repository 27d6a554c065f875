// Issue #12 through the real `floodwarn serve`: [ingest] (a reading store the
// test fills as the live inputs would) and [forecast] (a small town model run
// by serve in `floodwarn forecast run` child processes). A forecast warning
// with its onset reaches the gRPC stream; a cycle without forcing is a
// forecast outage for the duty officer, never silence. Real binary, real
// TLS, throwaway PKI, wall-clock time (the first cycle runs at start-up).
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include "../forecast/small_town.hpp"
#include "../forecast/small_town_readings.hpp"
#include "floodwarn/alerting/client.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"
#include "test_client_harness.hpp"
#include "test_stream_collector.hpp"
#include "test_support.hpp"

namespace floodwarn::testing {
namespace {

namespace fa = floodwarn::alerting;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

double Metric(int port, const std::string& name, const std::string& label = "") {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.find(label) == std::string::npos) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next == ' ' || next == '{') return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return 0;
}

// A serve set-up around the small town: the rule warns when the forecast
// depth at the underpass reaches 0.12 m within 30 min (the town's 24 mm/h
// of rain gives 0.09 m at the issue time, 0.15 m after 30 min).
class ForecastServe : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("floodwarn_forecast_serve");
    MakePki(dir_ + "/pki", {"officer"});
    town_ = WriteSmallTown(dir_);
    Write(dir_ + "/stations.toml", R"toml([[station]]
id = "river_q"
name = "Pegel Kleinstadt (Abfluss)"
kind = "discharge"
unit = "m3/s"
expected_interval = "5min"
location = { lat = 50.110, lon = 8.210 }

[[station]]
id = "rain"
name = "Regen Kleinstadt"
kind = "rainfall"
unit = "mm"
expected_interval = "5min"
location = { lat = 50.111, lon = 8.212 }
)toml");
    Write(dir_ + "/rules.toml", R"toml([engine]
mode = "actual"
escalation_after = "off"
outage_level = 2

[[areas]]
id = "town"
name = "Kleinstadt"
polygon = [[50.10, 8.20], [50.10, 8.23], [50.12, 8.23], [50.12, 8.20], [50.10, 8.20]]

[[rules]]
id = "underpass"
kind = "forecast_depth"
target = "underpass"
area = "town"
lead_time = "30m"
levels = [{ level = 2, rising = 0.12, falling = 0.06, label = "Wasser in der Unterführung" }]
)toml");
  }

  // Readings every 5 min over the last hour, as the live inputs store them.
  void StoreReadings() {
    ingest::ReadingStore store(dir_ + "/readings.db");
    const auto now =
        std::chrono::time_point_cast<ingest::TimePoint::duration>(std::chrono::system_clock::now());
    store.Write(SmallTownReadings(now - 60min, now));
  }

  void StartServe() {
    Write(dir_ + "/serve.toml",
          "rules_file = \"rules.toml\"\n\n"
          "[service]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n"
          "heartbeat_interval = \"500ms\"\ntick_interval = \"250ms\"\n\n"
          "[tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\n"
          "client_ca = \"pki/ca.pem\"\n\n"
          "[[auth.tokens]]\nprincipal = \"officer\"\nrole = \"subscriber\"\nsha256 = \"" +
              Sha256Hex(token_) +
              "\"\n\n[store]\npath = \"alerts.db\"\n\n"
              "[ingest]\nstations_file = \"stations.toml\"\nstore = \"readings.db\"\n\n"
              "[forecast]\nscenario = \"town.toml\"\nstate_dir = \"forecast\"\n"
              "interval = \"5m\"\nlead_time = \"30m\"\noutput_interval = \"5m\"\n"
              "analysis_lag = \"5m\"\nwarm_up = \"30m\"\ncheck_conservation = true\n"
              "rain_stations = [\"rain\"]\n"
              "[[forecast.inflow]]\nstation = \"river_q\"\nboundary = \"river\"\n"
              "[[forecast.point]]\nid = \"underpass\"\nx = " +
              std::to_string(town_.underpass_x) + "\ny = " + std::to_string(town_.underpass_y) +
              "\n");
    target_ = testing::StartServe(serve_, dir_ + "/serve.toml", 30s);
    const auto metrics = serve_->WaitForLine("metrics on http://", 10s);
    ASSERT_TRUE(metrics) << serve_->Output();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*metrics, m, std::regex(R"(:(\d+)/metrics)")));
    metrics_port_ = std::stoi(m[1].str());
    ASSERT_TRUE(serve_->WaitForLine("forecast every 300 s", 10s)) << serve_->Output();
    fa::ClientOptions opts;
    opts.target = target_;
    opts.ca_file = dir_ + "/pki/ca.pem";
    opts.cert_file = dir_ + "/pki/officer.pem";
    opts.key_file = dir_ + "/pki/officer.key";
    opts.token = token_;
    stream_ = std::make_unique<StreamCollector>(opts);
  }

  // GetForecast over mutual TLS with the officer's token.
  grpc::Status GetForecast(floodwarn::v1::Forecast* out) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(dir_ + "/pki/ca.pem");
    ssl.pem_cert_chain = ReadAll(dir_ + "/pki/officer.pem");
    ssl.pem_private_key = ReadAll(dir_ + "/pki/officer.key");
    auto stub = floodwarn::v1::AlertService::NewStub(
        grpc::CreateChannel(target_, grpc::SslCredentials(ssl)));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    return stub->GetForecast(&ctx, floodwarn::v1::GetForecastRequest(), out);
  }

  void StopServe() {
    stream_.reset();
    serve_->Signal(SIGTERM);
    EXPECT_EQ(serve_->Wait(30s), 0) << serve_->Output();
  }

  std::string dir_, target_;
  SmallTown town_;
  const std::string token_ = "forecast-officer-token-77a1";
  std::unique_ptr<ChildProcess> serve_;
  std::unique_ptr<StreamCollector> stream_;
  int metrics_port_ = 0;
};

TEST_F(ForecastServe, AForecastWarningWithItsOnsetReachesTheStream) {
  StoreReadings();
  StartServe();
  const auto raised = stream_->WaitFor(
      [](const fa::AlertEvent& e) {
        return e.kind == fa::EventKind::kRaised && e.alert.rule_id == "underpass";
      },
      120s);
  ASSERT_TRUE(raised) << "no forecast warning; serve output:\n" << serve_->Output();
  const fa::Alert& a = raised->alert;
  EXPECT_EQ(a.kind, fa::RuleKind::kForecastDepth);
  EXPECT_EQ(a.level, 2);
  EXPECT_GE(a.value, 0.12);
  // The onset lies ahead of the event, within the lead time (0.12 m is
  // reached 10-15 min after the issue time in this town).
  EXPECT_GT(a.onset, raised->at - 10min) << "onset before the issue time";
  EXPECT_LT(a.onset, raised->at + 30min);
  EXPECT_NE(raised->cap_xml.find("<onset>"), std::string::npos) << raised->cap_xml;
  EXPECT_NE(raised->cap_xml.find("<urgency>Expected</urgency>"), std::string::npos);
  EXPECT_NE(raised->cap_xml.find(" min"), std::string::npos) << "no lead time in the texts";
  // No forecast outage, one warning.
  for (const auto& e : stream_->Events())
    EXPECT_NE(e.alert.kind, fa::RuleKind::kForecastOutage) << e.alert.reason;
  EXPECT_GE(Metric(metrics_port_, "floodwarn_forecast_cycles_total", "status=\"ok\""), 1.0);
  EXPECT_EQ(Metric(metrics_port_, "floodwarn_forecast_available"), 1.0);
  EXPECT_GT(Metric(metrics_port_, "floodwarn_forecast_lead_time_reached_seconds"), 1799.0);
  // The cycle's folder holds what a hydrologist reruns and reads.
  bool netcdf = false;
  for (const auto& c : fs::directory_iterator(dir_ + "/forecast/cycles"))
    netcdf |= fs::exists(c.path() / "forecast.nc") && fs::exists(c.path() / "cycle.json");
  EXPECT_TRUE(netcdf);
  // The API gives the cycle, its status and the point series.
  floodwarn::v1::Forecast f;
  const grpc::Status s = GetForecast(&f);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(f.status(), "ok");
  EXPECT_FALSE(f.cycle_id().empty());
  EXPECT_GE(f.lead_time_reached_s(), 1799.0);
  ASSERT_EQ(f.points_size(), 1);
  EXPECT_EQ(f.points(0).id(), "underpass");
  ASSERT_EQ(f.points(0).times_size(), f.points(0).depth_m_size());
  ASSERT_EQ(f.points(0).depth_m_size(), 7);  // issue time + 6 x 5 min
  double peak = 0;
  for (double d : f.points(0).depth_m()) peak = std::max(peak, d);
  EXPECT_NEAR(peak, a.value, 1e-12) << "the warning's depth is the series' peak";
  StopServe();
}

TEST_F(ForecastServe, ACycleWithoutForcingIsAForecastOutageNotSilence) {
  // No readings at all: the river gauge and the rain gauge are silent.
  StartServe();
  const auto outage = stream_->WaitFor(
      [](const fa::AlertEvent& e) {
        return e.kind == fa::EventKind::kRaised && e.alert.kind == fa::RuleKind::kForecastOutage;
      },
      60s);
  ASSERT_TRUE(outage) << "no forecast outage; serve output:\n" << serve_->Output();
  EXPECT_NE(outage->alert.reason.find("river_q"), std::string::npos) << outage->alert.reason;
  EXPECT_NE(outage->cap_xml.find("<category>Infra</category>"), std::string::npos);
  EXPECT_EQ(Metric(metrics_port_, "floodwarn_forecast_available"), 0.0);
  EXPECT_GE(Metric(metrics_port_, "floodwarn_forecast_cycles_total", "status=\"no_forcing\""), 1.0);
  for (const auto& e : stream_->Events())
    EXPECT_NE(e.alert.rule_id, "underpass") << "a forecast rule fired without a forecast";
  floodwarn::v1::Forecast f;
  ASSERT_TRUE(GetForecast(&f).ok());
  EXPECT_EQ(f.status(), "no_forcing");
  EXPECT_NE(f.reason().find("river_q"), std::string::npos) << f.reason();
  EXPECT_EQ(f.points_size(), 0);
  StopServe();
}

}  // namespace
}  // namespace floodwarn::testing
