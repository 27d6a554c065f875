// Child process of test_pipeline_crash: the real ingest path (MQTT source ->
// JSON decode -> pipeline -> SQLite store with cursor) that prints
// "ACK <seq>" for every reading only after the batch holding it committed.
// The parent SIGKILLs it at random points.
//   test_pipeline_crash_child PORT DB CLIENT_ID [batch|callback]
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/mqtt_source.hpp"
#include "floodwarn/ingest/reading_store.hpp"

namespace fi = floodwarn::ingest;

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s PORT DB CLIENT_ID [batch|callback]\n", argv[0]);
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  spdlog::set_level(spdlog::level::warn);
  try {
    prometheus::Registry registry;
    fi::ReadingStore store(argv[2]);
    fi::IngestPipeline pipeline(store, registry);
    fi::MqttSourceConfig config;
    config.port = std::stoi(argv[1]);
    config.client_id = argv[3];
    config.clean_session = false;
    config.topics = {"crash/#"};
    config.max_batch = 64;
    config.commit_in_callback = !(argc == 5 && std::string(argv[4]) == "batch");
    const std::string cursor_name = "mqtt:crash";
    fi::MqttSource source(config, [&](const std::vector<fi::MqttMessage>& batch) {
      std::vector<fi::DecodeResult> decoded;
      for (const auto& m : batch)
        decoded.push_back(fi::DecodeMqttJson(m.payload, m.topic, m.received));
      std::string acks;
      std::string last;
      for (const auto& d : decoded)
        for (const auto& r : d.readings) {
          last = std::to_string(static_cast<long>(r.value));
          acks += "ACK " + last + "\n";
        }
      pipeline.Ingest("mqtt", std::move(decoded), &cursor_name, &last);
      // committed: now acknowledge
      std::fwrite(acks.data(), 1, acks.size(), stdout);
      std::fflush(stdout);
    });
    source.Start();
    if (!source.WaitSubscribed(std::chrono::seconds(10))) {
      std::fprintf(stderr, "child: not subscribed within 10 s\n");
      return 3;
    }
    std::printf("READY\n");
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child: %s\n", e.what());
    return 1;
  }
}
