// MQTT over TLS against a real mosquitto broker with a TLS listener and a
// throwaway PKI (tests/alerting/pki.sh, generated at test time): readings
// arrive over TLS; a broker whose certificate does not chain to our CA, or
// does not carry the host name we dialled, is refused and reported, and
// nothing from it is delivered; with require_certificate the broker refuses
// a source without (or with a foreign) client certificate and accepts ours.
// Also the [[ingest.mqtt]] TLS keys: relative paths, errors naming
// file:line:key, and the warning for a clear-text password over the network.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "floodwarn/ingest/ingest_config.hpp"
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

namespace {

// One PKI for the whole file: ca (signs the broker and "client"), other-ca
// (signs "intruder"). Generated once, never committed.
const std::string& Pki() {
  static const std::string dir = [] {
    const std::string d = ft::MakeTempDir("mqtt_tls_pki");
    ft::MakeTestPki(d, "client");
    return d;
  }();
  return dir;
}
std::string PkiFile(const std::string& name) { return Pki() + "/" + name; }

ft::BrokerOptions TlsBroker(bool require_certificate = false) {
  ft::BrokerOptions o;
  o.tls = ft::BrokerTls{PkiFile("ca.pem"), PkiFile("server.pem"), PkiFile("server.key"),
                        require_certificate};
  return o;
}

ft::ClientTls PublisherTls(bool with_cert = false) {
  ft::ClientTls t;
  t.ca_file = PkiFile("ca.pem");
  if (with_cert) {
    t.cert_file = PkiFile("client.pem");
    t.key_file = PkiFile("client.key");
  }
  return t;
}

// Waits until the source has counted a failed connection attempt.
bool WaitConnectFailure(const fi::MqttSource& s, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (s.stats().connect_failures > 0) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Publishes over TLS (trusted, so the broker has the messages) to a source
// that must not get them: after a few reconnect periods it has none.
void ExpectNothingDelivered(int port, ft::MqttRig& rig, fi::MqttSource& source, bool publisher_cert,
                            const std::string& host = "127.0.0.1") {
  ft::TestPublisher pub(port, "floodwarn-tls-publisher", PublisherTls(publisher_cert), host);
  for (int i = 0; i < 3; ++i) pub.Publish("floodwarn/gauges/A", ft::GaugeJson("A", i, i));
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  std::this_thread::sleep_for(2500ms);  // > 2 reconnect attempts (reconnect_max = 1s)
  const fi::MqttSourceStats st = source.stats();
  EXPECT_EQ(st.connects, 0u);
  EXPECT_EQ(st.messages, 0u);
  EXPECT_FALSE(source.connected());
  EXPECT_EQ(rig.recorder.size(), 0u);
  EXPECT_EQ(rig.store.Count(), 0u);
}

// Starts `source` and checks that the TLS handshake refuses it: a failed
// connection, nothing delivered after a few retries, and a last error that
// contains `why`.
void ExpectRefused(const ft::MosquittoBroker& broker, ft::MqttRig& rig, fi::MqttSource& source,
                   bool publisher_cert, const std::string& why) {
  source.Start();
  ASSERT_TRUE(WaitConnectFailure(source, 10s)) << broker.Log();
  ExpectNothingDelivered(broker.port(), rig, source, publisher_cert);
  const std::string error = source.stats().last_error;
  EXPECT_NE(error.find(why), std::string::npos) << error;
}

}  // namespace

TEST(MqttTls, ReadingsArriveOverTls) {
  ft::MosquittoBroker broker(TlsBroker());
  ft::MqttRig rig(broker.port(), "floodwarn-tls-ok", 1s);
  rig.config.tls_ca_file = PkiFile("ca.pem");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(source->WaitSubscribed(10s)) << source->stats().last_error << "\n" << broker.Log();
  ft::TestPublisher pub(broker.port(), "floodwarn-tls-publisher", PublisherTls());
  for (int i = 0; i < 5; ++i) pub.Publish("floodwarn/gauges/A", ft::GaugeJson("A", i, 100 + i));
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  ASSERT_TRUE(rig.recorder.WaitFor(5, 10s)) << rig.recorder.size();
  EXPECT_EQ(rig.store.Count(), 5u);
  EXPECT_EQ(rig.store.Latest("A")->value, 104.0);
  const fi::MqttSourceStats st = source->stats();
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.connect_failures, 0u);
  EXPECT_EQ(st.last_error, "");
  source->Stop();
}

