// Private to floodwarn::alerting_service: one Subscribe stream. Stream holds
// its state (cursor, filter, the message being written, heartbeats, resets,
// stall detection), fed by the EventHub and, behind the ring, by the store's
// outbox; SubscribeReactor is the callback-API writer gRPC drives. No thread
// per subscriber; backpressure: at most one write in flight per stream.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event_hub.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/v1/alerts.pb.h"

namespace floodwarn::alerting::service_internal {

using SteadyClock = std::chrono::steady_clock;

// SubscribeRequest.max_batch is capped at this many events and a batch stops
// growing once it holds this many bytes (alerts with their CAP XML are ~5 kB).
inline constexpr std::uint32_t kMaxBatchEvents = 256;
inline constexpr std::size_t kMaxBatchBytes = 1 << 20;
// Events read from the outbox per catch-up step of a stream behind the ring.
inline constexpr std::size_t kCatchUpPage = 128;

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
         StreamFilter filter, std::uint32_t max_batch, EventForm form);

  void Attach(SubscribeReactor* reactor, grpc::CallbackServerContext* ctx);

  void RequestReset(v1::ResetReason reason, std::string message);

  void OnNewEvents() override { Pump(); }

  // Server shutdown: end the stream with UNAVAILABLE (the client resumes
  // elsewhere or later); a write stuck on a slow client is cancelled.
  void Close() override;

  void OnTimer() override;

  void Pump();

  void OnWriteDone(bool ok);

  void OnCancel();

  void OnDone();

  const std::string& principal() const { return principal_; }

 private:
  // The next message to write, or nullptr (idle). Sets current_ (the events
  // it carries) and control_/batch_.
  const grpc::ByteBuffer* NextLocked();

  // The next matching event after cursor_ (advancing it), or nullptr: idle,
  // or the events needed are gone (reset_reason_ is then set).
  EntryPtr NextEventLocked();

  const grpc::ByteBuffer* TakeResetLocked();

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
  SubscribeReactor(std::shared_ptr<Stream> stream, std::shared_ptr<EventHub> hub);

  // A stream refused before it started (auth, invalid request, too many).
  static SubscribeReactor* Refuse(grpc::Status status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<EventHub> hub_;
};

}  // namespace floodwarn::alerting::service_internal
