#include "floodwarn/alerting/client.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "floodwarn/alerting/grpc_code_name.hpp"
#include "floodwarn/alerting/proto_convert.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"
#include "floodwarn/v1/alerts.pb.h"

namespace floodwarn::alerting {
namespace pb = ::floodwarn::v1;
using convert::FromProto;
using convert::ToProto;

namespace {

std::string ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(what) + " " + path + ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

const char* ResetReasonName(pb::ResetReason r) {
  switch (r) {
    case pb::RESET_REASON_COMPACTED:
      return "compacted";
    case pb::RESET_REASON_AHEAD:
      return "ahead";
    default:
      return "unspecified";
  }
}

// One message of the stream as the callback gets it; nullopt for a payload
// this client does not know (a newer server), which is skipped.
std::optional<StreamMessage> ToStreamMessage(const pb::StreamEvent& pe) {
  StreamMessage m;
  m.sequence = pe.sequence();
  if (pe.has_event()) {
    m.type = StreamMessage::Type::kEvent;
    m.event = FromProto(pe.event());
  } else if (pe.has_heartbeat()) {
    m.type = StreamMessage::Type::kHeartbeat;
    m.last_committed_sequence = pe.heartbeat().last_committed_sequence();
    m.server_time = FromProto(pe.heartbeat().server_time());
  } else if (pe.has_reset()) {
    m.type = StreamMessage::Type::kReset;
    m.reset_reason = ResetReasonName(pe.reset().reason());
    m.reset_message = pe.reset().message();
    m.oldest_retained_sequence = pe.reset().oldest_retained_sequence();
  } else {
    return std::nullopt;
  }
  return m;
}

Error FromStatus(const grpc::Status& s) {
  if (s.ok()) return Error{};
  ErrorCode code = ErrorCode::kInternal;
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      code = ErrorCode::kInvalidArgument;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = ErrorCode::kNotFound;
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      code = ErrorCode::kAlreadyExists;
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
      code = ErrorCode::kFailedPrecondition;
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      code = ErrorCode::kPermissionDenied;
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      code = ErrorCode::kUnavailable;
      break;
    default:
      code = ErrorCode::kInternal;
  }
  return Error{code, std::string(GrpcCodeName(s.error_code())) + ": " + s.error_message()};
}

template <typename T>
Result<T> Fail(const grpc::Status& s) {
  Error e = FromStatus(s);
  return Result<T>::Fail(e.code, e.message);
}

// Errors a retry cannot fix: the stream loop gives up on them.
bool Permanent(const Error& e) {
  return e.code == ErrorCode::kPermissionDenied || e.code == ErrorCode::kInvalidArgument;
}

}  // namespace

std::string LoadToken(const std::string& token_file) {
  if (!token_file.empty()) {
    std::string text = ReadFile(token_file, "token file");
    std::string first = text.substr(0, text.find('\n'));
    std::string token = Trim(first);
    if (token.empty()) throw std::runtime_error("token file " + token_file + ": is empty");
    return token;
  }
  const char* env = std::getenv("FLOODWARN_TOKEN");
  if (env == nullptr || Trim(env).empty())
    throw std::runtime_error(
        "no token: give --token-file FILE or set FLOODWARN_TOKEN (tokens are not taken on the "
        "command line)");
  return Trim(env);
}

const char* LevelName(Level level) {
  switch (level) {
    case 1:
      return "Minor";
    case 2:
      return "Moderate";
    case 3:
      return "Severe";
    case 4:
      return "Extreme";
    default:
      return "none";
  }
}

// --- AlertClient -------------------------------------------------------------

struct AlertClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::AlertService::Stub> stub;
  std::mutex mutex;
  std::vector<grpc::ClientContext*> streams;  // running Subscribe calls
  bool cancelled = false;
};

AlertClient::AlertClient(ClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  if (options_.target.empty()) throw std::runtime_error("client: no server address given");
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options_.insecure) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    if (options_.ca_file.empty())
      throw std::runtime_error("client: TLS needs the CA certificate (--ca FILE)");
    if (options_.cert_file.empty() != options_.key_file.empty())
      throw std::runtime_error("client: a client certificate needs both --cert and --key");
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(options_.ca_file, "CA certificate");
    if (!options_.cert_file.empty()) {
      ssl.pem_cert_chain = ReadFile(options_.cert_file, "client certificate");
      ssl.pem_private_key = ReadFile(options_.key_file, "client key");
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  // A new channel per client: its own reconnect backoff must not delay ours.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  impl_->channel = grpc::CreateCustomChannel(options_.target, creds, args);
  impl_->stub = pb::AlertService::NewStub(impl_->channel);
}