// The listener above speaks only TLS: a source without TLS gets nowhere, so
// the test above really went over TLS.
TEST(MqttTls, PlainSourceCannotUseTlsListener) {
  ft::MosquittoBroker broker(TlsBroker());
  ft::MqttRig rig(broker.port(), "floodwarn-tls-plain", 1s);
  auto source = rig.MakeSource();
  source->Start();
  EXPECT_FALSE(source->WaitSubscribed(3s));
  ExpectNothingDelivered(broker.port(), rig, *source, false);
  source->Stop();
}

TEST(MqttTls, BrokerCertificateFromUntrustedCaIsRefused) {
  ft::MosquittoBroker broker(TlsBroker());
  ft::MqttRig rig(broker.port(), "floodwarn-tls-untrusted", 1s);
  rig.config.tls_ca_file = PkiFile("other-ca.pem");  // did not sign the broker's certificate
  auto source = rig.MakeSource();
  ExpectRefused(broker, rig, *source, false, "certificate verify failed");
  EXPECT_GE(source->stats().connect_failures, 2u);  // retried, and each attempt refused again
  source->Stop();
}

// The broker (on 127.0.0.2) presents a certificate from our CA, but for
// 127.0.0.1 / localhost: the name check must refuse it.
TEST(MqttTls, BrokerCertificateForAnotherNameIsRefused) {
  ft::BrokerOptions options = TlsBroker();
  options.bind_address = "127.0.0.2";
  ft::MosquittoBroker broker(options);
  ft::MqttRig rig(broker.port(), "floodwarn-tls-name", 1s);
  rig.config.host = "127.0.0.2";
  rig.config.tls_ca_file = PkiFile("ca.pem");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(WaitConnectFailure(*source, 10s));
  // libmosquitto checks the name itself (not OpenSSL's host check), so the
  // publisher, which verifies too, cannot publish here: no messages at all.
  std::this_thread::sleep_for(2500ms);
  const fi::MqttSourceStats st = source->stats();
  EXPECT_EQ(st.connects, 0u);
  EXPECT_FALSE(source->connected());
  EXPECT_NE(st.last_error.find("host name verification failed"), std::string::npos)
      << st.last_error;
  source->Stop();
}

