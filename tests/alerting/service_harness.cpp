#include "service_harness.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "floodwarn/alerting/rules.hpp"
#include "test_support.hpp"

namespace floodwarn::testing {

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

const Pki& TestPki() {
  static std::once_flag once;
  static Pki pki;
  std::call_once(once, [] {
    if (std::system("openssl version > /dev/null 2>&1") != 0)
      throw std::runtime_error(
          "openssl not found: the service tests make their certificates with it (scripts/setup "
          "installs it)");
    pki.dir = MakeTempDir("floodwarn_pki");
    // EC P-256 keys (fast); the server certificate names 127.0.0.1 and localhost.
    const std::string script = fmt::format(
        R"(set -e
cd '{}'
key() {{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }}
key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=floodwarn test CA" -days 2 -out ca.pem
key rogue_ca.key
openssl req -x509 -new -key rogue_ca.key -subj "/CN=rogue CA" -days 2 -out rogue_ca.pem
key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
key client.key
openssl req -new -key client.key -subj "/CN=siren-1" -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out client.pem 2>/dev/null
key rogue.key
openssl req -new -key rogue.key -subj "/CN=siren-1" -out rogue.csr
openssl x509 -req -in rogue.csr -CA rogue_ca.pem -CAkey rogue_ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out rogue.pem 2>/dev/null
)",
        pki.dir);
    WriteText(pki.dir + "/make.sh", script);
    if (std::system(("sh '" + pki.dir + "/make.sh'").c_str()) != 0)
      throw std::runtime_error("making the test PKI with openssl failed (see stderr)");
    pki.ca = ReadText(pki.dir + "/ca.pem");
    pki.server_cert = ReadText(pki.dir + "/server.pem");
    pki.server_key = ReadText(pki.dir + "/server.key");
    pki.client_cert = ReadText(pki.dir + "/client.pem");
    pki.client_key = ReadText(pki.dir + "/client.key");
    pki.rogue_cert = ReadText(pki.dir + "/rogue.pem");
    pki.rogue_key = ReadText(pki.dir + "/rogue.key");
  });
  return pki;
}

std::string ServiceConfigText(const std::string& dir, const std::string& service_extra, bool tls,
                              const std::string& extra_toml) {
  const Pki& pki = TestPki();
  std::string s =
      fmt::format("rules_file = \"{}/configs/alerting/town_rules.toml\"\n\n", SourceDir());
  s += "[service]\nlisten = \"127.0.0.1:0\"\n";
  if (service_extra.find("metrics_listen") == std::string::npos) s += "metrics_listen = \"\"\n";
  if (!tls) s += "insecure = true\n";
  s += service_extra + "\n\n";
  if (tls)
    s += fmt::format(
        "[tls]\ncert = \"{0}/server.pem\"\nkey = \"{0}/server.key\"\n"
        "client_ca = \"{0}/ca.pem\"\n\n",
        pki.dir);
  s += fmt::format(
      "[[auth.tokens]]\nprincipal = \"{}\"\nrole = \"operator\"\nsha256 = \"{}\"\n\n"
      "[[auth.tokens]]\nprincipal = \"{}\"\nrole = \"subscriber\"\nsha256 = \"{}\"\n\n",
      kOperatorPrincipal, fa::TokenSha256Hex(kOperatorToken), kSubscriberPrincipal,
      fa::TokenSha256Hex(kSubscriberToken));
  // town_rules.toml escalates to "duty-officer-phone": `floodwarn serve`
  // refuses to start without that channel. Nobody listens there; an
  // escalation takes 30 min, longer than any test.
  s += "[[channels]]\nname = \"duty-officer-phone\"\ntype = \"webhook\"\n"
       "url = \"http://127.0.0.1:9/\"\nescalation_only = true\n\n";
  s += fmt::format("[store]\npath = \"{}/alerts.db\"\n\n", dir);
  s += "[cap]\nsender = \"floodwarn-test@example.invalid\"\n\n";
  return s + extra_toml;
}

ServerHarness::ServerHarness(std::string service_extra, bool tls, std::string extra_toml) {
  dir = MakeTempDir("floodwarn_service");
  WriteText(dir + "/serve.toml", ServiceConfigText(dir, service_extra, tls, extra_toml));
  cfg = fa::LoadServiceConfig(dir + "/serve.toml");
  store = std::make_unique<fa::AlertStore>(cfg.store_path, cfg.store);
  engine = std::make_unique<fa::AlertEngine>(
      fa::LoadRulesConfig(cfg.rules_file), *store, cfg.cap,
      [] { return std::chrono::time_point_cast<fa::Duration>(fa::Clock::now()); });
  registry = fa::MakeMetricsRegistry();
}

ServerHarness::~ServerHarness() { Stop(); }

void ServerHarness::Start() {
  server = std::make_unique<fa::AlertServer>(cfg, *engine, *store, *registry);
  target = server->address();
}

void ServerHarness::Stop() {
  if (server) server->Shutdown();
}

fa::Alert ServerHarness::Issue(const std::string& subject, int level, const std::string& area,
                               std::size_t text_bytes) {
  fa::ManualAlertRequest r;
  r.subject = subject;
  r.level = level;
  r.area_id = area;
  r.headline_de = "Hochwasser " + subject;
  r.headline_en = "Flood " + subject;
  r.mode = fa::Mode::kExercise;
  if (text_bytes > 0) {
    r.description_de.assign(text_bytes, 'd');
    r.description_en.assign(text_bytes, 'e');
    r.instruction_de.assign(text_bytes, 'i');
    r.instruction_en.assign(text_bytes, 'j');
  }
  auto res = engine->IssueManual(r, "test-operator");
  if (!res.ok()) throw std::runtime_error("IssueManual failed: " + res.error.message);
  return *res.value;
}

std::shared_ptr<grpc::Channel> ServerHarness::Channel(bool client_cert, bool rogue,
                                                      const grpc::ChannelArguments& args) const {
  if (cfg.insecure)
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  const Pki& pki = TestPki();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = pki.ca;
  if (client_cert) {
    o.pem_private_key = rogue ? pki.rogue_key : pki.client_key;
    o.pem_cert_chain = rogue ? pki.rogue_cert : pki.client_cert;
  }
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(o), args);
}

double ServerHarness::Metric(const std::string& name_and_labels) const {
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name_and_labels, 0) != 0) continue;
    const auto sp = line.rfind(' ');
    return std::stod(line.substr(sp + 1));
  }
  return -1;
}

void AddToken(grpc::ClientContext& ctx, const std::string& token) {
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
}

Subscription::Subscription(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                           const v1::SubscribeRequest& req, std::chrono::seconds deadline)
    : stub_(v1::AlertService::NewStub(channel)) {
  AddToken(ctx_, token);
  ctx_.set_deadline(std::chrono::system_clock::now() + deadline);
  reader_ = stub_->Subscribe(&ctx_, req);
}

std::vector<v1::StreamEvent> Subscription::Events(std::size_t n) {
  std::vector<v1::StreamEvent> out;
  v1::StreamEvent e;
  while (out.size() < n && reader_->Read(&e))
    if (e.has_event()) out.push_back(e);
  return out;
}

grpc::Status Subscription::Finish() {
  finished_ = true;
  return reader_->Finish();
}

Subscription::~Subscription() {
  if (finished_) return;
  ctx_.TryCancel();
  v1::StreamEvent e;
  while (reader_->Read(&e)) {
  }
  reader_->Finish();
}

}  // namespace floodwarn::testing
