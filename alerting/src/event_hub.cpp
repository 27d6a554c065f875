#include "event_hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proto_convert.hpp"

namespace floodwarn::alerting {

EntryPtr MakeEntry(AlertEvent e) {
  auto entry = std::make_shared<HubEntry>();
  entry->message.set_sequence(e.sequence);
  convert::ToProto(e, entry->message.mutable_event());
  entry->event = std::move(e);
  return entry;
}

bool StreamFilter::Matches(const AlertEvent& e) const {
  if (!area_ids.empty() && area_ids.count(e.alert.area.id) == 0) return false;
  if (!station_ids.empty() && station_ids.count(e.alert.station_id) == 0) return false;
  if (e.alert.level < min_level && e.kind != EventKind::kResolved && e.kind != EventKind::kUpdated)
    return false;
  return true;
}

EventHub::EventHub(AlertStore& store, std::size_t capacity, std::shared_ptr<ServiceMetrics> metrics)
    : store_(store), capacity_(std::max<std::size_t>(capacity, 1)), metrics_(std::move(metrics)) {
  last_ = store_.LastSequence();
  covered_from_ = last_;
  metrics_->LastSequence(last_);
}

void EventHub::AppendLocked(EntryPtr e) {
  metrics_->Committed(e->event);
  last_ = e->event.sequence;
  ring_.push_back(std::move(e));
  while (ring_.size() > capacity_) {
    covered_from_ = ring_.front()->event.sequence;
    ring_.pop_front();
  }
}

void EventHub::Publish(const std::vector<AlertEvent>& events) {
  std::vector<AlertEvent> sorted = events;
  std::sort(sorted.begin(), sorted.end(),
            [](const AlertEvent& a, const AlertEvent& b) { return a.sequence < b.sequence; });
  std::vector<std::shared_ptr<HubSubscriber>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    bool appended = false;
    for (AlertEvent& e : sorted) {
      if (e.sequence <= last_) continue;  // already filled in from the store
      if (e.sequence != last_ + 1) {
        // A concurrent commit's listener has not run yet: its events are
        // committed (the store serialises writes), take them from there.
        for (AlertEvent& m : store_.ReadEvents(last_, e.sequence - last_ - 1)) {
          if (m.sequence >= e.sequence) break;
          AppendLocked(MakeEntry(std::move(m)));
        }
      }
      AppendLocked(MakeEntry(std::move(e)));
      appended = true;
    }
    if (!appended) return;
    wake = subscribers_;
  }
  for (const auto& s : wake) s->OnNewEvents();
}

EventHub::Next EventHub::NextAfter(std::uint64_t* cursor, const StreamFilter& filter,
                                   EntryPtr* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (*cursor >= last_) return Next::kIdle;
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

std::uint64_t EventHub::last_sequence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

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
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
}

}  // namespace floodwarn::alerting
