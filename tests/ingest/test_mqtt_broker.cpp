// MQTT source against a real mosquitto broker: QoS 1 delivery into the
// store, malformed messages counted and skipped, the persistent session
// keeps messages published while we are away, and the source reconnects
// after the broker restarts.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "floodwarn/ingest/ingest_pipeline.hpp"
#include "floodwarn/ingest/mqtt_json.hpp"
#include "floodwarn/ingest/mqtt_source.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "test_mqtt_broker_fixture.hpp"
#include "test_mqtt_rig.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
namespace ft = floodwarn::testing;
using namespace std::chrono_literals;

TEST(MqttBroker, QoS1MessagesReachStoreAndSubscribers) {
  ft::MosquittoBroker broker;
  ft::MqttRig rig(broker.port(), "floodwarn-ingest-test");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(source->WaitSubscribed(10s));
  ft::TestPublisher pub(broker.port());
  for (int i = 0; i < 100; ++i)
    pub.Publish("floodwarn/gauges/" + std::to_string(i % 5),
                ft::GaugeJson("S" + std::to_string(i % 5), i, i));
  pub.Publish("floodwarn/gauges/bad", "{not json");
  pub.Publish("floodwarn/gauges/batch", "[" + ft::GaugeJson("ARR", 0, 1) +
                                            ",{\"station\":\"ARR\"}," +
                                            ft::GaugeJson("ARR", 15, 2) + "]");
  pub.Publish("other/topic", ft::GaugeJson("IGNORED", 0, 1));  // outside the topic filter
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  ASSERT_TRUE(rig.recorder.WaitFor(102, 10s)) << rig.recorder.readings().size();
  std::this_thread::sleep_for(200ms);  // nothing more arrives
  EXPECT_EQ(rig.recorder.readings().size(), 102u);
  EXPECT_EQ(rig.store.Count(), 102u);
  EXPECT_EQ(rig.store.Latest("S3")->value, 98.0);
  EXPECT_EQ(rig.store.Query("ARR", fi::TimePoint{}, fi::TimePoint::max()).size(), 2u);
  EXPECT_FALSE(rig.store.Latest("IGNORED"));
  const std::string metrics = rig.Metrics();
  EXPECT_NE(metrics.find(R"(floodwarn_ingest_decode_errors_total{source="mqtt"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(R"(floodwarn_ingest_readings_total{flag="not_evaluated",source="mqtt"} 102)"),
      std::string::npos)
      << metrics;
  source->Stop();
}

TEST(MqttBroker, PersistentSessionKeepsMessagesPublishedWhileAway) {
  ft::MosquittoBroker broker;
  ft::MqttRig rig(broker.port(), "floodwarn-ingest-persistent");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(source->WaitSubscribed(10s));
  ft::TestPublisher pub(broker.port());
  pub.Publish("floodwarn/gauges/A", ft::GaugeJson("A", 0, 1));
  ASSERT_TRUE(rig.recorder.WaitFor(1, 10s));
  source->Stop();
  source.reset();
  // published while the ingest is down: the broker queues them for our session
  for (int i = 1; i <= 20; ++i) pub.Publish("floodwarn/gauges/A", ft::GaugeJson("A", i, i));
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(rig.recorder.WaitFor(21, 10s)) << rig.recorder.readings().size();
  EXPECT_EQ(rig.store.Count(), 21u);
  source->Stop();
}

TEST(MqttBroker, ReconnectsAfterBrokerRestart) {
  ft::MosquittoBroker broker;
  ft::MqttRig rig(broker.port(), "floodwarn-ingest-test");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(source->WaitSubscribed(10s));
  broker.Restart();  // sessions lost: the source must reconnect and subscribe again
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  bool delivered = false;
  int minute = 0;
  while (!delivered && std::chrono::steady_clock::now() < deadline) {
    if (source->WaitSubscribed(500ms)) {
      ft::TestPublisher pub(broker.port(), "floodwarn-test-publisher-2");
      pub.Publish("floodwarn/gauges/A", ft::GaugeJson("A", minute++, 1));
      ASSERT_TRUE(pub.WaitAllAcked(5s));
      delivered = rig.recorder.WaitFor(1, 2s);
    }
  }
  EXPECT_TRUE(delivered);
  EXPECT_GE(source->stats().connects, 2u);
  source->Stop();
}

TEST(MqttBroker, ConfigErrorsAreClear) {
  fi::MqttSourceConfig c;
  c.client_id = "x";
  auto h = [](const std::vector<fi::MqttMessage>&) {};
  EXPECT_THROW(fi::MqttSource(c, h), std::invalid_argument);  // no topics
  c.topics = {"a/#/b"};
  try {
    fi::MqttSource s(c, h);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("a/#/b"), std::string::npos);
  }
  c.topics = {"a/#"};
  c.client_id.clear();
  EXPECT_THROW(fi::MqttSource(c, h), std::invalid_argument);  // persistent session without id
}
