#include "event_hub.hpp"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "floodwarn/alerting/proto_convert.hpp"

namespace floodwarn::alerting {

namespace {

grpc::Slice SerializeToSlice(const v1::StreamEvent& message) {
  grpc::Slice slice(message.ByteSizeLong());  // uninitialised, filled here
  message.SerializeWithCachedSizesToArray(const_cast<std::uint8_t*>(slice.begin()));
  return slice;
}

}  // namespace

void Serialize(const v1::StreamEvent& message, grpc::ByteBuffer* out) {
  const grpc::Slice slice = SerializeToSlice(message);
  *out = grpc::ByteBuffer(&slice, 1);
}

EntryPtr MakeEntry(AlertEvent e) {
  v1::StreamEvent message;
  message.set_sequence(e.sequence);
  convert::ToProto(e, message.mutable_event());
  auto entry = std::make_shared<HubEntry>();
  auto& [full, without_cap] = entry->slice;
  full = SerializeToSlice(message);
  if (e.cap_xml.empty()) {
    without_cap = full;  // the same bytes, shared
  } else {
    message.mutable_event()->clear_cap_xml();
    without_cap = SerializeToSlice(message);
  }
  for (std::size_t f = 0; f < entry->slice.size(); ++f)
    entry->bytes[f] = grpc::ByteBuffer(&entry->slice[f], 1);
  entry->event = std::move(e);
  return entry;
}

namespace {

// Protocol buffers' base-128 varint; returns the bytes written (at most 10).
std::size_t PutVarint(std::uint64_t v, std::uint8_t* p) {
  std::size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<std::uint8_t>(v);
  return n;
}

std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Wire-format tags (field number << 3 | wire type) of the fields written.
constexpr std::uint8_t kTagSequence = (1 << 3) | 0;  // StreamEvent.sequence, varint
constexpr std::uint8_t kTagBatch = (5 << 3) | 2;     // StreamEvent.batch, length-delimited
constexpr std::uint8_t kTagEvents = (1 << 3) | 2;    // EventBatch.events, length-delimited

}  // namespace

void SerializeBatch(const std::vector<EntryPtr>& entries, EventForm form, grpc::ByteBuffer* out) {
  std::size_t body = 0;
  for (const EntryPtr& e : entries) {
    const std::size_t n = e->Slice(form).size();
    body += 1 + VarintSize(n) + n;
  }
  // All tags and lengths go into one small slice; the message is that
  // slice's pieces interleaved with the entries' own slices.
  grpc::Slice headers(2 * (1 + 10) + entries.size() * (1 + 10));
  auto* h = const_cast<std::uint8_t*>(headers.begin());
  std::vector<grpc::Slice> parts;
  parts.reserve(1 + 2 * entries.size());
  std::size_t pos = 0;
  h[pos++] = kTagSequence;
  pos += PutVarint(entries.empty() ? 0 : entries.back()->event.sequence, h + pos);
  h[pos++] = kTagBatch;
  pos += PutVarint(body, h + pos);
  parts.push_back(headers.sub(0, pos));
  for (const EntryPtr& e : entries) {
    const std::size_t start = pos;
    h[pos++] = kTagEvents;
    pos += PutVarint(e->Slice(form).size(), h + pos);
    parts.push_back(headers.sub(start, pos));
    parts.push_back(e->Slice(form));
  }
  *out = grpc::ByteBuffer(parts.data(), parts.size());
}

bool StreamFilter::Matches(const AlertEvent& e) const {
  if (!area_ids.empty() && area_ids.count(e.alert.area.id) == 0) return false;
  if (!station_ids.empty() && station_ids.count(e.alert.station_id) == 0) return false;
  if (e.alert.level < min_level && e.kind != EventKind::kResolved && e.kind != EventKind::kUpdated)
    return false;
  return true;
}

namespace {

// CPUs this process may run on (its affinity mask, which taskset, cgroup
// cpusets and systemd's CPUAffinity= set), not the machine's count.
std::size_t UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::thread::hardware_concurrency();
}

}  // namespace

EventHub::EventHub(AlertStore& store, std::size_t capacity, std::shared_ptr<ServiceMetrics> metrics,
                   std::size_t fanout_threads)
    : store_(store), capacity_(std::max<std::size_t>(capacity, 1)), metrics_(std::move(metrics)) {
  last_ = store_.LastSequence();
  covered_from_ = last_;
  metrics_->LastSequence(last_);
  if (fanout_threads == 0) fanout_threads = std::clamp<std::size_t>(UsableCpus(), 1, 8);
  for (std::size_t w = 0; w < fanout_threads; ++w)
    fanout_.emplace_back([this, w, n = fanout_threads] { FanOutLoop(w, n); });
}

