// The Prometheus /metrics endpoint and the registry every component of the
// process registers its metrics on (service.hpp).
#include <fmt/format.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

#include "floodwarn/alerting/service.hpp"
#include "service_util.hpp"

namespace floodwarn::alerting {

using service_internal::WithPort;

std::shared_ptr<prometheus::Registry> MakeMetricsRegistry() {
  return std::make_shared<prometheus::Registry>();
}

struct MetricsEndpoint::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
};

MetricsEndpoint::MetricsEndpoint(const std::string& address,
                                 std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>()) {
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("metrics endpoint {}: cannot listen there ({})", address, e.what()));
  }
  impl_->exposer->RegisterCollectable(registry);
  spdlog::info("metrics endpoint started url=http://{}/metrics", WithPort(address, port()));
}

MetricsEndpoint::~MetricsEndpoint() = default;

int MetricsEndpoint::port() const {
  const auto ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace floodwarn::alerting