// A TLS failure does not end the source (libmosquitto's own loop would stop
// for good): once the broker presents a certificate from our CA, it connects.
TEST(MqttTls, KeepsRetryingAfterTlsFailureAndConnectsWhenBrokerIsFixed) {
  const std::string foreign = ft::MakeTempDir("mqtt_tls_pki_foreign");
  ft::MakeTestPki(foreign, "client");  // another CA, another server certificate
  ft::BrokerOptions wrong;
  wrong.tls = ft::BrokerTls{foreign + "/ca.pem", foreign + "/server.pem", foreign + "/server.key"};
  auto broker = std::make_unique<ft::MosquittoBroker>(wrong);
  const int port = broker->port();
  ft::MqttRig rig(port, "floodwarn-tls-fixed", 1s);
  rig.config.tls_ca_file = PkiFile("ca.pem");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(WaitConnectFailure(*source, 10s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_GE(source->stats().connect_failures, 2u);
  broker.reset();
  ft::BrokerOptions right = TlsBroker();
  right.port = port;
  ft::MosquittoBroker fixed(right);
  ASSERT_TRUE(source->WaitSubscribed(15s)) << source->stats().last_error;
  ft::TestPublisher pub(port, "floodwarn-tls-publisher", PublisherTls());
  pub.Publish("floodwarn/gauges/C", ft::GaugeJson("C", 0, 42));
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  ASSERT_TRUE(rig.recorder.WaitFor(1, 10s));
  EXPECT_EQ(rig.store.Latest("C")->value, 42.0);
  EXPECT_EQ(source->stats().connects, 1u);
  source->Stop();
}

TEST(MqttTls, RequireCertificateRefusesSourceWithoutClientCertificate) {
  ft::MosquittoBroker broker(TlsBroker(/*require_certificate=*/true));
  ft::MqttRig rig(broker.port(), "floodwarn-tls-nocert", 1s);
  rig.config.tls_ca_file = PkiFile("ca.pem");
  auto source = rig.MakeSource();
  ExpectRefused(broker, rig, *source, /*publisher_cert=*/true,
                "certificate required");  // TLS 1.3 alert
  source->Stop();
}

TEST(MqttTls, RequireCertificateRefusesCertificateFromAnotherCa) {
  ft::MosquittoBroker broker(TlsBroker(/*require_certificate=*/true));
  ft::MqttRig rig(broker.port(), "floodwarn-tls-intruder", 1s);
  rig.config.tls_ca_file = PkiFile("ca.pem");
  rig.config.tls_cert_file = PkiFile("intruder.pem");
  rig.config.tls_key_file = PkiFile("intruder.key");
  auto source = rig.MakeSource();
  ExpectRefused(broker, rig, *source, /*publisher_cert=*/true, "unknown ca");  // the broker's alert
  source->Stop();
}

TEST(MqttTls, RequireCertificateAcceptsOurClientCertificate) {
  ft::MosquittoBroker broker(TlsBroker(/*require_certificate=*/true));
  ft::MqttRig rig(broker.port(), "floodwarn-tls-client", 1s);
  rig.config.tls_ca_file = PkiFile("ca.pem");
  rig.config.tls_cert_file = PkiFile("client.pem");
  rig.config.tls_key_file = PkiFile("client.key");
  auto source = rig.MakeSource();
  source->Start();
  ASSERT_TRUE(source->WaitSubscribed(10s)) << source->stats().last_error << "\n" << broker.Log();
  ft::TestPublisher pub(broker.port(), "floodwarn-tls-publisher", PublisherTls(true));
  for (int i = 0; i < 3; ++i) pub.Publish("floodwarn/gauges/B", ft::GaugeJson("B", i, 7 + i));
  ASSERT_TRUE(pub.WaitAllAcked(10s));
  ASSERT_TRUE(rig.recorder.WaitFor(3, 10s)) << rig.recorder.size();
  EXPECT_EQ(rig.store.Count(), 3u);
  EXPECT_EQ(rig.store.Latest("B")->value, 9.0);
  EXPECT_EQ(source->stats().connect_failures, 0u);
  source->Stop();
}

// ---- MqttSource constructor: TLS files checked before anything connects ----

namespace {

std::string ConstructionError(const fi::MqttSourceConfig& c) {
  try {
    fi::MqttSource s(c, [](const std::vector<fi::MqttMessage>&) {});
    return "";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

fi::MqttSourceConfig TlsSourceConfig() {
  fi::MqttSourceConfig c;
  c.client_id = "x";
  c.topics = {"a/#"};
  c.tls_ca_file = PkiFile("ca.pem");
  return c;
}

}  // namespace

TEST(MqttTlsConfig, SourceRejectsUnusableTlsFiles) {
  EXPECT_EQ(ConstructionError(TlsSourceConfig()), "");

  auto c = TlsSourceConfig();
  c.tls_ca_file = Pki() + "/missing-ca.pem";
  std::string e = ConstructionError(c);
  EXPECT_NE(e.find("tls_ca_file: " + Pki() + "/missing-ca.pem: cannot read"), std::string::npos)
      << e;

  c = TlsSourceConfig();
  c.tls_ca_file = PkiFile("ca.key");  // a key, not a certificate
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_ca_file: " + PkiFile("ca.key") + ": no usable PEM CA certificate"),
            std::string::npos)
      << e;

  c = TlsSourceConfig();
  c.tls_cert_file = PkiFile("client.pem");
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_cert_file: needs tls_key_file"), std::string::npos) << e;

  c = TlsSourceConfig();
  c.tls_key_file = PkiFile("client.key");
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_key_file: needs tls_cert_file"), std::string::npos) << e;

  c = TlsSourceConfig();
  c.tls_cert_file = PkiFile("client.pem");
  c.tls_key_file = PkiFile("intruder.key");  // someone else's key
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_key_file: " + PkiFile("intruder.key") + ": is not the key of"),
            std::string::npos)
      << e;

  c = TlsSourceConfig();
  c.tls_cert_file = PkiFile("client.key");  // swapped
  c.tls_key_file = PkiFile("client.pem");
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_cert_file: " + PkiFile("client.key") + ": not a usable PEM certificate"),
            std::string::npos)
      << e;

  c = TlsSourceConfig();
  c.tls_version = "tlsv1.1";
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_version: \"tlsv1.1\": expected tlsv1.2 or tlsv1.3"), std::string::npos)
      << e;

  c = TlsSourceConfig();
  c.tls_ca_file.clear();  // client certificate without TLS: a mistake, not plain TCP
  c.tls_cert_file = PkiFile("client.pem");
  c.tls_key_file = PkiFile("client.key");
  e = ConstructionError(c);
  EXPECT_NE(e.find("tls_cert_file: needs tls_ca_file"), std::string::npos) << e;
}

