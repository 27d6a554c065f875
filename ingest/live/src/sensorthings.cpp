#include "floodwarn/ingest/sensorthings.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/reading_store.hpp"

namespace floodwarn::ingest {

struct SensorThingsPoller::Impl {
  SensorThingsConfig config;
  IngestPipeline& pipeline;
  ReadingStore& store;
  HttpClient http;
  Backoff backoff;
  std::unique_ptr<PollerThread> thread;

  Impl(SensorThingsConfig c, IngestPipeline& p, ReadingStore& s)
      : config(std::move(c)),
        pipeline(p),
        store(s),
        http(config.http),
        backoff(config.backoff_initial, config.backoff_max) {}

  bool PollDatastream(const SensorThingsDatastream& ds, TimePoint now, PollOutcome& out) {
    const std::string cursor_name = CursorName(ds);
    const auto cursor_text = store.Cursor(cursor_name);
    std::optional<TimePoint> cursor;
    if (cursor_text) cursor = common::ParseIso8601(*cursor_text, common::Iso8601Options::Feed());
    const TimePoint since = cursor.value_or(
        now - std::chrono::duration_cast<std::chrono::milliseconds>(config.initial_lookback));
    std::string url = fmt::format(
        "{}/Datastreams({})/Observations?$filter={}&$orderby={}&$top={}", config.base_url,
        ds.datastream_id, HttpClient::Escape("phenomenonTime gt " + common::FormatIso8601(since)),
        HttpClient::Escape("phenomenonTime asc"), config.page_size);
    TimePoint newest = since;
    for (int page_no = 0; page_no < config.max_pages; ++page_no) {
      ++out.requests;
      HttpResponse resp = http.Get(url);
      if (!resp.ok()) {
        spdlog::warn("sensorthings request_failed url={} status={} error=\"{}\"", url, resp.status,
                     resp.error);
        ++out.failures;
        return false;
      }
      SensorThingsPage page = DecodeSensorThingsObservations(resp.body, url, ds, now);
      for (const auto& r : page.decoded.readings) newest = std::max(newest, r.observed);
      out.decode_errors += page.decoded.errors.size();
      const std::string cursor_value = common::FormatIso8601(newest);
      std::vector<DecodeResult> batch;
      batch.push_back(std::move(page.decoded));
      out.inserted +=
          pipeline.Ingest("sensorthings", std::move(batch), &cursor_name, &cursor_value).inserted;
      if (!page.next_link) return true;
      url = *page.next_link;
    }
    spdlog::info("sensorthings page_limit datastream={} pages={} (continuing next round)",
                 ds.datastream_id, config.max_pages);
    return true;
  }
};

SensorThingsPoller::SensorThingsPoller(SensorThingsConfig config, IngestPipeline& pipeline,
                                       ReadingStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), pipeline, store)) {}

SensorThingsPoller::~SensorThingsPoller() { Stop(); }

std::string SensorThingsPoller::CursorName(const SensorThingsDatastream& d) {
  return fmt::format("sensorthings:{}", d.datastream_id);
}

PollOutcome SensorThingsPoller::PollOnce(TimePoint now) {
  PollOutcome out;
  bool failed = false;
  for (const auto& ds : impl_->config.datastreams)
    if (!impl_->PollDatastream(ds, now, out)) failed = true;
  if (failed) {
    out.next_delay = impl_->backoff.Fail();
  } else {
    impl_->backoff.Reset();
    out.next_delay = impl_->config.interval;
  }
  return out;
}

void SensorThingsPoller::Start() {
  if (!impl_->thread)
    impl_->thread = std::make_unique<PollerThread>([this] {
      return PollOnce(std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()))
          .next_delay;
    });
  impl_->thread->Start();
}

void SensorThingsPoller::Stop() {
  if (impl_->thread) impl_->thread->Stop();
}

}  // namespace floodwarn::ingest