AlertClient::~AlertClient() = default;

namespace {
void Prepare(grpc::ClientContext* ctx, const ClientOptions& o, bool with_deadline) {
  if (!o.token.empty()) ctx->AddMetadata("authorization", "Bearer " + o.token);
  if (with_deadline) ctx->set_deadline(std::chrono::system_clock::now() + o.call_timeout);
}
}  // namespace

Result<Alert> AlertClient::Acknowledge(const std::string& alert_id, const std::string& note) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, true);
  pb::AcknowledgeRequest req;
  req.set_alert_id(alert_id);
  req.set_note(note);
  pb::Alert resp;
  grpc::Status s = impl_->stub->Acknowledge(&ctx, req, &resp);
  if (!s.ok()) return Fail<Alert>(s);
  return Result<Alert>::Ok(FromProto(resp));
}

Result<Alert> AlertClient::IssueManual(const ManualAlertRequest& r) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, true);
  pb::IssueManualRequest req;
  ToProto(r, &req);
  pb::Alert resp;
  grpc::Status s = impl_->stub->IssueManual(&ctx, req, &resp);
  if (!s.ok()) return Fail<Alert>(s);
  return Result<Alert>::Ok(FromProto(resp));
}

Result<Alert> AlertClient::ResolveManual(const std::string& alert_id, const std::string& note) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, true);
  pb::ResolveManualRequest req;
  req.set_alert_id(alert_id);
  req.set_note(note);
  pb::Alert resp;
  grpc::Status s = impl_->stub->ResolveManual(&ctx, req, &resp);
  if (!s.ok()) return Fail<Alert>(s);
  return Result<Alert>::Ok(FromProto(resp));
}

Result<Alert> AlertClient::GetAlert(const std::string& alert_id) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, true);
  pb::GetAlertRequest req;
  req.set_alert_id(alert_id);
  pb::Alert resp;
  grpc::Status s = impl_->stub->GetAlert(&ctx, req, &resp);
  if (!s.ok()) return Fail<Alert>(s);
  return Result<Alert>::Ok(FromProto(resp));
}

Result<ActiveList> AlertClient::ListActive(const AlertFilter& filter) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, true);
  pb::ListActiveRequest req;
  ToProto(filter, req.mutable_filter());
  pb::ListActiveResponse resp;
  grpc::Status s = impl_->stub->ListActive(&ctx, req, &resp);
  if (!s.ok()) return Fail<ActiveList>(s);
  ActiveList out;
  out.sequence = resp.sequence();
  for (const auto& a : resp.alerts()) out.alerts.push_back(FromProto(a));
  return Result<ActiveList>::Ok(std::move(out));
}

Error AlertClient::Subscribe(std::uint64_t from_sequence, const AlertFilter& filter,
                             const std::function<bool(const StreamMessage&)>& on_message,
                             Duration idle_timeout) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options_, false);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->cancelled) return Error{};
    impl_->streams.push_back(&ctx);
  }
  pb::SubscribeRequest req;
  req.set_from_sequence(from_sequence);
  req.set_max_batch(options_.stream_max_batch);
  req.set_omit_cap_xml(options_.stream_omit_cap_xml);
  ToProto(filter, req.mutable_filter());

  // Idle watchdog: no message for idle_timeout = the connection is dead.
  std::mutex wd_mutex;
  std::condition_variable wd_cv;
  bool wd_done = false;
  bool idle_expired = false;
  auto last_message = std::chrono::steady_clock::now();
  std::thread watchdog;
  if (idle_timeout > Duration::zero()) {
    watchdog = std::thread([&] {
      std::unique_lock<std::mutex> lock(wd_mutex);
      while (!wd_done) {
        auto deadline = last_message + idle_timeout;
        if (wd_cv.wait_until(lock, deadline) == std::cv_status::timeout && !wd_done &&
            std::chrono::steady_clock::now() >= last_message + idle_timeout) {
          idle_expired = true;
          ctx.TryCancel();
          return;
        }
      }
    });
  }

  // One message to the callback; false when the callback asks to stop.
  auto deliver = [&](const pb::StreamEvent& one) {
    std::optional<StreamMessage> m = ToStreamMessage(one);
    return !m || on_message(*m);
  };
  bool stopped_by_callback = false;
  std::unique_ptr<grpc::ClientReader<pb::StreamEvent>> reader = impl_->stub->Subscribe(&ctx, req);
  pb::StreamEvent pe;
  while (reader->Read(&pe)) {
    {
      std::lock_guard<std::mutex> lock(wd_mutex);
      last_message = std::chrono::steady_clock::now();
    }
    bool go_on = true;
    if (pe.has_batch()) {  // several events, delivered one by one
      for (const pb::StreamEvent& one : pe.batch().events())
        if (!(go_on = deliver(one))) break;
    } else {
      go_on = deliver(pe);
    }
    if (!go_on) {
      stopped_by_callback = true;
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(wd_mutex);
    wd_done = true;
  }
  wd_cv.notify_all();
  if (watchdog.joinable()) watchdog.join();
  bool cancelled;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    cancelled = impl_->cancelled;
    impl_->streams.erase(std::remove(impl_->streams.begin(), impl_->streams.end(), &ctx),
                         impl_->streams.end());
  }
  if (stopped_by_callback || cancelled) return Error{};
  if (idle_expired)
    return Error{ErrorCode::kUnavailable, "no message for " + std::to_string(idle_timeout.count()) +
                                              " ms (no heartbeat): connection presumed dead"};
  if (status.ok()) return Error{ErrorCode::kUnavailable, "the server ended the stream"};
  return FromStatus(status);
}

