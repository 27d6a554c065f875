#include "floodwarn/ingest/pegelonline.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/reading_store.hpp"

namespace floodwarn::ingest {

struct PegelonlinePoller::Impl {
  PegelonlineConfig config;
  IngestPipeline& pipeline;
  ReadingStore& store;
  HttpClient http;
  Backoff backoff;
  std::map<std::string, std::string> etags;  // current-measurement URL -> ETag
  std::unique_ptr<PollerThread> thread;

  Impl(PegelonlineConfig c, IngestPipeline& p, ReadingStore& s)
      : config(std::move(c)),
        pipeline(p),
        store(s),
        http(config.http),
        backoff(config.backoff_initial, config.backoff_max) {}

  std::string SeriesUrl(const PegelonlineSeries& s) const {
    return fmt::format("{}/stations/{}/{}", config.base_url, HttpClient::Escape(s.uuid),
                       HttpClient::Escape(s.timeseries));
  }

  // Returns false on a failure (counted in `out`).
  bool PollSeries(const PegelonlineSeries& s, TimePoint now, PollOutcome& out) {
    const std::string cursor_name = CursorName(s);
    const auto cursor_text = store.Cursor(cursor_name);
    std::optional<TimePoint> cursor;
    if (cursor_text) cursor = common::ParseIso8601(*cursor_text, common::Iso8601Options::Feed());

    const std::string current_url = SeriesUrl(s) + "/currentmeasurement.json";
    auto& etag = etags[current_url];
    ++out.requests;
    HttpResponse cur = http.Get(current_url, etag);
    if (cur.not_modified()) {
      ++out.not_modified;
      return true;
    }
    if (!cur.ok()) {
      spdlog::warn("pegelonline request_failed url={} status={} error=\"{}\"", current_url,
                   cur.status, cur.error);
      ++out.failures;
      return false;
    }
    auto current = DecodePegelonlineCurrent(cur.body, current_url, s, now);
    if (current.readings.empty()) {
      out.decode_errors += current.errors.size();
      pipeline.Ingest("pegelonline", std::move(current));  // counts and logs the error
      ++out.failures;
      return false;
    }
    if (cursor && current.readings[0].observed <= *cursor) {
      etag = cur.etag;
      return true;  // nothing newer than what we have
    }
    // New data: fetch everything since the cursor (fills gaps after outages).
    const std::string start =
        cursor ? common::FormatIso8601(*cursor)
               : common::FormatIso8601(now - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 config.initial_lookback));
    const std::string url = SeriesUrl(s) + "/measurements.json?start=" + HttpClient::Escape(start);
    ++out.requests;
    HttpResponse m = http.Get(url);
    if (!m.ok()) {
      spdlog::warn("pegelonline request_failed url={} status={} error=\"{}\"", url, m.status,
                   m.error);
      ++out.failures;
      return false;
    }
    DecodeResult decoded = DecodePegelonlineMeasurements(m.body, url, s, now);
    // The current measurement may be newer than the series (both are stored;
    // the store ignores the duplicate).
    decoded.readings.push_back(current.readings[0]);
    TimePoint newest = cursor.value_or(TimePoint{});
    for (const auto& r : decoded.readings) newest = std::max(newest, r.observed);
    out.decode_errors += decoded.errors.size();
    const std::string cursor_value = common::FormatIso8601(newest);
    std::vector<DecodeResult> batch;
    batch.push_back(std::move(decoded));
    const auto result =
        pipeline.Ingest("pegelonline", std::move(batch), &cursor_name, &cursor_value);
    out.inserted += result.inserted;
    etag = cur.etag;  // only now: a failed store must not make the next poll a 304
    return true;
  }
};

PegelonlinePoller::PegelonlinePoller(PegelonlineConfig config, IngestPipeline& pipeline,
                                     ReadingStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), pipeline, store)) {}

PegelonlinePoller::~PegelonlinePoller() { Stop(); }

std::string PegelonlinePoller::CursorName(const PegelonlineSeries& s) {
  return fmt::format("pegelonline:{}:{}", s.uuid, s.timeseries);
}

PollOutcome PegelonlinePoller::PollOnce(TimePoint now) {
  PollOutcome out;
  bool transient_failure = false;
  for (const auto& s : impl_->config.series)
    if (!impl_->PollSeries(s, now, out)) transient_failure = true;
  if (transient_failure) {
    out.next_delay = impl_->backoff.Fail();
  } else {
    impl_->backoff.Reset();
    out.next_delay = impl_->config.interval;
  }
  return out;
}

void PegelonlinePoller::Start() {
  if (!impl_->thread)
    impl_->thread = std::make_unique<PollerThread>([this] {
      return PollOnce(std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()))
          .next_delay;
    });
  impl_->thread->Start();
}

void PegelonlinePoller::Stop() {
  if (impl_->thread) impl_->thread->Stop();
}

}  // namespace floodwarn::ingest
