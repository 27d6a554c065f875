// LoadServiceConfig: the example config loads; every mistake names the file,
// the line and the key; insecure mode only with the explicit flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "service_harness.hpp"
#include "test_support.hpp"

namespace {

using namespace floodwarn::testing;
namespace fs = std::filesystem;

// A folder with the files a config points to (contents are not read here).
std::string PreparedDir() {
  const std::string dir = MakeTempDir("floodwarn_svc_cfg");
  fs::create_directories(dir + "/pki");
  for (const char* f : {"pki/server.pem", "pki/server.key", "pki/ca.pem"})
    WriteText(dir + "/" + f, "placeholder\n");
  fs::copy_file(SourceDir() + "/configs/alerting/town_rules.toml", dir + "/town_rules.toml");
  return dir;
}

const char* kTokens = R"(
[[auth.tokens]]
principal = "op"
role = "operator"
sha256 = "0f5a4c0b7e6f4bd28b5d06bc4a4e2c6a3ad4f1d1f2b3c4d5e6f708192a3b4c5d"
)";

std::string Minimal(const std::string& service = "", const std::string& tail = "") {
  return std::string("rules_file = \"town_rules.toml\"\n[service]\n") + service +
         "\n[tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\nclient_ca = "
         "\"pki/ca.pem\"\n" +
         kTokens + "\n[store]\npath = \"alerts.db\"\n" + tail;
}

// The error message of loading `text`, or "" if it loaded.
std::string ErrorOf(const std::string& text, std::string* file = nullptr) {
  const std::string dir = PreparedDir();
  const std::string path = dir + "/serve.toml";
  WriteText(path, text);
  if (file) *file = path;
  try {
    floodwarn::alerting::LoadServiceConfig(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ServiceConfig, ExampleConfigLoads) {
  const std::string dir = PreparedDir();
  fs::copy_file(SourceDir() + "/configs/alerting/serve.toml", dir + "/serve.toml");
  const fa::ServiceConfig c = fa::LoadServiceConfig(dir + "/serve.toml");
  EXPECT_EQ(c.listen, "127.0.0.1:50051");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
  EXPECT_FALSE(c.insecure);
  EXPECT_EQ(c.heartbeat_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.stall_timeout, std::chrono::minutes(2));
  EXPECT_EQ(c.store.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.tls_client_ca, fs::path(dir + "/pki/ca.pem").lexically_normal().string());
  EXPECT_EQ(c.store_path, fs::path(dir + "/floodwarn-alerts.db").lexically_normal().string());
  EXPECT_EQ(c.rules_file, fs::path(dir + "/town_rules.toml").lexically_normal().string());
  ASSERT_EQ(c.tokens.size(), 2u);
  EXPECT_EQ(c.tokens[0].role, fa::Role::kOperator);
  EXPECT_EQ(c.tokens[1].role, fa::Role::kSubscriber);
  EXPECT_EQ(c.tokens[1].client_cn, "sirene-talstadt");
  EXPECT_EQ(c.cap.sender, "hochwasser@talstadt.example");
  EXPECT_EQ(c.cap.utc_offset_minutes, 60);
}

TEST(ServiceConfig, DefaultsAreLoopbackAndSecure) {
  ASSERT_EQ(ErrorOf(Minimal()), "");
  const std::string dir = PreparedDir();
  WriteText(dir + "/serve.toml", Minimal());
  const fa::ServiceConfig c = fa::LoadServiceConfig(dir + "/serve.toml");
  EXPECT_EQ(c.listen.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(c.metrics_listen.rfind("127.0.0.1:", 0), 0u);
  EXPECT_FALSE(c.insecure);
  EXPECT_EQ(c.fanout_threads, 0u);  // one per core
}

TEST(ServiceConfig, UnknownKeyNamesFileLineAndKey) {
  std::string file;
  const std::string e = ErrorOf(Minimal("listen = \"127.0.0.1:0\"\nlistn = \"0.0.0.0:1\""), &file);
  EXPECT_NE(e.find(file + ":4: service.listn: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("listen"), std::string::npos) << e;  // lists what is expected
  EXPECT_NE(ErrorOf(Minimal() + "[metrics]\nport = 1\n").find("metrics: unknown key"),
            std::string::npos);
  // [[channels]] belongs to the channel loader and is accepted here.
  EXPECT_EQ(ErrorOf(Minimal("", "[[channels]]\nname = \"siren\"\n")), "");
}

TEST(ServiceConfig, InsecureModeOnlyWithTheExplicitFlag) {
  const std::string rules = "rules_file = \"town_rules.toml\"\n";
  const std::string rest = std::string(kTokens) + "\n[store]\npath = \"a.db\"\n";
  const std::string no_tls = rules + rest;
  const std::string e = ErrorOf(no_tls);
  EXPECT_NE(e.find("tls: required"), std::string::npos) << e;
  EXPECT_NE(e.find("insecure = true"), std::string::npos) << e;
  EXPECT_EQ(ErrorOf(rules + "[service]\ninsecure = true\n" + rest), "");
  // Both at once is a contradiction, not a silent choice.
  EXPECT_NE(ErrorOf(Minimal("insecure = true")).find("contradict"), std::string::npos);
}

TEST(ServiceConfig, BadValuesAreNamed) {
  EXPECT_NE(ErrorOf(Minimal("listen = \"localhost\"")).find("service.listen: 'localhost'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("heartbeat_interval = \"10 sec\"")).find("service.heartbeat_interval"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("heartbeat_interval = 10")).find("duration"), std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("max_message_bytes = 10")).find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("fanout_threads = 65")).find("service.fanout_threads"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("fanout_threads = -1")).find("out of range"), std::string::npos);
  std::string bad_role = Minimal();
  bad_role.replace(bad_role.find("\"operator\""), 10, "\"root\"");
  EXPECT_NE(ErrorOf(bad_role).find("auth.tokens[0].role: 'root'"), std::string::npos);
  std::string bad_hash = Minimal();
  bad_hash.replace(bad_hash.find("0f5a4c"), 6, "zz");
  EXPECT_NE(ErrorOf(bad_hash).find("auth.tokens[0].sha256"), std::string::npos);
  std::string twice = Minimal() + kTokens;
  EXPECT_NE(ErrorOf(twice).find("appears twice"), std::string::npos);
  std::string no_tokens = Minimal();
  no_tokens.erase(no_tokens.find("[[auth.tokens]]"), std::string(kTokens).size() - 1);
  EXPECT_NE(ErrorOf(no_tokens).find("auth.tokens: required"), std::string::npos)
      << ErrorOf(no_tokens);
  std::string no_rules = Minimal();
  no_rules.replace(0, no_rules.find('\n'), "rules_file = \"missing.toml\"");
  EXPECT_NE(ErrorOf(no_rules).find("missing.toml: file not found"), std::string::npos);
  EXPECT_NE(ErrorOf(Minimal("", "[cap]\nsender = \"a b\"\n")).find("cap.sender"),
            std::string::npos);
  EXPECT_NE(ErrorOf("rules_file = [").find("TOML syntax error"), std::string::npos);
}

TEST(ServiceConfig, TokenHashIsSha256Hex) {
  // printf %s abc | sha256sum
  EXPECT_EQ(fa::TokenSha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