void AlertClient::Cancel() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->cancelled = true;
  for (auto* ctx : impl_->streams) ctx->TryCancel();
}

// --- ResumingSubscriber -------------------------------------------------------

struct ResumingSubscriber::Waiter {
  std::condition_variable cv;
};

ResumingSubscriber::ResumingSubscriber(ClientOptions client, ResumeOptions resume)
    : client_options_(std::move(client)),
      resume_(std::move(resume)),
      waiter_(std::make_unique<Waiter>()) {}

ResumingSubscriber::~ResumingSubscriber() { Stop(); }

ResumingSubscriber::Stats ResumingSubscriber::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void ResumingSubscriber::Stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = true;
  if (current_ != nullptr) current_->Cancel();
  waiter_->cv.notify_all();
}

Error ResumingSubscriber::Run(std::uint64_t from_sequence, const AlertFilter& filter,
                              const MessageHandler& on_message,
                              const DisconnectHandler& on_disconnect) {
  last_sequence_ = from_sequence;
  std::mt19937_64 rng(std::random_device{}());
  Duration backoff = resume_.initial_backoff;
  int attempt = 0;
  while (!stop_) {
    ++attempt;
    ClientOptions opts = client_options_;
    if (resume_.target) opts.target = resume_.target();
    Error error;
    bool delivered = false;
    if (opts.target.empty()) {
      error = Error{ErrorCode::kUnavailable, "no server address (server not running)"};
    } else {
      // A fresh channel per attempt: gRPC's own channel backoff (up to 2 min)
      // must not delay the resume.
      AlertClient client(opts);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) break;
        current_ = &client;
      }
      error = client.Subscribe(
          last_sequence_.load(), filter,
          [&](const StreamMessage& m) {
            if (!delivered) {
              delivered = true;
              std::lock_guard<std::mutex> lock(mutex_);
              ++stats_.connects;
            }
            if (m.type == StreamMessage::Type::kEvent && m.sequence <= last_sequence_.load()) {
              std::lock_guard<std::mutex> lock(mutex_);
              ++stats_.duplicates_dropped;
              return true;
            }
            // A heartbeat or reset only moves the cursor forward.
            if (m.sequence > last_sequence_.load()) last_sequence_ = m.sequence;
            {
              std::lock_guard<std::mutex> lock(mutex_);
              if (m.type == StreamMessage::Type::kEvent) ++stats_.events;
              if (m.type == StreamMessage::Type::kReset) ++stats_.resets;
            }
            on_message(m);
            return true;
          },
          resume_.idle_timeout);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        current_ = nullptr;
      }
    }
    if (stop_) break;
    if (error.ok()) error = Error{ErrorCode::kUnavailable, "stream ended"};
    if (Permanent(error)) return error;
    if (delivered) {
      backoff = resume_.initial_backoff;
      attempt = 1;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.disconnects;
    }
    // Full jitter in [backoff/2, backoff]: many subscribers of a restarted
    // server must not reconnect in lock step.
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    Duration wait(jitter(rng));
    if (on_disconnect) on_disconnect(error, attempt, wait);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      waiter_->cv.wait_for(lock, wait, [&] { return stop_.load(); });
    }
    backoff = std::min(resume_.max_backoff, backoff * 2);
  }
  return Error{};
}

}  // namespace floodwarn::alerting
