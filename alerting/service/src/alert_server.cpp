// The running gRPC server (service.hpp, AlertServer): TLS, the AlertService,
// health and reflection, keepalive, the heartbeat/stall timer of the streams,
// and an orderly shutdown.
#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "alert_service.hpp"
#include "event_hub.hpp"
#include "floodwarn/alerting/service.hpp"
#include "metrics.hpp"
#include "service_util.hpp"

namespace floodwarn::alerting {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr char kServiceName[] = "floodwarn.v1.AlertService";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

using service_internal::WithPort;

struct AlertServer::Impl {
  ServiceConfig cfg;
  AlertEngine& engine;
  std::shared_ptr<ServiceMetrics> metrics;
  std::shared_ptr<EventHub> hub;
  std::unique_ptr<AlertServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::thread timer;
  std::mutex timer_mu;
  std::condition_variable timer_cv;
  bool stop = false;
  bool shut_down = false;

  Impl(const ServiceConfig& c, AlertEngine& e) : cfg(c), engine(e) {}

  void TimerLoop() {
    const Duration step =
        std::max<Duration>(std::chrono::milliseconds(25), cfg.heartbeat_interval / 4);
    auto next_gauges = SteadyClock::now();
    std::unique_lock<std::mutex> lock(timer_mu);
    while (!stop) {
      timer_cv.wait_for(lock, step, [this] { return stop; });
      if (stop) break;
      lock.unlock();
      for (const auto& s : hub->Subscribers()) s->OnTimer();
      if (SteadyClock::now() >= next_gauges) {
        next_gauges = SteadyClock::now() + std::chrono::seconds(5);
        try {
          metrics->SetAlerts(engine.ListActive(AlertFilter{}));
        } catch (const std::exception& ex) {
          spdlog::error("alert gauges not updated error=\"{}\"", ex.what());
        }
      }
      lock.lock();
    }
  }
};

AlertServer::AlertServer(const ServiceConfig& config, AlertEngine& engine, AlertStore& store,
                         prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(config, engine)) {
  Impl& m = *impl_;
  m.metrics = std::make_shared<ServiceMetrics>(registry);
  m.hub = std::make_shared<EventHub>(store, config.event_buffer, m.metrics, config.fanout_threads);
  std::weak_ptr<EventHub> weak_hub = m.hub;
  engine.AddCommitListener([weak_hub](const std::vector<AlertEvent>& events) {
    if (auto hub = weak_hub.lock()) hub->Publish(events);
  });
  m.service = std::make_unique<AlertServiceImpl>(m.cfg, engine, store, m.hub, m.metrics);

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (config.insecure) {
    spdlog::critical("**************************************************************");
    spdlog::critical("INSECURE MODE: plaintext gRPC on {} (service.insecure = true in {})",
                     config.listen, config.source_path);
    spdlog::critical("No TLS: tokens and alerts cross the network unencrypted. Use only for");
    spdlog::critical("local development; production needs [tls] with client certificates.");
    spdlog::critical("**************************************************************");
    creds = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions opts(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    opts.pem_root_certs = ReadFile(config.tls_client_ca);
    opts.pem_key_cert_pairs.push_back({ReadFile(config.tls_key), ReadFile(config.tls_cert)});
    creds = grpc::SslServerCredentials(opts);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, creds, &m.port);
  builder.RegisterService(m.service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  // Dead peers on idle streams: the server pings every 60 s; clients may
  // ping (keepalive) every 10 s or more, also without active calls.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  m.server = builder.BuildAndStart();
  if (m.server == nullptr || m.port == 0)
    throw std::runtime_error(fmt::format("{}: service.listen = \"{}\": cannot listen there",
                                         config.source_path, config.listen));
  if (auto* health = m.server->GetHealthCheckService()) {
    health->SetServingStatus(kServiceName, true);
    health->SetServingStatus(true);
  }
  m.timer = std::thread([&m] { m.TimerLoop(); });
  spdlog::info("alert service started address={} tls={} tokens={} heartbeat_ms={}", address(),
               config.insecure ? "off" : "mutual", config.tokens.size(),
               config.heartbeat_interval.count());
}

AlertServer::~AlertServer() { Shutdown(); }

std::string AlertServer::address() const { return WithPort(impl_->cfg.listen, impl_->port); }
int AlertServer::port() const { return impl_->port; }
void AlertServer::SetForecastSource(ForecastViewSource source) {
  impl_->service->SetForecastSource(std::move(source));
}

std::size_t AlertServer::subscriber_count() const { return impl_->hub->subscriber_count(); }

void AlertServer::Shutdown() {
  Impl& m = *impl_;
  if (m.shut_down) return;
  m.shut_down = true;
  if (auto* health = m.server->GetHealthCheckService()) {
    health->SetServingStatus(kServiceName, false);
    health->SetServingStatus(false);
  }
  m.service->StopAccepting();
  {
    std::lock_guard<std::mutex> lock(m.timer_mu);
    m.stop = true;
  }
  m.timer_cv.notify_all();
  if (m.timer.joinable()) m.timer.join();
  const auto open_streams = m.hub->Subscribers();
  const std::size_t open = open_streams.size();
  for (const auto& s : open_streams) {
    s->Close();
    m.metrics->SubscriberDropped("shutdown");
  }
  // Streams are closed above; unary calls in progress get 2 s to finish,
  // then they are cancelled. Waits for every callback to complete.
  m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  m.server->Wait();
  m.hub->Stop();
  spdlog::info("alert service stopped address={} streams_closed={}", address(), open);
}

}  // namespace floodwarn::alerting
