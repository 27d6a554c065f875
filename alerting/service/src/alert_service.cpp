// The AlertService calls (alert_service.hpp).
#include "alert_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "floodwarn/alerting/grpc_code_name.hpp"
#include "floodwarn/alerting/proto_convert.hpp"
#include "floodwarn/common/time.hpp"
#include "request_checks.hpp"
#include "subscribe_stream.hpp"

namespace floodwarn::alerting {

using common::Now;
using service_internal::CheckFilter;
using service_internal::CheckId;
using service_internal::CheckText;
using service_internal::Invalid;
using service_internal::kMaxLongText;
using service_internal::kMaxShortText;
using service_internal::Stream;
using service_internal::SubscribeReactor;
using service_internal::ToStatus;

template <typename Body>
grpc::ServerUnaryReactor* AlertServiceImpl::Unary(grpc::CallbackServerContext* ctx,
                                                  const char* method, Role required, Body&& body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  Principal p;
  grpc::Status st = Authorize(*ctx, method, required, &p);
  if (st.ok()) {
    try {
      st = body(p);
    } catch (const std::exception& e) {
      spdlog::error("call failed method={} principal={} error=\"{}\"", method, p.name, e.what());
      st = {grpc::StatusCode::INTERNAL, "internal error (logged on the server)"};
    }
    if (required >= Role::kOperator)
      spdlog::info("operator call method={} principal={} code={}", method, p.name,
                   GrpcCodeName(st.error_code()));
  }
  metrics_->Request(method, GrpcCodeName(st.error_code()));
  reactor->Finish(st);
  return reactor;
}

template <typename T, typename Msg>
grpc::Status AlertServiceImpl::Reply(const Result<T>& r, Msg* out) {
  if (!r.ok()) return ToStatus(r.error);
  convert::ToProto(*r.value, out);
  return grpc::Status::OK;
}

AlertServiceImpl::AlertServiceImpl(const ServiceConfig& cfg, AlertEngine& engine, AlertStore& store,
                                   std::shared_ptr<EventHub> hub,
                                   std::shared_ptr<ServiceMetrics> metrics)
    : cfg_(cfg),
      engine_(engine),
      store_(store),
      hub_(std::move(hub)),
      metrics_(std::move(metrics)),
      auth_(cfg.tokens) {}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AlertServiceImpl::Subscribe(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* raw) {
  Principal p;
  grpc::Status st = Authorize(*ctx, "Subscribe", Role::kSubscriber, &p);
  v1::SubscribeRequest parsed;
  const v1::SubscribeRequest* req = &parsed;
  if (st.ok()) {
    grpc::ByteBuffer copy(*raw);  // Deserialize consumes its buffer
    if (!grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&copy, &parsed).ok())
      st = Invalid("SubscribeRequest is not a valid floodwarn.v1.SubscribeRequest message");
  }
  if (st.ok()) st = CheckFilter(req->filter());
  if (st.ok() && stopping_) st = {grpc::StatusCode::UNAVAILABLE, "server is shutting down"};
  if (st.ok() && hub_->subscriber_count() >= cfg_.max_subscribers) {
    st = {grpc::StatusCode::RESOURCE_EXHAUSTED,
          fmt::format("too many subscribers (max_subscribers = {})", cfg_.max_subscribers)};
    spdlog::warn("subscriber refused principal={} reason=max_subscribers limit={}", p.name,
                 cfg_.max_subscribers);
  }
  metrics_->Request("Subscribe", GrpcCodeName(st.error_code()));
  if (!st.ok()) return SubscribeReactor::Refuse(st);

  StreamFilter filter;
  filter.area_ids.insert(req->filter().area_ids().begin(), req->filter().area_ids().end());
  filter.station_ids.insert(req->filter().station_ids().begin(), req->filter().station_ids().end());
  filter.min_level = req->filter().min_level();
  auto stream = std::make_shared<Stream>(
      *hub_, cfg_, p.name, req->from_sequence(), std::move(filter), req->max_batch(),
      req->omit_cap_xml() ? EventForm::kWithoutCap : EventForm::kFull);
  const std::uint64_t last = std::max(store_.LastSequence(), hub_->last_sequence());
  if (req->from_sequence() > last)
    stream->RequestReset(
        v1::RESET_REASON_AHEAD,
        fmt::format("from_sequence {} is beyond the newest committed event {}: this cursor "
                    "belongs to another database; re-list with ListActive",
                    req->from_sequence(), last));
  auto* reactor = new SubscribeReactor(stream, hub_);
  stream->Attach(reactor, ctx);
  hub_->Add(stream);
  spdlog::info("subscriber connected principal={} from_sequence={} peer={} open={}", p.name,
               req->from_sequence(), ctx->peer(), hub_->subscriber_count());
  stream->Pump();
  return reactor;
}

