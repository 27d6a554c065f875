// Private to floodwarn::alerting_service: the floodwarn.v1.AlertService
// implementation, a thin adapter (STYLE.md): check the request, authorise
// the caller, convert proto -> domain (proto_convert.hpp), call the gRPC-free
// AlertEngine, map its ErrorCode onto a grpc::Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>

#include "auth.hpp"
#include "event_hub.hpp"
#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"
#include "metrics.hpp"

namespace floodwarn::alerting {

// Subscribe is registered raw (ByteBuffer in and out, see SubscribeReactor);
// every other method is typed.
class AlertServiceImpl final
    : public v1::AlertService::WithRawCallbackMethod_Subscribe<v1::AlertService::CallbackService> {
 public:
  AlertServiceImpl(const ServiceConfig& cfg, AlertEngine& engine, AlertStore& store,
                   std::shared_ptr<EventHub> hub, std::shared_ptr<ServiceMetrics> metrics);

  void StopAccepting() { stopping_ = true; }
  void SetForecastSource(ForecastViewSource source) {
    std::lock_guard<std::mutex> lock(forecast_mu_);
    forecast_source_ = std::move(source);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* raw) override;

  grpc::ServerUnaryReactor* ListActive(grpc::CallbackServerContext* ctx,
                                       const v1::ListActiveRequest* req,
                                       v1::ListActiveResponse* resp) override;

  grpc::ServerUnaryReactor* GetForecast(grpc::CallbackServerContext* ctx,
                                        const v1::GetForecastRequest* req,
                                        v1::Forecast* resp) override;
  grpc::ServerUnaryReactor* ListRuleStates(grpc::CallbackServerContext* ctx,
                                           const v1::ListRuleStatesRequest* req,
                                           v1::ListRuleStatesResponse* resp) override;
  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* ctx,
                                     const v1::GetAlertRequest* req, v1::Alert* resp) override;

  grpc::ServerUnaryReactor* ListSilences(grpc::CallbackServerContext* ctx,
                                         const v1::ListSilencesRequest*,
                                         v1::ListSilencesResponse* resp) override;

  grpc::ServerUnaryReactor* Acknowledge(grpc::CallbackServerContext* ctx,
                                        const v1::AcknowledgeRequest* req,
                                        v1::Alert* resp) override;

  grpc::ServerUnaryReactor* Silence(grpc::CallbackServerContext* ctx, const v1::SilenceRequest* req,
                                    v1::Silence* resp) override;

  grpc::ServerUnaryReactor* ApproveSilence(grpc::CallbackServerContext* ctx,
                                           const v1::ApproveSilenceRequest* req,
                                           v1::Silence* resp) override;

  grpc::ServerUnaryReactor* Unsilence(grpc::CallbackServerContext* ctx,
                                      const v1::UnsilenceRequest* req, v1::Silence* resp) override;

  grpc::ServerUnaryReactor* IssueManual(grpc::CallbackServerContext* ctx,
                                        const v1::IssueManualRequest* req,
                                        v1::Alert* resp) override;

  grpc::ServerUnaryReactor* ResolveManual(grpc::CallbackServerContext* ctx,
                                          const v1::ResolveManualRequest* req,
                                          v1::Alert* resp) override;

 private:
  grpc::Status Authorize(const grpc::CallbackServerContext& ctx, const char* method, Role required,
                         Principal* p);

  // One unary call: authorise, run `body`, log and count the outcome. Defined
  // with Reply in alert_service.cpp, their only user.
  template <typename Body>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method,
                                  Role required, Body&& body);

  template <typename T, typename Msg>
  static grpc::Status Reply(const Result<T>& r, Msg* out);

  const ServiceConfig& cfg_;
  AlertEngine& engine_;
  AlertStore& store_;
  std::shared_ptr<EventHub> hub_;
  std::shared_ptr<ServiceMetrics> metrics_;
  Authenticator auth_;
  std::atomic<bool> stopping_{false};
  std::mutex forecast_mu_;
  ForecastViewSource forecast_source_;
};

}  // namespace floodwarn::alerting
