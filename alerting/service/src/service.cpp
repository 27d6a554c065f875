// The gRPC AlertService: a thin adapter (proto -> domain, call AlertEngine,
// map ErrorCode -> grpc::Status), callback API, no thread per subscriber.
#include "floodwarn/alerting/service.hpp"

#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "auth.hpp"
#include "event_hub.hpp"
#include "floodwarn/alerting/grpc_code_name.hpp"
#include "floodwarn/alerting/proto_convert.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"
#include "metrics.hpp"

namespace floodwarn::alerting {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr char kServiceName[] = "floodwarn.v1.AlertService";
constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxShortText = 1024;
constexpr std::size_t kMaxLongText = 8192;
constexpr std::size_t kMaxFilterIds = 256;
constexpr std::size_t kCatchUpPage = 128;
// SubscribeRequest.max_batch is capped at this many events and a batch stops
// growing once it holds this many bytes (alerts with their CAP XML are ~5 kB).
constexpr std::uint32_t kMaxBatchEvents = 256;
constexpr std::size_t kMaxBatchBytes = 1 << 20;

TimePoint Now() { return std::chrono::time_point_cast<Duration>(Clock::now()); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

grpc::Status ToStatus(const Error& e) {
  switch (e.code) {
    case ErrorCode::kOk:
      return grpc::Status::OK;
    case ErrorCode::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, e.message};
    case ErrorCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, e.message};
    case ErrorCode::kAlreadyExists:
      return {grpc::StatusCode::ALREADY_EXISTS, e.message};
    case ErrorCode::kFailedPrecondition:
      return {grpc::StatusCode::FAILED_PRECONDITION, e.message};
    case ErrorCode::kPermissionDenied:
      return {grpc::StatusCode::PERMISSION_DENIED, e.message};
    case ErrorCode::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, e.message};
    case ErrorCode::kInternal:
      return {grpc::StatusCode::INTERNAL, e.message};
  }
  return {grpc::StatusCode::INTERNAL, e.message};
}

grpc::Status Invalid(const std::string& what) { return {grpc::StatusCode::INVALID_ARGUMENT, what}; }

// Ids: 1..128 bytes of [A-Za-z0-9._:-].
grpc::Status CheckId(const std::string& field, const std::string& v, bool required = true) {
  if (v.empty()) return required ? Invalid(field + " is required") : grpc::Status::OK;
  if (v.size() > kMaxIdBytes)
    return Invalid(fmt::format("{} is longer than {} bytes", field, kMaxIdBytes));
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok) return Invalid(field + " may contain only A-Z a-z 0-9 . _ : -");
  }
  return grpc::Status::OK;
}

grpc::Status CheckText(const std::string& field, const std::string& v, std::size_t max) {
  if (v.size() > max) return Invalid(fmt::format("{} is longer than {} bytes", field, max));
  return grpc::Status::OK;
}

grpc::Status CheckFilter(const v1::AlertFilter& f) {
  if (f.area_ids_size() > static_cast<int>(kMaxFilterIds) ||
      f.station_ids_size() > static_cast<int>(kMaxFilterIds))
    return Invalid(fmt::format("filter: at most {} area ids and {} station ids", kMaxFilterIds,
                               kMaxFilterIds));
  for (const auto& a : f.area_ids())
    if (auto s = CheckId("filter.area_ids", a); !s.ok()) return s;
  for (const auto& a : f.station_ids())
    if (auto s = CheckId("filter.station_ids", a); !s.ok()) return s;
  if (f.min_level() < 0 || f.min_level() > 4)
    return Invalid(fmt::format("filter.min_level {} is out of range 0..4", f.min_level()));
  return grpc::Status::OK;
}

// "127.0.0.1:0" + 43125 -> "127.0.0.1:43125".
std::string WithPort(const std::string& listen, int port) {
  return listen.substr(0, listen.rfind(':') + 1) + std::to_string(port);
}

class SubscribeReactor;