grpc::ServerUnaryReactor* AlertServiceImpl::ListActive(grpc::CallbackServerContext* ctx,
                                                       const v1::ListActiveRequest* req,
                                                       v1::ListActiveResponse* resp) {
  return Unary(ctx, "ListActive", Role::kSubscriber, [&](const Principal&) {
    if (auto s = CheckFilter(req->filter()); !s.ok()) return s;
    const AlertFilter filter = convert::FromProto(req->filter());
    // Consistent with a sequence: no commit between the two reads (the
    // engine updates its state under its mutex before it releases it).
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::uint64_t before = store_.LastSequence();
      std::vector<Alert> alerts = engine_.ListActive(filter);
      if (store_.LastSequence() != before) continue;
      resp->Clear();
      for (const Alert& a : alerts) convert::ToProto(a, resp->add_alerts());
      resp->set_sequence(before);
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "alerts changed during every listing attempt; retry");
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::GetForecast(grpc::CallbackServerContext* ctx,
                                                        const v1::GetForecastRequest* /*req*/,
                                                        v1::Forecast* resp) {
  return Unary(ctx, "GetForecast", Role::kSubscriber, [&](const Principal&) {
    ForecastViewSource source;
    {
      std::lock_guard<std::mutex> lock(forecast_mu_);
      source = forecast_source_;
    }
    const std::optional<ForecastView> f = source ? source() : std::nullopt;
    if (!f)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          source ? "no forecast cycle yet" : "this service runs no forecast");
    resp->set_cycle_id(f->cycle_id);
    resp->set_status(f->status);
    resp->set_reason(f->reason);
    convert::ToProto(f->issued, resp->mutable_issued());
    resp->set_duration_s(f->duration_s);
    resp->set_lead_time_reached_s(f->lead_time_reached_s);
    for (const auto* group : {&f->points, &f->zones}) {
      for (const ForecastView::Series& s : *group) {
        v1::ForecastSeries* out = group == &f->points ? resp->add_points() : resp->add_zones();
        out->set_id(s.id);
        for (TimePoint t : s.times) convert::ToProto(t, out->add_times());
        for (double d : s.depth_m) out->add_depth_m(d);
      }
    }
    for (const ForecastView::Zone& z : f->zone_table) {
      v1::ForecastZone* out = resp->add_zone_table();
      out->set_id(z.id);
      out->set_area_m2(z.area_m2);
      out->set_max_depth_m(z.max_depth_m);
      for (double d : z.depths_m) out->add_depths_m(d);
      for (double a : z.max_area_above_m2) out->add_max_area_above_m2(a);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::ListRuleStates(grpc::CallbackServerContext* ctx,
                                                           const v1::ListRuleStatesRequest* /*req*/,
                                                           v1::ListRuleStatesResponse* resp) {
  return Unary(ctx, "ListRuleStates", Role::kSubscriber, [&](const Principal&) {
    for (const AlertEngine::SubjectStatus& s : engine_.Status()) {
      v1::RuleState* r = resp->add_states();
      r->set_rule_id(s.rule_id);
      r->set_subject(s.subject);
      r->set_kind(convert::ToProto(s.kind));
      r->set_condition(convert::ToProto(s.condition));
      r->set_level(s.level);
      r->set_reason(s.reason);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::GetAlert(grpc::CallbackServerContext* ctx,
                                                     const v1::GetAlertRequest* req,
                                                     v1::Alert* resp) {
  return Unary(ctx, "GetAlert", Role::kSubscriber, [&](const Principal&) {
    if (auto s = CheckId("alert_id", req->alert_id()); !s.ok()) return s;
    std::optional<Alert> a = engine_.GetAlert(req->alert_id());
    if (!a) a = store_.GetAlert(req->alert_id());  // resolved alerts
    if (!a)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          fmt::format("no alert with id '{}'", req->alert_id()));
    convert::ToProto(*a, resp);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::ListSilences(grpc::CallbackServerContext* ctx,
                                                         const v1::ListSilencesRequest*,
                                                         v1::ListSilencesResponse* resp) {
  return Unary(ctx, "ListSilences", Role::kSubscriber, [&](const Principal&) {
    for (const auto& s : engine_.ListSilences()) convert::ToProto(s, resp->add_silences());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::Acknowledge(grpc::CallbackServerContext* ctx,
                                                        const v1::AcknowledgeRequest* req,
                                                        v1::Alert* resp) {
  return Unary(ctx, "Acknowledge", Role::kOperator, [&](const Principal& p) {
    if (auto s = CheckId("alert_id", req->alert_id()); !s.ok()) return s;
    if (auto s = CheckText("note", req->note(), kMaxShortText); !s.ok()) return s;
    return Reply(engine_.Acknowledge(req->alert_id(), p.name, req->note()), resp);
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::Silence(grpc::CallbackServerContext* ctx,
                                                    const v1::SilenceRequest* req,
                                                    v1::Silence* resp) {
  return Unary(ctx, "Silence", Role::kOperator, [&](const Principal& p) {
    const int set = !req->alert_id().empty() + !req->station_id().empty() + !req->rule_id().empty();
    if (set != 1) return Invalid("exactly one of alert_id, station_id, rule_id must be set");
    if (auto s = CheckId("alert_id", req->alert_id(), false); !s.ok()) return s;
    if (auto s = CheckId("station_id", req->station_id(), false); !s.ok()) return s;
    if (auto s = CheckId("rule_id", req->rule_id(), false); !s.ok()) return s;
    if (req->reason().empty()) return Invalid("reason is required");
    if (auto s = CheckText("reason", req->reason(), kMaxShortText); !s.ok()) return s;
    if (!req->has_expires()) return Invalid("expires is required");
    const SilenceRequest r = convert::FromProto(*req);
    if (r.expires <= Now()) return Invalid("expires must be in the future");
    return Reply(engine_.AddSilence(r, p.name), resp);
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::ApproveSilence(grpc::CallbackServerContext* ctx,
                                                           const v1::ApproveSilenceRequest* req,
                                                           v1::Silence* resp) {
  return Unary(ctx, "ApproveSilence", Role::kOperator, [&](const Principal& p) {
    if (auto s = CheckId("silence_id", req->silence_id()); !s.ok()) return s;
    return Reply(engine_.ApproveSilence(req->silence_id(), p.name), resp);
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::Unsilence(grpc::CallbackServerContext* ctx,
                                                      const v1::UnsilenceRequest* req,
                                                      v1::Silence* resp) {
  return Unary(ctx, "Unsilence", Role::kOperator, [&](const Principal& p) {
    if (auto s = CheckId("silence_id", req->silence_id()); !s.ok()) return s;
    return Reply(engine_.RemoveSilence(req->silence_id(), p.name), resp);
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::IssueManual(grpc::CallbackServerContext* ctx,
                                                        const v1::IssueManualRequest* req,
                                                        v1::Alert* resp) {
  return Unary(ctx, "IssueManual", Role::kOperator, [&](const Principal& p) {
    if (req->subject().empty()) return Invalid("subject is required");
    if (auto s = CheckText("subject", req->subject(), kMaxShortText); !s.ok()) return s;
    if (req->level() < 1 || req->level() > 4)
      return Invalid(fmt::format("level {} is out of range 1..4", req->level()));
    if (auto s = CheckId("area_id", req->area_id()); !s.ok()) return s;
    for (const auto& [name, text, max] :
         {std::tuple{"headline_de", &req->headline_de(), kMaxShortText},
          std::tuple{"headline_en", &req->headline_en(), kMaxShortText},
          std::tuple{"description_de", &req->description_de(), kMaxLongText},
          std::tuple{"description_en", &req->description_en(), kMaxLongText},
          std::tuple{"instruction_de", &req->instruction_de(), kMaxLongText},
          std::tuple{"instruction_en", &req->instruction_en(), kMaxLongText}})
      if (auto s = CheckText(name, *text, max); !s.ok()) return s;
    // UNSPECIFIED is Actual; a value this build does not know is refused.
    if (!v1::Mode_IsValid(req->mode()))
      return Invalid(fmt::format("mode {} is not a known Mode", req->mode()));
    return Reply(engine_.IssueManual(convert::FromProto(*req), p.name), resp);
  });
}

grpc::ServerUnaryReactor* AlertServiceImpl::ResolveManual(grpc::CallbackServerContext* ctx,
                                                          const v1::ResolveManualRequest* req,
                                                          v1::Alert* resp) {
  return Unary(ctx, "ResolveManual", Role::kOperator, [&](const Principal& p) {
    if (auto s = CheckId("alert_id", req->alert_id()); !s.ok()) return s;
    if (auto s = CheckText("note", req->note(), kMaxShortText); !s.ok()) return s;
    return Reply(engine_.ResolveManual(req->alert_id(), p.name, req->note()), resp);
  });
}

grpc::Status AlertServiceImpl::Authorize(const grpc::CallbackServerContext& ctx, const char* method,
                                         Role required, Principal* p) {
  std::string failure;
  grpc::Status st = auth_.Check(ctx, required, p, &failure);
  if (!st.ok()) {
    metrics_->AuthFailure(failure);
    spdlog::warn("call refused method={} reason={} principal={} peer={}", method, failure,
                 p->name.empty() ? "-" : p->name, ctx.peer());
    if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      // An authenticated principal tried more than its role allows: audit it.
      Changeset c;
      AuditEntry e;
      e.at = Now();
      e.actor = p->name;
      e.action = "permission-denied";
      e.detail = fmt::format("method={} role={} peer={}", method, ToString(p->role), ctx.peer());
      c.audit.push_back(std::move(e));
      const auto r = store_.Apply(c);
      if (!r.ok()) spdlog::error("audit write failed error={}", r.error.message);
    }
  }
  return st;
}

}  // namespace floodwarn::alerting
