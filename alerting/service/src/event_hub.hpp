// EventHub: committed events in a bounded in-memory ring, shared by every
// Subscribe stream. Private to the service.
//
// Each stream keeps its own cursor and asks the hub for the next event after
// it. The hub never writes to a stream and never waits for one: Publish()
// appends and wakes the fan-out threads, which notify the streams (each
// thread a contiguous share of them, so a connection's streams stay on one
// thread); a stream takes at most one event at a time. The committing
// thread does not wait for the fan-out. A stream that falls behind the ring reads the outbox from
// the store (catch-up); so a slow stream costs O(1) memory and delays nobody.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "floodwarn/alerting/store.hpp"
#include "floodwarn/alerting/types.hpp"
#include "floodwarn/v1/alerts.pb.h"
#include "metrics.hpp"

namespace floodwarn::alerting {

// The two forms an event is sent in (SubscribeRequest.omit_cap_xml).
enum class EventForm : std::uint8_t { kFull = 0, kWithoutCap = 1 };

// One event, ready to write: the domain event (for filtering) and its
// StreamEvent, serialised once per form for all subscribers. Every stream
// writes the same bytes (a ByteBuffer copy shares the slices by reference
// count), so fanning one event out to N subscribers costs one serialisation,
// not N.
struct HubEntry {
  AlertEvent event;
  // The serialised StreamEvent (sequence and event), per EventForm, and the
  // same as one message.
  std::array<grpc::Slice, 2> slice;
  std::array<grpc::ByteBuffer, 2> bytes;
  const grpc::Slice& Slice(EventForm f) const { return slice[static_cast<std::size_t>(f)]; }
  const grpc::ByteBuffer& Bytes(EventForm f) const { return bytes[static_cast<std::size_t>(f)]; }
};
using EntryPtr = std::shared_ptr<const HubEntry>;
EntryPtr MakeEntry(AlertEvent e);

// Two or more entries as one StreamEvent with an EventBatch (sequence = the
// last entry's). The entries' bytes are referenced, not copied: only the few
// bytes of tags and lengths are new, so a stream that fell behind sends its
// backlog in one message at the cost of one.
void SerializeBatch(const std::vector<EntryPtr>& entries, EventForm form, grpc::ByteBuffer* out);

// `message` serialised into `out` (a heartbeat or reset, written to one
// stream).
void Serialize(const v1::StreamEvent& message, grpc::ByteBuffer* out);

// A Subscribe request's filter, validated.
struct StreamFilter {
  std::set<std::string> area_ids;
  std::set<std::string> station_ids;
  Level min_level = 0;
  // RESOLVED and UPDATED events pass min_level: a filter never hides the
  // all-clear or the downgrade of an alert the client may have seen.
  bool Matches(const AlertEvent& e) const;
};

// What the hub calls on a stream (from the publishing or the timer thread,
// never with the hub mutex held).
class HubSubscriber {
 public:
  virtual ~HubSubscriber() = default;
  virtual void OnNewEvents() = 0;
  virtual void OnTimer() = 0;
  virtual void Close() = 0;  // server shutdown: end the stream
};

class EventHub {
 public:
  // `fanout_threads` 0 = one per CPU in the affinity mask, at most 8.
  EventHub(AlertStore& store, std::size_t capacity, std::shared_ptr<ServiceMetrics> metrics,
           std::size_t fanout_threads = 0);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Committed events (the engine's commit listener). Events may arrive out
  // of order from concurrent commits; a gap is filled from the store.
  void Publish(const std::vector<AlertEvent>& events);

  enum class Next { kEvent, kIdle, kCatchUp };
  // The first event after *cursor that matches `filter`: kEvent with *out
  // set and *cursor = its sequence; kIdle when there is none yet (*cursor is
  // advanced over the non-matching events); kCatchUp when the ring no longer
  // holds the events after *cursor (read the store).
  Next NextAfter(std::uint64_t* cursor, const StreamFilter& filter, EntryPtr* out) const;

  std::uint64_t last_sequence() const;

  void Add(const std::shared_ptr<HubSubscriber>& s);
  void Remove(const HubSubscriber* s);
  std::size_t subscriber_count() const;
  std::vector<std::shared_ptr<HubSubscriber>> Subscribers() const;

  // After Stop(), Publish is a no-op (the engine may outlive the server);
  // the fan-out threads are joined.
  void Stop();

  AlertStore& store() const { return store_; }
  ServiceMetrics& metrics() const { return *metrics_; }

 private:
  void AppendLocked(EntryPtr e);
  void FanOutLoop(std::size_t worker, std::size_t workers);

  AlertStore& store_;
  const std::size_t capacity_;
  std::shared_ptr<ServiceMetrics> metrics_;
  // The ring: written by Publish, read by every stream after every write.
  mutable std::shared_mutex ring_mu_;
  std::deque<EntryPtr> ring_;  // ascending sequence
  // The ring holds every committed event with sequence > covered_from_.
  std::uint64_t covered_from_ = 0;
  // Newest sequence appended; written under ring_mu_, read without it too.
  std::atomic<std::uint64_t> last_{0};
  // The streams and the fan-out threads' wakeups.
  mutable std::mutex mu_;
  bool stopped_ = false;
  using SubscriberList = std::vector<std::shared_ptr<HubSubscriber>>;
  SubscriberList subscribers_;
  std::uint64_t wakeups_ = 0;  // bumped by Publish; each fan-out thread remembers its last
  std::shared_ptr<const SubscriberList> wake_list_;  // the streams to wake, taken by Publish
  std::condition_variable fanout_cv_;
  std::vector<std::thread> fanout_;
};

}  // namespace floodwarn::alerting