// The state of one Subscribe stream, shared by the gRPC reactor (owned by
// gRPC until OnDone) and the hub (which may hold it a little longer).
//
// Invariants, all under mu_:
//  - at most one write in flight (writing_);
//  - Finish() is called exactly once, and only when no write is in flight and
//    no other thread is about to use the reactor or context (pins_ == 0), so
//    OnDone (which deletes the reactor) can never race a StartWrite or a
//    TryCancel; reactor_ is nulled in OnDone and checked before every use.
class Stream : public HubSubscriber, public std::enable_shared_from_this<Stream> {
 public:
  Stream(EventHub& hub, const ServiceConfig& cfg, std::string principal, std::uint64_t cursor,
         StreamFilter filter, std::uint32_t max_batch, EventForm form)
      : hub_(hub),
        heartbeat_(cfg.heartbeat_interval),
        stall_timeout_(cfg.stall_timeout),
        principal_(std::move(principal)),
        max_batch_(std::clamp<std::uint32_t>(max_batch, 1, kMaxBatchEvents)),
        form_(form),
        cursor_(cursor),
        filter_(std::move(filter)),
        last_activity_(SteadyClock::now()) {}

  void Attach(SubscribeReactor* reactor, grpc::CallbackServerContext* ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    reactor_ = reactor;
    ctx_ = ctx;
  }

  void RequestReset(v1::ResetReason reason, std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    reset_reason_ = reason;
    reset_message_ = std::move(message);
  }

  void OnNewEvents() override { Pump(); }

