// One Subscribe stream (subscribe_stream.hpp).
#include "subscribe_stream.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "floodwarn/alerting/proto_convert.hpp"
#include "floodwarn/common/time.hpp"

namespace floodwarn::alerting::service_internal {

using common::Now;

Stream::Stream(EventHub& hub, const ServiceConfig& cfg, std::string principal, std::uint64_t cursor,
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

void Stream::Attach(SubscribeReactor* reactor, grpc::CallbackServerContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  reactor_ = reactor;
  ctx_ = ctx;
}

void Stream::RequestReset(v1::ResetReason reason, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  reset_reason_ = reason;
  reset_message_ = std::move(message);
}

void Stream::Close() {
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

void Stream::OnTimer() {
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

void Stream::Pump() {
  std::unique_lock<std::mutex> lock(mu_);
  if (reactor_ == nullptr || writing_ || finished_ || cancelled_) return;
  const grpc::ByteBuffer* msg = NextLocked();
  if (msg != nullptr) StartWriteLocked(lock, msg);
}

void Stream::OnWriteDone(bool ok) {
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

void Stream::OnCancel() {
  std::unique_lock<std::mutex> lock(mu_);
  cancelled_ = true;
  MaybeFinishLocked(lock, {grpc::StatusCode::CANCELLED, "stream cancelled"});
}

void Stream::OnDone() {
  std::lock_guard<std::mutex> lock(mu_);
  hub_.metrics().FlushDeliveryLag(lags_);
  reactor_ = nullptr;
  ctx_ = nullptr;
}

const grpc::ByteBuffer* Stream::NextLocked() {
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

EntryPtr Stream::NextEventLocked() {
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
          ahead ? fmt::format("sequence {} is beyond the newest event {}: re-list with ListActive",
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

const grpc::ByteBuffer* Stream::TakeResetLocked() {
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

SubscribeReactor::SubscribeReactor(std::shared_ptr<Stream> stream, std::shared_ptr<EventHub> hub)
    : stream_(std::move(stream)), hub_(std::move(hub)) {}

SubscribeReactor* SubscribeReactor::Refuse(grpc::Status status) {
  auto* r = new SubscribeReactor(nullptr, nullptr);
  r->Finish(std::move(status));
  return r;
}

void SubscribeReactor::OnWriteDone(bool ok) {
  if (stream_ != nullptr) stream_->OnWriteDone(ok);
}

void SubscribeReactor::OnCancel() {
  if (stream_ != nullptr) stream_->OnCancel();
}

void SubscribeReactor::OnDone() {
  if (stream_ != nullptr) {
    stream_->OnDone();
    hub_->Remove(stream_.get());
    spdlog::info("subscriber disconnected principal={} open={}", stream_->principal(),
                 hub_->subscriber_count());
  }
  delete this;
}

}  // namespace floodwarn::alerting::service_internal