EventHub::~EventHub() { Stop(); }

void EventHub::FanOutLoop(std::size_t worker, std::size_t workers) {
  std::unique_lock<std::mutex> lock(mu_);
  std::uint64_t seen = 0;
  while (true) {
    fanout_cv_.wait(lock, [&] { return stopped_ || wakeups_ != seen; });
    if (stopped_) return;
    seen = wakeups_;
    // Every worker slices the same list, taken by the latest Publish: slices
    // of lists taken at different times could miss a stream when others
    // leave in between. Wakeups that arrive meanwhile are coalesced (each
    // stream pulls every event after its cursor), and a worker that skipped
    // a wakeup still handles its slice of the newest list.
    std::shared_ptr<const SubscriberList> list = wake_list_;
    lock.unlock();
    const std::size_t n = list->size();
    for (std::size_t i = worker * n / workers; i < (worker + 1) * n / workers; ++i)
      (*list)[i]->OnNewEvents();
    list.reset();  // the last reference to a closed stream is dropped unlocked
    lock.lock();
  }
}

void EventHub::AppendLocked(EntryPtr e) {
  metrics_->Committed(e->event);
  const std::uint64_t sequence = e->event.sequence;
  ring_.push_back(std::move(e));
  last_.store(sequence, std::memory_order_release);  // after the entry is in the ring
  while (ring_.size() > capacity_) {
    covered_from_ = ring_.front()->event.sequence;
    ring_.pop_front();
  }
}

void EventHub::Publish(const std::vector<AlertEvent>& events) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
  }
  // Serialised before taking the ring's lock: readers are not held up.
  std::vector<EntryPtr> entries;
  entries.reserve(events.size());
  for (const AlertEvent& e : events) entries.push_back(MakeEntry(e));
  std::sort(entries.begin(), entries.end(), [](const EntryPtr& a, const EntryPtr& b) {
    return a->event.sequence < b->event.sequence;
  });
  bool appended = false;
  {
    std::unique_lock<std::shared_mutex> lock(ring_mu_);
    for (EntryPtr& e : entries) {
      const std::uint64_t last = last_.load(std::memory_order_relaxed);
      if (e->event.sequence <= last) continue;  // already filled in from the store
      if (e->event.sequence != last + 1) {
        // A concurrent commit's listener has not run yet: its events are
        // committed (the store serialises writes), take them from there.
        for (AlertEvent& m : store_.ReadEvents(last, e->event.sequence - last - 1)) {
          if (m.sequence >= e->event.sequence) break;
          AppendLocked(MakeEntry(std::move(m)));
        }
      }
      AppendLocked(std::move(e));
      appended = true;
    }
  }
  if (!appended) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_list_ = std::make_shared<const SubscriberList>(subscribers_);
    ++wakeups_;
  }
  fanout_cv_.notify_all();
}

EventHub::Next EventHub::NextAfter(std::uint64_t* cursor, const StreamFilter& filter,
                                   EntryPtr* out) const {
  // Most calls find nothing new (a stream asks again after every write).
  if (*cursor >= last_.load(std::memory_order_acquire)) return Next::kIdle;
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  if (*cursor >= last_.load(std::memory_order_relaxed)) return Next::kIdle;
  if (*cursor < covered_from_) return Next::kCatchUp;
  auto it =
      std::upper_bound(ring_.begin(), ring_.end(), *cursor,
                       [](std::uint64_t c, const EntryPtr& e) { return c < e->event.sequence; });
  for (; it != ring_.end(); ++it) {
    *cursor = (*it)->event.sequence;
    if (filter.Matches((*it)->event)) {
      *out = *it;
      return Next::kEvent;
    }
  }
  return Next::kIdle;
}

std::uint64_t EventHub::last_sequence() const { return last_.load(std::memory_order_acquire); }

void EventHub::Add(const std::shared_ptr<HubSubscriber>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(s);
  metrics_->Subscribers(subscribers_.size());
}

void EventHub::Remove(const HubSubscriber* s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [s](const auto& p) { return p.get() == s; }),
                     subscribers_.end());
  if (!stopped_) metrics_->Subscribers(subscribers_.size());
}

std::size_t EventHub::subscriber_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subscribers_.size();
}

std::vector<std::shared_ptr<HubSubscriber>> EventHub::Subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subscribers_;
}

void EventHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  fanout_cv_.notify_all();
  for (auto& t : fanout_) {
    if (!t.joinable()) continue;
    if (t.get_id() == std::this_thread::get_id())
      t.detach();  // the hub's last owner let go from a fan-out thread: it returns now
    else
      t.join();
  }
  fanout_.clear();
}

}  // namespace floodwarn::alerting