  // Server shutdown: end the stream with UNAVAILABLE (the client resumes
  // elsewhere or later); a write stuck on a slow client is cancelled.
  void Close() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (reactor_ == nullptr || finished_) return;
    cancelled_ = true;
    const grpc::Status status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    if (writing_) {
      grpc::CallbackServerContext* ctx = ctx_;
      ++pins_;
      lock.unlock();
      ctx->TryCancel();
      lock.lock();
      --pins_;
    }
    MaybeFinishLocked(lock, status);
  }

  void OnTimer() override {
    std::unique_lock<std::mutex> lock(mu_);
    hub_.metrics().FlushDeliveryLag(lags_);
    if (reactor_ == nullptr || finished_ || cancelled_) return;
    const auto now = SteadyClock::now();
    if (writing_) {
      if (now - write_started_ > stall_timeout_ && !cancel_requested_) {
        cancel_requested_ = true;
        grpc::CallbackServerContext* ctx = ctx_;
        ++pins_;
        lock.unlock();
        spdlog::warn("subscriber stalled principal={} cursor={} action=disconnect", principal_,
                     cursor_);
        hub_.metrics().SubscriberDropped("stalled");
        ctx->TryCancel();
        lock.lock();
        --pins_;
        MaybeFinishLocked(lock, {grpc::StatusCode::CANCELLED, "subscriber stalled"});
      }
      return;
    }
    if (now - last_activity_ < heartbeat_) return;
    const grpc::ByteBuffer* msg = NextLocked();
    if (msg == nullptr) {
      v1::StreamEvent heartbeat;
      heartbeat.set_sequence(cursor_);
      v1::Heartbeat* hb = heartbeat.mutable_heartbeat();
      hb->set_sequence(cursor_);
      hb->set_last_committed_sequence(std::max(hub_.last_sequence(), cursor_));
      convert::ToProto(Now(), hb->mutable_server_time());
      Serialize(heartbeat, &control_);
      current_.clear();
      current_type_ = StreamMessageType::kHeartbeat;
      msg = &control_;
    }
    StartWriteLocked(lock, msg);
  }

  void Pump() {
    std::unique_lock<std::mutex> lock(mu_);
    if (reactor_ == nullptr || writing_ || finished_ || cancelled_) return;
    const grpc::ByteBuffer* msg = NextLocked();
    if (msg != nullptr) StartWriteLocked(lock, msg);
  }

  void OnWriteDone(bool ok) {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    last_activity_ = SteadyClock::now();
    if (ok) {
      hub_.metrics().StreamMessage(current_type_);
      const TimePoint now = Now();
      for (const EntryPtr& e : current_)
        hub_.metrics().DeliveryLag(lags_, std::chrono::duration<double>(now - e->event.at).count());
    } else {
      cancelled_ = true;  // the client went away
    }
    current_.clear();
    if (cancelled_) {
      MaybeFinishLocked(lock, {grpc::StatusCode::CANCELLED, "stream cancelled"});
      return;
    }
    const grpc::ByteBuffer* msg = NextLocked();
    if (msg != nullptr) StartWriteLocked(lock, msg);
  }

  void OnCancel() {
    std::unique_lock<std::mutex> lock(mu_);
    cancelled_ = true;
    MaybeFinishLocked(lock, {grpc::StatusCode::CANCELLED, "stream cancelled"});
  }

  void OnDone() {
    std::lock_guard<std::mutex> lock(mu_);
    hub_.metrics().FlushDeliveryLag(lags_);
    reactor_ = nullptr;
    ctx_ = nullptr;
  }

  const std::string& principal() const { return principal_; }

 private:
  // The next message to write, or nullptr (idle). Sets current_ (the events
  // it carries) and control_/batch_.
  const grpc::ByteBuffer* NextLocked() {
    current_.clear();
    if (reset_reason_ != v1::RESET_REASON_UNSPECIFIED) return TakeResetLocked();
    EntryPtr e = NextEventLocked();
    if (e == nullptr)
      return reset_reason_ != v1::RESET_REASON_UNSPECIFIED ? TakeResetLocked() : nullptr;
    current_type_ = StreamMessageType::kEvent;
    current_.push_back(std::move(e));
    // More events ready (a burst, or this stream is behind): up to max_batch
    // of them in one message. Never waits for an event; a reset found on
    // the way is sent after the batch.
    std::size_t bytes = current_.back()->Slice(form_).size();
    while (current_.size() < max_batch_ && bytes < kMaxBatchBytes) {
      EntryPtr more = NextEventLocked();
      if (more == nullptr) break;
      bytes += more->Slice(form_).size();
      current_.push_back(std::move(more));
    }
    if (current_.size() == 1) return &current_.front()->Bytes(form_);
    current_type_ = StreamMessageType::kBatch;
    SerializeBatch(current_, form_, &batch_);
    return &batch_;
  }

  // The next matching event after cursor_ (advancing it), or nullptr: idle,
  // or the events needed are gone (reset_reason_ is then set).
  EntryPtr NextEventLocked() {
    while (!page_.empty()) {
      EntryPtr e = std::move(page_.front());
      page_.pop_front();
      if (e->event.sequence <= cursor_) continue;
      cursor_ = e->event.sequence;
      if (filter_.Matches(e->event)) return e;
    }
    for (int round = 0; round < 1000; ++round) {  // bounded: each round advances the cursor
      EntryPtr e;
      switch (hub_.NextAfter(&cursor_, filter_, &e)) {
        case EventHub::Next::kEvent:
          return e;
        case EventHub::Next::kIdle:
          return nullptr;
        case EventHub::Next::kCatchUp:
          break;
      }
      // Behind the ring: the outbox in the store, or a reset if it is gone
      // (one read snapshot: a concurrent Compact cannot open a gap).
      hub_.metrics().CatchupRead();
      AlertStore::OutboxRead read = hub_.store().ReadOutbox(cursor_, kCatchUpPage);
      if (read.reset || read.events.empty()) {
        const bool ahead = cursor_ > read.last_sequence;
        reset_reason_ = ahead ? v1::RESET_REASON_AHEAD : v1::RESET_REASON_COMPACTED;
        reset_message_ =
            ahead
                ? fmt::format("sequence {} is beyond the newest event {}: re-list with ListActive",
                              cursor_, read.last_sequence)
                : fmt::format(
                      "events after {} were deleted (retention); the oldest retained is {}: "
                      "re-list with ListActive",
                      cursor_, read.first_retained);
        return nullptr;
      }
      for (AlertEvent& ev : read.events) page_.push_back(MakeEntry(std::move(ev)));
      while (!page_.empty()) {
        EntryPtr e2 = std::move(page_.front());
        page_.pop_front();
        if (e2->event.sequence <= cursor_) continue;
        cursor_ = e2->event.sequence;
        if (filter_.Matches(e2->event)) return e2;
      }
    }
    return nullptr;
  }

  const grpc::ByteBuffer* TakeResetLocked() {
    AlertStore& store = hub_.store();
    const std::uint64_t current = std::max(store.LastSequence(), hub_.last_sequence());
    v1::StreamEvent reset;
    reset.set_sequence(current);
    v1::Reset* r = reset.mutable_reset();
    r->set_reason(reset_reason_);
    r->set_message(reset_message_);
    r->set_oldest_retained_sequence(store.FirstRetainedSequence());
    r->set_current_sequence(current);
    Serialize(reset, &control_);
    spdlog::info("subscriber reset principal={} reason={} cursor={} current={}", principal_,
                 v1::ResetReason_Name(reset_reason_), cursor_, current);
    cursor_ = current;
    page_.clear();
    reset_reason_ = v1::RESET_REASON_UNSPECIFIED;
    current_.clear();
    current_type_ = StreamMessageType::kReset;
    return &control_;
  }

  void StartWriteLocked(std::unique_lock<std::mutex>& lock, const grpc::ByteBuffer* msg);

  void MaybeFinishLocked(std::unique_lock<std::mutex>& lock, grpc::Status status);

  EventHub& hub_;
  const Duration heartbeat_;
  const Duration stall_timeout_;
  const std::string principal_;
  const std::uint32_t max_batch_;  // events per message, 1..kMaxBatchEvents
  const EventForm form_;           // with or without the CAP XML

  std::mutex mu_;
  SubscribeReactor* reactor_ = nullptr;
  grpc::CallbackServerContext* ctx_ = nullptr;
  std::uint64_t cursor_;
  StreamFilter filter_;
  std::deque<EntryPtr> page_;      // catch-up page from the store (bounded)
  std::vector<EntryPtr> current_;  // the events being written (kept alive until done)
  grpc::ByteBuffer batch_;         // when they are two or more: the batch message
  grpc::ByteBuffer control_;       // a heartbeat or reset being written
  StreamMessageType current_type_ = StreamMessageType::kEvent;
  v1::ResetReason reset_reason_ = v1::RESET_REASON_UNSPECIFIED;
  std::string reset_message_;
  bool writing_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  bool cancel_requested_ = false;
  int pins_ = 0;
  SteadyClock::time_point last_activity_;
  SteadyClock::time_point write_started_;
  LagBatch lags_;  // delivery lags not yet in the histogram
};

