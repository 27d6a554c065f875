// Test harness of the gRPC AlertService: a throwaway PKI made with openssl at
// test time (never committed), a config written to a temp dir, the real
// store + engine + AlertServer on 127.0.0.1:0, and client helpers.
#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "floodwarn/alerting/engine.hpp"
#include "floodwarn/alerting/service.hpp"
#include "floodwarn/alerting/store.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"

namespace floodwarn::testing {

namespace fa = floodwarn::alerting;
namespace v1 = floodwarn::v1;

// CA, server (CN localhost, SAN IP:127.0.0.1), client "siren-1" signed by
// the CA, and "rogue" client signed by another CA. Made once per process.
struct Pki {
  std::string dir;
  std::string ca, server_cert, server_key, client_cert, client_key, rogue_cert, rogue_key;
};
const Pki& TestPki();

// ReadText is in test_support.hpp.
void WriteText(const std::string& path, const std::string& text);

constexpr char kOperatorToken[] = "op-token-7c1f9a2e";
constexpr char kSubscriberToken[] = "sub-token-41d0b8c3";
constexpr char kOperatorPrincipal[] = "op-anna";
constexpr char kSubscriberPrincipal[] = "siren-1";

// A complete service config (TOML) for `dir` (store at dir/alerts.db).
// `service_extra` is appended to [service]; tls=false writes insecure = true.
// `extra_toml` is appended at the end (e.g. more [[auth.tokens]]).
std::string ServiceConfigText(const std::string& dir, const std::string& service_extra,
                              bool tls = true, const std::string& extra_toml = "");

class ServerHarness {
 public:
  explicit ServerHarness(std::string service_extra = "", bool tls = true,
                         std::string extra_toml = "");
  ~ServerHarness();

  // Store and engine exist from construction; the server from Start().
  void Start();
  void Stop();

  fa::Alert Issue(const std::string& subject, int level = 2, const std::string& area = "talstadt",
                  std::size_t text_bytes = 0);

  std::shared_ptr<grpc::Channel> Channel(bool client_cert = true, bool rogue = false,
                                         const grpc::ChannelArguments& args = {}) const;
  std::unique_ptr<v1::AlertService::Stub> Stub() const {
    return v1::AlertService::NewStub(Channel());
  }
  std::vector<fa::AlertEvent> Outbox(std::uint64_t after = 0) const {
    return store->ReadEvents(after, 100000);
  }
  // The value of a metric sample in the registry ("name{labels}" prefix), or -1.
  double Metric(const std::string& name_and_labels) const;

  std::string dir;
  fa::ServiceConfig cfg;
  std::unique_ptr<fa::AlertStore> store;
  std::unique_ptr<fa::AlertEngine> engine;
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<fa::AlertServer> server;
  std::string target;
};

void AddToken(grpc::ClientContext& ctx, const std::string& token);

// A Subscribe stream read synchronously, with a deadline so no test hangs.
class Subscription {
 public:
  Subscription(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
               const v1::SubscribeRequest& req,
               std::chrono::seconds deadline = std::chrono::seconds(30));
  ~Subscription();  // cancels and drains an unfinished stream
  bool Next(v1::StreamEvent* out) { return reader_->Read(out); }
  // The next n alert events (heartbeats skipped); fewer if the stream ends.
  std::vector<v1::StreamEvent> Events(std::size_t n);
  grpc::Status Finish();
  void Cancel() { ctx_.TryCancel(); }

 private:
  std::unique_ptr<v1::AlertService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::StreamEvent>> reader_;
  bool finished_ = false;
};

}  // namespace floodwarn::testing
