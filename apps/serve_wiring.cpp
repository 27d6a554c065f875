// `floodwarn serve` wiring: channels and live inputs around the engine.
#include "serve_wiring.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/ingest/ingest_config.hpp"
#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/mqtt_source.hpp"
#include "floodwarn/ingest/pegelonline.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/sensorthings.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "floodwarn/ingest/ttn.hpp"

namespace floodwarn::apps {

namespace {

namespace fa = floodwarn::alerting;
namespace fi = floodwarn::ingest;

fi::TimePoint Now() {
  return std::chrono::time_point_cast<fi::TimePoint::duration>(fi::Clock::now());
}

// Forwards committed ingest events to the engine. A failing engine call (its
// store) is logged; the reading is already durable in the reading store.
class EngineSubscriber : public fi::IngestSubscriber {
 public:
  explicit EngineSubscriber(fa::AlertEngine& engine) : engine_(engine) {}
  void OnReading(const fi::Reading& reading) override {
    try {
      engine_.OnReading(reading);
    } catch (const std::exception& e) {
      spdlog::error("event=engine_reading_failed station={} error=\"{}\"", reading.station_id,
                    e.what());
    }
  }
  void OnStationHealth(const fi::StationHealthEvent& event) override {
    try {
      engine_.OnStationHealth(event);
    } catch (const std::exception& e) {
      spdlog::error("event=engine_health_failed station={} error=\"{}\"", event.station_id,
                    e.what());
    }
  }

 private:
  fa::AlertEngine& engine_;
};

// The engine's commit listener outlives nothing: it reaches the dispatchers
// through this, which Stop() empties.
struct WakeList {
  std::mutex mu;
  std::vector<fa::ChannelDispatcher*> dispatchers;
};

}  // namespace

struct ServeWiring::Impl {
  // channels
  std::shared_ptr<WakeList> wake = std::make_shared<WakeList>();
  std::vector<std::unique_ptr<fa::ChannelDispatcher>> dispatchers;
  // ingest
  std::unique_ptr<fi::ReadingStore> readings;
  const fi::StationRegistry* stations = nullptr;  // the caller's
  std::unique_ptr<EngineSubscriber> subscriber;
  std::unique_ptr<fi::IngestPipeline> pipeline;
  std::vector<std::unique_ptr<fi::MqttSource>> mqtt;
  std::vector<std::string> mqtt_names;  // "mqtt:NAME", parallel to mqtt
  std::vector<std::unique_ptr<fi::PegelonlinePoller>> pegelonline;
  std::vector<std::unique_ptr<fi::SensorThingsPoller>> sensorthings;
  std::thread stale_timer;
  std::mutex timer_mu;
  std::condition_variable timer_cv;
  bool stopping = false;
  bool stopped = false;

  void StartChannels(const common::TomlFile& config, fa::AlertEngine& engine, fa::AlertStore& store,
                     prometheus::Registry& registry);
  // The MQTT sources' connection totals into the metrics (on the timer).
  void SampleSourceMetrics() {
    for (std::size_t i = 0; i < mqtt.size(); ++i) {
      const fi::MqttSourceStats st = mqtt[i]->stats();
      pipeline->metrics().SetConnectionTotals(mqtt_names[i], st.connects, st.connect_failures);
    }
  }
  void StartIngest(const fi::IngestConfig& cfg, const fi::StationRegistry& registry_stations,
                   fa::AlertEngine& engine, prometheus::Registry& registry);
};

void ServeWiring::Impl::StartChannels(const common::TomlFile& config, fa::AlertEngine& engine,
                                      fa::AlertStore& store, prometheus::Registry& registry) {
  const std::string& path = config.path;
  const std::vector<fa::ChannelConfig> channels = fa::ParseChannelsConfig(config);
  const fa::RulesConfig& rules = engine.rules();
  bool escalation = rules.engine.escalation_after.has_value();
  for (const auto& r : rules.rules) escalation = escalation || r.escalation_after.has_value();
  const std::string esc =
      fa::CheckEscalationChannel(channels, rules.engine.escalation_channel, escalation);
  if (!esc.empty()) throw std::runtime_error(fmt::format("{}: {}", path, esc));
  std::vector<std::string> area_ids;
  for (const auto& a : rules.areas) area_ids.push_back(a.id);
  const std::vector<std::string> problems = fa::CheckChannelAreas(channels, area_ids);
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  " + p;
    throw std::runtime_error(fmt::format("{}: [[channels]] name unknown areas:{}", path, all));
  }
  for (const auto& c : channels) {
    dispatchers.push_back(
        std::make_unique<fa::ChannelDispatcher>(fa::MakeChannel(c), store, &registry));
    dispatchers.back()->Start();
    spdlog::info("event=channel_started channel={} type={} url={}", c.name, fa::ToString(c.type),
                 c.url);
  }
  {
    std::lock_guard<std::mutex> lock(wake->mu);
    for (auto& d : dispatchers) wake->dispatchers.push_back(d.get());
  }
  if (!dispatchers.empty()) {
    engine.AddCommitListener([w = wake](const std::vector<fa::AlertEvent>&) {
      std::lock_guard<std::mutex> lock(w->mu);
      for (auto* d : w->dispatchers) d->Wake();
    });
  }
}