// Writes serialised StreamEvents (HubEntry::bytes): Subscribe is a raw
// method, so gRPC sends the shared bytes instead of serialising per stream.
class SubscribeReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SubscribeReactor(std::shared_ptr<Stream> stream, std::shared_ptr<EventHub> hub)
      : stream_(std::move(stream)), hub_(std::move(hub)) {}

  // A stream refused before it started (auth, invalid request, too many).
  static SubscribeReactor* Refuse(grpc::Status status) {
    auto* r = new SubscribeReactor(nullptr, nullptr);
    r->Finish(std::move(status));
    return r;
  }

  void OnWriteDone(bool ok) override {
    if (stream_ != nullptr) stream_->OnWriteDone(ok);
  }
  void OnCancel() override {
    if (stream_ != nullptr) stream_->OnCancel();
  }
  void OnDone() override {
    if (stream_ != nullptr) {
      stream_->OnDone();
      hub_->Remove(stream_.get());
      spdlog::info("subscriber disconnected principal={} open={}", stream_->principal(),
                   hub_->subscriber_count());
    }
    delete this;
  }

 private:
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<EventHub> hub_;
};

void Stream::StartWriteLocked(std::unique_lock<std::mutex>& lock, const grpc::ByteBuffer* msg) {
  writing_ = true;
  write_started_ = SteadyClock::now();
  SubscribeReactor* r = reactor_;
  lock.unlock();
  // Safe without the lock: OnDone cannot run while a write is in flight.
  r->StartWrite(msg);
  lock.lock();
}

void Stream::MaybeFinishLocked(std::unique_lock<std::mutex>& lock, grpc::Status status) {
  if (finished_ || writing_ || pins_ > 0 || reactor_ == nullptr) return;
  finished_ = true;
  SubscribeReactor* r = reactor_;
  lock.unlock();
  r->Finish(std::move(status));
  lock.lock();
}

}  // namespace

// --------------------------------------------------------------- service ----