// ---- [[ingest.mqtt]] TLS keys ----

namespace {

// Writes `mqtt_lines` as the body of one [[ingest.mqtt]] table whose first
// key is on line 5 of <dir>/service.toml; returns the config path.
std::string WriteServiceConfig(const std::string& dir, const std::string& mqtt_lines) {
  const std::string path = dir + "/service.toml";
  std::ofstream(path) << "[ingest]\n"                           // 1
                      << "stations_file = \"stations.toml\"\n"  // 2
                      << "store = \"readings.db\"\n"            // 3
                      << "[[ingest.mqtt]]\n"                    // 4
                      << mqtt_lines;                            // 5...
  return path;
}

const char* kMqttHead =
    "client_id = \"floodwarn-1\"\n"  // 5
    "topic = \"gauges/#\"\n";        // 6

std::string LoadError(const std::string& path) {
  try {
    fi::LoadIngestConfig(path);
    return "";
  } catch (const fi::IngestConfigError& e) {
    return e.what();
  }
}

// A config dir with the PKI files copied to <dir>/pki/ (relative paths).
std::string ConfigDirWithPki() {
  const std::string dir = ft::MakeTempDir("mqtt_tls_config");
  std::filesystem::create_directories(dir + "/pki");
  for (const char* f : {"ca.pem", "client.pem", "client.key", "intruder.key"})
    std::filesystem::copy_file(PkiFile(f), dir + "/pki/" + f);
  std::ofstream(dir + "/mqtt.password") << "s3cret\n";
  return dir;
}

// Captures what the default spdlog logger writes while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

}  // namespace

TEST(MqttTlsConfig, RelativeTlsPathsResolveAgainstTheConfigFile) {
  const std::string dir = ConfigDirWithPki();
  const std::string path = WriteServiceConfig(dir, std::string(kMqttHead) +
                                                       "host = \"broker.example.org\"\n"
                                                       "port = 8883\n"
                                                       "tls_ca_file = \"pki/ca.pem\"\n"
                                                       "tls_cert_file = \"pki/client.pem\"\n"
                                                       "tls_key_file = \"pki/client.key\"\n"
                                                       "tls_version = \"tlsv1.3\"\n");
  const auto c = fi::LoadIngestConfig(path);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->mqtt.size(), 1u);
  const fi::MqttSourceConfig& s = c->mqtt[0].source;
  EXPECT_EQ(s.tls_ca_file, dir + "/pki/ca.pem");
  EXPECT_EQ(s.tls_cert_file, dir + "/pki/client.pem");
  EXPECT_EQ(s.tls_key_file, dir + "/pki/client.key");
  EXPECT_EQ(s.tls_version, "tlsv1.3");
  EXPECT_EQ(s.port, 8883);
}

