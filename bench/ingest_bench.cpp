// Ingest benchmark (issue 4): sustained readings/s through decode (MQTT JSON)
// + QC (station registry: gross range, climatology, spike, rate of change,
// flat line) + durable store (SQLite WAL, synchronous FULL) in batches, and
// reading-to-event latency (message arrival -> IngestSubscriber::OnReading,
// i.e. after the commit) at a steady offered load.
//
//   ingest_bench [--readings N] [--stations S] [--batch B] [--rate R] [--no-qc]
//                [--sync-normal] [--dir DIR]
//
// No broker in the loop: the MQTT network path is measured by the crash and
// broker tests; this measures what the ingest process does per reading.
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace fi = floodwarn::ingest;
using SteadyClock = std::chrono::steady_clock;

namespace {

// 2024-01-01T00:00:00Z
constexpr long long kT0s = 1704067200LL;

std::string Iso(long long epoch_s) {
  return floodwarn::common::FormatIso8601(
      floodwarn::common::TimePoint(std::chrono::seconds(epoch_s)));
}

// Reading number `seq`: station seq % S, observed at T0 + seq s (unique),
// a smooth level with some noise.
std::string Message(long long seq, int stations) {
  const double level = 200.0 + 80.0 * std::sin(static_cast<double>(seq) / 5000.0) +
                       static_cast<double>((seq * 7919) % 13) * 0.1;
  return fmt::format(R"({{"station":"G{:04}","time":"{}","value":{:.1f},"unit":"cm"}})",
                     seq % stations, Iso(kT0s + seq), level);
}

fi::StationRegistry Registry(int stations) {
  std::vector<fi::Station> v;
  for (int i = 0; i < stations; ++i) {
    fi::Station s;
    s.id = fmt::format("G{:04}", i);
    s.name = s.id;
    s.unit = "cm";
    s.expected_interval = std::chrono::seconds(900);
    s.qc.gross_min = 0;
    s.qc.gross_max = 900;
    s.qc.climate_min = 20;
    s.qc.climate_max = 750;
    s.qc.spike_suspect = 25;
    s.qc.spike_fail = 60;
    s.qc.max_rate_per_hour = 100;
    s.qc.flat_suspect_count = 8;
    s.qc.flat_fail_count = 16;
    s.qc.flat_epsilon = 0.01;
    v.push_back(std::move(s));
  }
  return fi::StationRegistry(std::move(v));
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

class LatencyProbe : public fi::IngestSubscriber {
 public:
  explicit LatencyProbe(const std::vector<SteadyClock::time_point>* arrival) : arrival_(arrival) {}
  void OnReading(const fi::Reading& r) override {
    const auto now = SteadyClock::now();
    const long long seq = r.observed.time_since_epoch().count() / 1000 - kT0s;
    if (arrival_ && seq >= 0 && static_cast<std::size_t>(seq) < arrival_->size())
      latency_ms.push_back(std::chrono::duration<double, std::milli>(
                               now - (*arrival_)[static_cast<std::size_t>(seq)])
                               .count());
    ++events;
  }
  void OnStationHealth(const fi::StationHealthEvent&) override {}
  std::vector<double> latency_ms;
  std::size_t events = 0;

 private:
  const std::vector<SteadyClock::time_point>* arrival_;
};

struct Setup {
  Setup(const std::string& dir, bool sync_full, bool qc, int stations)
      : registry_stations(Registry(stations)),
        store(dir + "/bench.db", Options(sync_full)),
        pipeline(store, registry,
                 qc ? fi::PipelineOptionsFromRegistry(registry_stations, store)
                    : fi::IngestPipelineOptions{}) {}
  static fi::ReadingStoreOptions Options(bool sync_full) {
    fi::ReadingStoreOptions o;
    o.synchronous_full = sync_full;
    return o;
  }
  prometheus::Registry registry;
  fi::StationRegistry registry_stations;
  fi::ReadingStore store;
  fi::IngestPipeline pipeline;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodwarn ingest benchmark"};
  long long readings = 200000;
  int stations = 500;
  std::size_t batch = 5000;
  double rate = 20000;
  bool no_qc = false, sync_normal = false;
  std::string dir;
  app.add_option("--readings", readings, "readings in the throughput run");
  app.add_option("--stations", stations, "number of stations");
  app.add_option("--batch", batch, "messages per transaction (throughput run)");
  app.add_option("--rate", rate, "offered readings/s in the latency run (0 = skip)");
  app.add_flag("--no-qc", no_qc, "skip QC");
  app.add_flag("--sync-normal", sync_normal, "synchronous=NORMAL instead of FULL");
  app.add_option("--dir", dir, "directory for the database (default: a temp dir)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / fmt::format("ingest_bench_{}", getpid()))
              .string();
  }
  std::filesystem::create_directories(dir);
  fmt::print("ingest_bench: {} readings, {} stations, batch {}, QC {}, synchronous {}, dir {}\n",
             readings, stations, batch, no_qc ? "off" : "on", sync_normal ? "NORMAL" : "FULL", dir);

  // Throughput: decode + QC + store + events, batches of `batch` messages.
  std::vector<std::string> messages;
  messages.reserve(static_cast<std::size_t>(readings));
  for (long long i = 0; i < readings; ++i) messages.push_back(Message(i, stations));
  {
    const auto t0 = SteadyClock::now();
    std::size_t decoded = 0;
    for (const auto& m : messages)
      decoded += fi::DecodeMqttJson(m, "bench", fi::TimePoint{}).readings.size();
    const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    fmt::print("decode only:                {:>10.0f} readings/s ({} readings)\n", decoded / s,
               decoded);
  }
  {
    // Store alone: decoded readings, batches of `batch`, one commit each.
    std::filesystem::create_directories(dir + "/store");
    fi::ReadingStore store(dir + "/store/bench.db", Setup::Options(!sync_normal));
    std::vector<fi::Reading> all;
    all.reserve(messages.size());
    for (const auto& m : messages)
      for (auto& r : fi::DecodeMqttJson(m, "bench", fi::TimePoint{}).readings)
        all.push_back(std::move(r));
    const auto t0 = SteadyClock::now();
    for (std::size_t i = 0; i < all.size(); i += batch)
      store.Write(std::vector<fi::Reading>(
          all.begin() + static_cast<long>(i),
          all.begin() + static_cast<long>(std::min(all.size(), i + batch))));
    const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    fmt::print("store only:                 {:>10.0f} readings/s\n", all.size() / s);
  }
  {
    // Two threads, as in the live process (2 cores): one decodes message
    // batches, the other runs QC + store + events on the previous batch.
    std::filesystem::create_directories(dir + "/tp");
    Setup setup(dir + "/tp", !sync_normal, !no_qc, stations);
    LatencyProbe probe(nullptr);
    setup.pipeline.AddSubscriber(&probe);
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::vector<fi::DecodeResult>> ready;  // at most 2 batches ahead
    bool finished = false;
    std::size_t inserted = 0;
    const auto t0 = SteadyClock::now();
    std::thread store_thread([&] {
      for (;;) {
        std::vector<fi::DecodeResult> b;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return finished || !ready.empty(); });
          if (ready.empty()) return;
          b = std::move(ready.front());
          ready.pop_front();
        }
        cv.notify_all();
        inserted += setup.pipeline.Ingest("mqtt", std::move(b)).inserted;
      }
    });
    for (std::size_t i = 0; i < messages.size(); i += batch) {
      std::vector<fi::DecodeResult> decoded;
      decoded.reserve(batch);
      const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now());
      for (std::size_t j = i; j < std::min(messages.size(), i + batch); ++j)
        decoded.push_back(fi::DecodeMqttJson(messages[j], "bench", now));
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return ready.size() < 2; });
      ready.push_back(std::move(decoded));
      cv.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
    }
    cv.notify_all();
    store_thread.join();
    const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    fmt::print(
        "decode | QC + store + event (2 threads):{:>10.0f} readings/s ({} inserted, {} events, "
        "{:.2f} s)\n",
        static_cast<double>(inserted) / s, inserted, probe.events, s);
  }

  // Latency at a steady offered load: a producer paces messages, the
  // consumer takes whatever has arrived (natural batching, as MqttSource's
  // batch mode) and ingests it; latency = arrival -> OnReading.
  if (rate > 0) {
    std::filesystem::create_directories(dir + "/lat");
    const long long n = std::min<long long>(readings, static_cast<long long>(rate * 10));
    Setup setup(dir + "/lat", !sync_normal, !no_qc, stations);
    std::vector<SteadyClock::time_point> arrival(static_cast<std::size_t>(n));
    LatencyProbe probe(&arrival);
    setup.pipeline.AddSubscriber(&probe);
    std::mutex mu;
    std::condition_variable cv;
    std::deque<long long> queue;
    bool done = false;
    std::vector<std::size_t> batch_sizes;
    std::thread consumer([&] {
      for (;;) {
        std::vector<long long> take;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return done || !queue.empty(); });
          if (queue.empty() && done) return;
          take.assign(queue.begin(), queue.end());
          queue.clear();
        }
        batch_sizes.push_back(take.size());
        std::vector<fi::DecodeResult> decoded;
        const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now());
        for (long long seq : take)
          decoded.push_back(
              fi::DecodeMqttJson(messages[static_cast<std::size_t>(seq)], "bench", now));
        setup.pipeline.Ingest("mqtt", std::move(decoded));
      }
    });
    const auto start = SteadyClock::now();
    for (long long seq = 0; seq < n; ++seq) {
      const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(seq) / rate));
      std::this_thread::sleep_until(due);
      {
        std::lock_guard<std::mutex> lock(mu);
        arrival[static_cast<std::size_t>(seq)] = SteadyClock::now();
        queue.push_back(seq);
      }
      cv.notify_one();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_one();
    consumer.join();
    const double s = std::chrono::duration<double>(SteadyClock::now() - start).count();
    double mean_batch = 0;
    for (auto b : batch_sizes) mean_batch += static_cast<double>(b);
    mean_batch /= std::max<std::size_t>(1, batch_sizes.size());
    fmt::print(
        "latency at {:.0f} readings/s offered ({} readings, {:.1f} s, {} commits, mean batch "
        "{:.1f}):\n  reading-to-event p50 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n",
        rate, n, s, batch_sizes.size(), mean_batch, Percentile(probe.latency_ms, 0.50),
        Percentile(probe.latency_ms, 0.99), Percentile(probe.latency_ms, 1.0));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