// Subscribe is registered raw (ByteBuffer in and out, see SubscribeReactor);
// every other method is typed.
class AlertServiceImpl final
    : public v1::AlertService::WithRawCallbackMethod_Subscribe<v1::AlertService::CallbackService> {
 public:
  AlertServiceImpl(const ServiceConfig& cfg, AlertEngine& engine, AlertStore& store,
                   std::shared_ptr<EventHub> hub, std::shared_ptr<ServiceMetrics> metrics)
      : cfg_(cfg),
        engine_(engine),
        store_(store),
        hub_(std::move(hub)),
        metrics_(std::move(metrics)),
        auth_(cfg.tokens) {}

  void StopAccepting() { stopping_ = true; }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* raw) override {
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
    filter.station_ids.insert(req->filter().station_ids().begin(),
                              req->filter().station_ids().end());
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

  grpc::ServerUnaryReactor* ListActive(grpc::CallbackServerContext* ctx,
                                       const v1::ListActiveRequest* req,
                                       v1::ListActiveResponse* resp) override {
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

  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* ctx,
                                     const v1::GetAlertRequest* req, v1::Alert* resp) override {
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

  grpc::ServerUnaryReactor* ListSilences(grpc::CallbackServerContext* ctx,
                                         const v1::ListSilencesRequest*,
                                         v1::ListSilencesResponse* resp) override {
    return Unary(ctx, "ListSilences", Role::kSubscriber, [&](const Principal&) {
      for (const auto& s : engine_.ListSilences()) convert::ToProto(s, resp->add_silences());
      return grpc::Status::OK;
    });
  }

  grpc::ServerUnaryReactor* Acknowledge(grpc::CallbackServerContext* ctx,
                                        const v1::AcknowledgeRequest* req,
                                        v1::Alert* resp) override {
    return Unary(ctx, "Acknowledge", Role::kOperator, [&](const Principal& p) {
      if (auto s = CheckId("alert_id", req->alert_id()); !s.ok()) return s;
      if (auto s = CheckText("note", req->note(), kMaxShortText); !s.ok()) return s;
      return Reply(engine_.Acknowledge(req->alert_id(), p.name, req->note()), resp);
    });
  }

  grpc::ServerUnaryReactor* Silence(grpc::CallbackServerContext* ctx, const v1::SilenceRequest* req,
                                    v1::Silence* resp) override {
    return Unary(ctx, "Silence", Role::kOperator, [&](const Principal& p) {
      const int set =
          !req->alert_id().empty() + !req->station_id().empty() + !req->rule_id().empty();
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

  grpc::ServerUnaryReactor* ApproveSilence(grpc::CallbackServerContext* ctx,
                                           const v1::ApproveSilenceRequest* req,
                                           v1::Silence* resp) override {
    return Unary(ctx, "ApproveSilence", Role::kOperator, [&](const Principal& p) {
      if (auto s = CheckId("silence_id", req->silence_id()); !s.ok()) return s;
      return Reply(engine_.ApproveSilence(req->silence_id(), p.name), resp);
    });
  }

  grpc::ServerUnaryReactor* Unsilence(grpc::CallbackServerContext* ctx,
                                      const v1::UnsilenceRequest* req, v1::Silence* resp) override {
    return Unary(ctx, "Unsilence", Role::kOperator, [&](const Principal& p) {
      if (auto s = CheckId("silence_id", req->silence_id()); !s.ok()) return s;
      return Reply(engine_.RemoveSilence(req->silence_id(), p.name), resp);
    });
  }

  grpc::ServerUnaryReactor* IssueManual(grpc::CallbackServerContext* ctx,
                                        const v1::IssueManualRequest* req,
                                        v1::Alert* resp) override {
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

  grpc::ServerUnaryReactor* ResolveManual(grpc::CallbackServerContext* ctx,
                                          const v1::ResolveManualRequest* req,
                                          v1::Alert* resp) override {
    return Unary(ctx, "ResolveManual", Role::kOperator, [&](const Principal& p) {
      if (auto s = CheckId("alert_id", req->alert_id()); !s.ok()) return s;
      if (auto s = CheckText("note", req->note(), kMaxShortText); !s.ok()) return s;
      return Reply(engine_.ResolveManual(req->alert_id(), p.name, req->note()), resp);
    });
  }

 private:
  grpc::Status Authorize(const grpc::CallbackServerContext& ctx, const char* method, Role required,
                         Principal* p) {
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

  template <typename Body>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method,
                                  Role required, Body&& body) {
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
  static grpc::Status Reply(const Result<T>& r, Msg* out) {
    if (!r.ok()) return ToStatus(r.error);
    convert::ToProto(*r.value, out);
    return grpc::Status::OK;
  }

  const ServiceConfig& cfg_;
  AlertEngine& engine_;
  AlertStore& store_;
  std::shared_ptr<EventHub> hub_;
  std::shared_ptr<ServiceMetrics> metrics_;
  Authenticator auth_;
  std::atomic<bool> stopping_{false};
};

// ---------------------------------------------------------------- server ----

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

// --------------------------------------------------------------- metrics ----

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
