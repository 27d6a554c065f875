// One dispatcher per channel: follows the outbox from the channel's durable
// cursor and delivers exactly once per idempotency key (CHANNELS.md).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "channel_internal.hpp"
#include "floodwarn/alerting/channels.hpp"

namespace floodwarn::alerting {

namespace {

TimePoint SystemNow() { return std::chrono::time_point_cast<Duration>(Clock::now()); }

// user:password@ in a URL never reaches the log.
std::string RedactUrl(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto host = scheme + 3;
  const auto at = url.find('@', host);
  const auto path = url.find('/', host);
  if (at == std::string::npos || (path != std::string::npos && at > path)) return url;
  return url.substr(0, host) + "***@" + url.substr(at + 1);
}

}  // namespace

ChannelDispatcher::ChannelDispatcher(std::unique_ptr<Channel> channel, AlertStore& store,
                                     prometheus::Registry* registry, DispatcherOptions options)
    : channel_(std::move(channel)), store_(store), options_(std::move(options)) {
  if (!options_.clock) options_.clock = SystemNow;
  if (options_.batch == 0) options_.batch = 1;
  const std::string& name = channel_->config().name;
  metrics_ = std::make_shared<ChannelMetrics>(registry, name);
  channel_->SetMetrics(metrics_);

  // A channel seen for the first time starts where its start_from says; the
  // marker makes that decision durable (cursor 0 alone cannot tell "new"
  // from "nothing delivered yet").
  const std::string marker = "floodwarn:" + name + ":cursor-initialised";
  if (!store_.WasDelivered(name, marker)) {
    if (store_.GetCursor(name) == 0 && channel_->config().start_from == StartFrom::kNow) {
      store_.SetCursor(name, store_.LastSequence());
    }
    store_.RecordDelivery(name, marker, options_.clock());
  }
  cursor_ = store_.GetCursor(name);
  spdlog::info("event=channel_start channel={} type={} url={} cursor={}", name,
               ToString(channel_->config().type), RedactUrl(channel_->config().url),
               cursor_.load());
}

ChannelDispatcher::~ChannelDispatcher() { Stop(); }

void ChannelDispatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void ChannelDispatcher::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void ChannelDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  channel_->RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t ChannelDispatcher::cursor() const { return cursor_.load(); }

void ChannelDispatcher::Loop() {
  for (;;) {
    try {
      RunOnce();
    } catch (const std::exception& e) {
      // A store error is not a reason to drop anything: the cursor did not
      // move; try again after the poll interval.
      metrics_->Failure();
      spdlog::error("event=channel_error channel={} error=\"{}\"", channel_->config().name,
                    e.what());
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.poll_interval, [this] { return wake_ || stopping_; });
    if (stopping_) return;
    wake_ = false;
  }
}

std::size_t ChannelDispatcher::RunOnce() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  const std::string& name = channel_->config().name;
  std::size_t advanced = 0;
  while (!channel_->stop_requested()) {
    const std::uint64_t first = store_.FirstRetainedSequence();
    if (first > cursor_ + 1) {
      // Compacted before this channel saw them: say so loudly, carry on.
      metrics_->Failure();
      spdlog::error("event=channel_gap channel={} cursor={} first_retained={}", name,
                    cursor_.load(), first);
    }
    const auto events = store_.ReadEvents(cursor_, options_.batch);
    if (events.empty()) break;
    // Events this channel does nothing for move the cursor in memory only and
    // are persisted with the next acted-on event or at the end of the batch
    // (a crash re-reads them, harmlessly): one write per batch instead of one
    // per event for a siren channel that ignores most events.
    bool unsaved = false;
    for (const auto& e : events) {
      bool acted = false;
      if (!ProcessEvent(e, &acted)) {
        if (unsaved) store_.SetCursor(name, cursor_);
        metrics_->Lag(static_cast<double>(store_.LastSequence() - cursor_));
        return advanced;
      }
      cursor_ = e.sequence;
      ++advanced;
      if (acted) {
        store_.SetCursor(name, e.sequence);
        unsaved = false;
      } else {
        unsaved = true;
      }
    }
    if (unsaved) store_.SetCursor(name, cursor_);
  }
  const std::uint64_t last = store_.LastSequence();
  metrics_->Lag(last > cursor_ ? static_cast<double>(last - cursor_) : 0.0);
  return advanced;
}

bool ChannelDispatcher::ProcessEvent(const AlertEvent& e, bool* acted) {
  const std::string& name = channel_->config().name;
  *acted = false;
  if (!Routes(channel_->config(), e)) return true;
  const Plan plan =
      channel_->PlanFor(e, [&](const std::string& key) { return store_.WasDelivered(name, key); });
  *acted = !plan.problems.empty() || !plan.deliveries.empty();
  for (const auto& problem : plan.problems) {
    metrics_->Failure();  // no attempt was made, so none was counted yet
    DeadLetter(e, "", problem);
  }
  for (const auto& d : plan.deliveries) {
    if (store_.WasDelivered(name, d.idempotency_key)) {
      metrics_->Delivery("skipped");
      spdlog::debug("event=channel_skip channel={} key={} reason=already_recorded", name,
                    d.idempotency_key);
      continue;
    }
    const DeliveryOutcome out = channel_->Deliver(d);
    switch (out.result) {
      case DeliveryResult::kDelivered:
      case DeliveryResult::kDuplicate:
        // Recorded before the cursor moves past the event (see header).
        store_.RecordDelivery(name, d.idempotency_key, options_.clock());
        metrics_->Delivery(ToString(out.result));
        spdlog::info("event=channel_delivered channel={} key={} result={} attempts={} {}", name,
                     d.idempotency_key, ToString(out.result), out.attempts, d.summary);
        break;
      case DeliveryResult::kRejected:
        metrics_->Delivery("rejected");
        DeadLetter(e, d.idempotency_key,
                   fmt::format("rejected by the receiver: {} after {} attempt(s)", out.last_error,
                               out.attempts));
        break;
      case DeliveryResult::kStopped:
        return false;
    }
  }
  return true;
}

void ChannelDispatcher::DeadLetter(const AlertEvent& e, const std::string& key,
                                   const std::string& why) {
  const std::string& name = channel_->config().name;
  spdlog::error("event=channel_dead_letter channel={} alert={} seq={} key={} reason=\"{}\"", name,
                e.alert.id, e.sequence, key, why);
  // The audit log is the durable dead-letter record: duty officers see that
  // this channel did not carry the warning.
  Changeset change;
  AuditEntry entry;
  entry.at = options_.clock();
  entry.actor = "channel:" + name;
  entry.action = "delivery-failed";
  entry.alert_id = e.alert.id;
  entry.detail = fmt::format("channel={} seq={} kind={} key={} reason=\"{}\"", name, e.sequence,
                             ToString(e.kind), key, why);
  change.audit.push_back(std::move(entry));
  const auto r = store_.Apply(change);
  if (!r.ok()) {
    spdlog::error("event=channel_dead_letter_unrecorded channel={} error=\"{}\"", name,
                  r.error.message);
  }
}

}  // namespace floodwarn::alerting