TEST(MqttTlsConfig, ErrorsNameFileLineAndKey) {
  const std::string dir = ConfigDirWithPki();
  const std::string file = dir + "/service.toml";
  // cert without key: the cert's line
  std::string e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) +
                                                        "tls_ca_file = \"pki/ca.pem\"\n"  // 7
                                                        "tls_cert_file = \"pki/client.pem\"\n"));
  EXPECT_EQ(e.rfind(file + ":8: ingest.mqtt[0].tls_cert_file: needs tls_key_file", 0), 0u) << e;
  // key without cert
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) +
                                            "tls_ca_file = \"pki/ca.pem\"\n"
                                            "tls_key_file = \"pki/client.key\"\n"));
  EXPECT_EQ(e.rfind(file + ":8: ingest.mqtt[0].tls_key_file: needs tls_cert_file", 0), 0u) << e;
  // missing CA file: named with its resolved path
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) +
                                            "username = \"u\"\n"
                                            "tls_ca_file = \"pki/nope.pem\"\n"));
  EXPECT_EQ(
      e.rfind(file + ":8: ingest.mqtt[0].tls_ca_file: " + dir + "/pki/nope.pem: cannot read", 0),
      0u)
      << e;
  // key that does not belong to the certificate
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) +
                                            "tls_ca_file = \"pki/ca.pem\"\n"
                                            "tls_cert_file = \"pki/client.pem\"\n"
                                            "tls_key_file = \"pki/intruder.key\"\n"));
  EXPECT_EQ(e.rfind(file + ":9: ingest.mqtt[0].tls_key_file: " + dir +
                        "/pki/intruder.key: is not the key of tls_cert_file",
                    0),
            0u)
      << e;
  // client certificate without tls_ca_file
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) +
                                            "tls_cert_file = \"pki/client.pem\"\n"
                                            "tls_key_file = \"pki/client.key\"\n"));
  EXPECT_EQ(e.rfind(file + ":7: ingest.mqtt[0].tls_cert_file: needs tls_ca_file", 0), 0u) << e;
  // empty path, unknown version, misspelt key
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) + "tls_ca_file = \"\"\n"));
  EXPECT_EQ(e.rfind(file + ":7: ingest.mqtt[0].tls_ca_file: must not be empty", 0), 0u) << e;
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) + "tls_ca_file = \"pki/ca.pem\"\n"
                                                                 "tls_version = \"sslv3\"\n"));
  EXPECT_EQ(e.rfind(file + ":8: ingest.mqtt[0].tls_version: \"sslv3\": expected", 0), 0u) << e;
  e = LoadError(WriteServiceConfig(dir, std::string(kMqttHead) + "tls_cafile = \"pki/ca.pem\"\n"));
  EXPECT_EQ(e.rfind(file + ":7: ingest.mqtt[0].tls_cafile: unknown key", 0), 0u) << e;
}

TEST(MqttTlsConfig, WarnsAboutClearTextPasswordOverTheNetwork) {
  const std::string dir = ConfigDirWithPki();
  const std::string login =
      "username = \"floodwarn\"\npassword_file = \"mqtt.password\"\n";  // 7, 8
  {
    LogCapture log;
    const auto c = fi::LoadIngestConfig(WriteServiceConfig(
        dir, std::string(kMqttHead) + login + "host = \"broker.example.org\"\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->mqtt[0].source.password, "s3cret");
    const std::string text = log.text();
    EXPECT_NE(text.find("insecure_mqtt_login"), std::string::npos) << text;
    EXPECT_NE(text.find("line=8 key=ingest.mqtt[0].password_file host=broker.example.org"),
              std::string::npos)
        << text;
  }
  {  // same login over TLS: no warning
    LogCapture log;
    ASSERT_TRUE(fi::LoadIngestConfig(WriteServiceConfig(
        dir, std::string(kMqttHead) + login +
                 "host = \"broker.example.org\"\ntls_ca_file = \"pki/ca.pem\"\n")));
    EXPECT_EQ(log.text().find("insecure_mqtt_login"), std::string::npos) << log.text();
  }
  for (const char* host : {"127.0.0.1", "localhost", "::1"}) {  // never leaves the machine
    LogCapture log;
    ASSERT_TRUE(fi::LoadIngestConfig(WriteServiceConfig(
        dir, std::string(kMqttHead) + login + fmt::format("host = \"{}\"\n", host))));
    EXPECT_EQ(log.text().find("insecure_mqtt_login"), std::string::npos) << host << log.text();
  }
}