void ServeWiring::Impl::StartIngest(const fi::IngestConfig& cfg,
                                    const fi::StationRegistry& registry_stations,
                                    fa::AlertEngine& engine, prometheus::Registry& registry) {
  stations = &registry_stations;
  readings = std::make_unique<fi::ReadingStore>(cfg.store_path);
  // Stale factors (with [ingest] stale_after_intervals applied) come from the
  // registry, the same ones the engine's stations carry.
  fi::IngestPipelineOptions options = fi::PipelineOptionsFromRegistry(*stations, *readings);
  for (const auto& s : stations->stations()) {
    if (std::none_of(engine.rules().stations.begin(), engine.rules().stations.end(),
                     [&](const auto& rs) { return rs.id() == s.id; }))
      spdlog::warn("event=station_not_in_rules station={} (stored, no rule evaluates it)", s.id);
  }
  // The engine keeps its rain/rise windows and its timers (minimum time
  // above, dwell) only in memory: rebuild them from the stored readings
  // before any new reading arrives, so a restart neither blinds a 6-hour
  // rain rule nor restarts a pending level's clock.
  {
    const auto now = Now();
    std::vector<fi::Reading> recent;
    for (const auto& [station, window] : engine.PreloadWindows()) {
      std::vector<fi::Reading> r = readings->Query(station, now - window, now);
      recent.insert(recent.end(), std::make_move_iterator(r.begin()),
                    std::make_move_iterator(r.end()));
    }
    engine.Preload(recent);
  }
  pipeline = std::make_unique<fi::IngestPipeline>(*readings, registry, std::move(options));
  subscriber = std::make_unique<EngineSubscriber>(engine);
  pipeline->AddSubscriber(subscriber.get());
  // Before any source runs: stations that have been silent since the last
  // process are reported stale at once.
  pipeline->CheckStale(Now());

  for (const auto& m : cfg.mqtt) {
    const std::string source = "mqtt:" + m.name;
    fi::MqttMessageDecoder decode;
    if (m.format == fi::MqttPayloadFormat::kJson) {
      decode = [source](const fi::MqttMessage& msg) {
        return fi::DecodeMqttJson(msg.payload, msg.topic, msg.received, source);
      };
    } else {
      decode = [source, ttn = m.ttn](const fi::MqttMessage& msg) {
        return fi::DecodeTtnUplink(msg.payload, msg.topic, ttn, msg.received, source);
      };
    }
    mqtt.push_back(std::make_unique<fi::MqttSource>(
        m.source, fi::MakeMqttIngestHandler(*pipeline, source, std::move(decode))));
    mqtt_names.push_back(source);
    mqtt.back()->Start();
    spdlog::info("event=mqtt_source_started source={} broker={}:{} topics={}", source,
                 m.source.host, m.source.port, fmt::join(m.source.topics, ","));
  }
  for (const auto& p : cfg.pegelonline) {
    pegelonline.push_back(std::make_unique<fi::PegelonlinePoller>(p, *pipeline, *readings));
    pegelonline.back()->Start();
  }
  for (const auto& p : cfg.sensorthings) {
    sensorthings.push_back(std::make_unique<fi::SensorThingsPoller>(p, *pipeline, *readings));
    sensorthings.back()->Start();
  }

  const auto every = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.check_interval);
  stale_timer = std::thread([this, every] {
    // Readings past the store's retention are pruned hourly (and at start).
    auto next_prune = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(timer_mu);
    while (!timer_cv.wait_for(lock, every, [this] { return stopping; })) {
      lock.unlock();
      try {
        pipeline->CheckStale(Now());
        SampleSourceMetrics();
        if (std::chrono::steady_clock::now() >= next_prune) {
          next_prune = std::chrono::steady_clock::now() + std::chrono::hours(1);
          const std::size_t n = readings->Prune(Now());
          if (n > 0) spdlog::info("event=readings_pruned count={}", n);
        }
      } catch (const std::exception& e) {
        spdlog::error("event=ingest_timer_failed error=\"{}\"", e.what());
      }
      lock.lock();
    }
  });
  spdlog::info("event=ingest_started stations={} store={} mqtt={} pollers={}", stations->size(),
               readings->path(), mqtt.size(), pegelonline.size() + sensorthings.size());
}

fi::StationRegistry LoadServeStations(const fi::IngestConfig& ingest) {
  fi::StationRegistry registry = fi::LoadStations(ingest.stations_file);
  if (!ingest.stale_after_intervals) return registry;
  std::vector<fi::Station> stations = registry.stations();
  for (fi::Station& s : stations) s.qc.stale_factor = *ingest.stale_after_intervals;
  return fi::StationRegistry(std::move(stations));
}

ServeWiring::ServeWiring(const common::TomlFile& config,
                         const std::optional<ingest::IngestConfig>& ingest,
                         const ingest::StationRegistry* stations, alerting::AlertEngine& engine,
                         alerting::AlertStore& store, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>()) {
  if (ingest && stations == nullptr)
    throw std::logic_error("ServeWiring: [ingest] without its station registry");
  try {
    impl_->StartChannels(config, engine, store, registry);
    if (ingest) impl_->StartIngest(*ingest, *stations, engine, registry);
  } catch (...) {
    Stop();
    throw;
  }
}

ServeWiring::~ServeWiring() { Stop(); }

const ingest::ReadingStore* ServeWiring::readings() const { return impl_->readings.get(); }

void ServeWiring::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  {
    std::lock_guard<std::mutex> lock(s.timer_mu);
    s.stopping = true;
  }
  s.timer_cv.notify_all();
  if (s.stale_timer.joinable()) s.stale_timer.join();
  for (auto it = s.sensorthings.rbegin(); it != s.sensorthings.rend(); ++it) (*it)->Stop();
  for (auto it = s.pegelonline.rbegin(); it != s.pegelonline.rend(); ++it) (*it)->Stop();
  for (auto it = s.mqtt.rbegin(); it != s.mqtt.rend(); ++it) (*it)->Stop();
  {
    std::lock_guard<std::mutex> lock(s.wake->mu);
    s.wake->dispatchers.clear();
  }
  for (auto it = s.dispatchers.rbegin(); it != s.dispatchers.rend(); ++it) (*it)->Stop();
}

}  // namespace floodwarn::apps
