// Stream benchmark of the alerting service (issue 5, docs/alerting/CLIENTS.md):
//
//  1. idle: N idle subscribers (default 10,000) are held by `floodwarn serve`;
//     the server's resident memory (VmRSS of /proc/<pid>/status) before and
//     after gives the memory per subscriber;
//  2. latency: M subscribers (default 1,000) on loopback while a driver
//     commits alert events at R per second (default 100, IssueManual over
//     gRPC); each delivery's latency is measured as
//       receipt - event.at  ("commit -> receipt": `at` is stamped by the
//                            engine just before the SQLite commit, in whole
//                            milliseconds, so this is an upper bound that
//                            includes the commit's fsync), and
//       receipt - request   (operator request sent -> subscriber receipt).
//
// The benchmark starts its own server (a throwaway PKI from
// tests/alerting/pki.sh, TLS with client certificates, bearer tokens, a
// fresh store) and stops it. Subscribers are gRPC callback reactors, one
// TCP+TLS connection per `--streams-per-connection` subscribers (default 1:
// every siren its own connection). 10,000 connections need 10,000 file
// descriptors on each side: the soft RLIMIT_NOFILE is raised to the hard one.
#include <fcntl.h>
#include <openssl/sha.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"
#include "floodwarn/v1/alerts.grpc.pb.h"

namespace {

namespace pb = ::floodwarn::v1;
namespace fa = ::floodwarn::alerting;
using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string Sha256Hex(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  std::string out;
  for (unsigned char c : md) out += fmt::format("{:02x}", c);
  return out;
}

long VmRssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// "0-1,4" -> a CPU set; empty = no restriction (returns false).
bool ParseCpuList(const std::string& list, cpu_set_t* set) {
  CPU_ZERO(set);
  if (list.empty()) return false;
  std::istringstream in(list);
  std::string part;
  while (std::getline(in, part, ',')) {
    const std::size_t dash = part.find('-');
    const int lo = std::stoi(part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
    if (lo < 0 || hi < lo || hi >= CPU_SETSIZE)
      throw std::runtime_error("bad CPU list '" + list + "' (expected e.g. 0-1,4)");
    for (int c = lo; c <= hi; ++c) CPU_SET(c, set);
  }
  return true;
}

// CPU time (user + system) the process has used so far, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // fields 14 and 15 of proc(5)
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// `floodwarn serve CONFIG` as a child; its output is drained by a thread.
class Server {
 public:
  // `cpus`: the CPUs the server may run on ("" = any).
  Server(const std::string& binary, const std::string& config, const std::string& cpus) {
    cpu_set_t set;
    const bool pin = ParseCpuList(cpus, &set);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::string b = binary, s = "serve", c = config;
    char* argv[] = {b.data(), s.data(), c.data(), nullptr};
    pid_ = fork();
    if (pid_ == 0) {
      if (pin && sched_setaffinity(0, sizeof set, &set) != 0) _exit(126);
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      execv(argv[0], argv);
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      std::string buf;
      char chunk[4096];
      ssize_t n;
      while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        buf.append(chunk, static_cast<std::size_t>(n));
        std::size_t pos;
        while ((pos = buf.find('\n')) != std::string::npos) {
          std::string line = buf.substr(0, pos);
          buf.erase(0, pos + 1);
          static const std::regex re(R"(listening on (\S+:\d+))");
          std::smatch m;
          if (address_.empty() && std::regex_search(line, m, re)) address_ = m[1].str();
          if (log_.size() < 200) log_.push_back(line);
        }
        cv_.notify_all();
      }
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
      cv_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, seconds(30), [&] { return !address_.empty() || eof_; }) ||
        address_.empty()) {
      std::string log;
      for (auto& l : log_) log += l + "\n";
      lock.unlock();
      Stop();
      throw std::runtime_error("floodwarn serve did not start:\n" + log);
    }
  }
  ~Server() { Stop(); }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    if (reader_.joinable()) reader_.join();
  }
  pid_t pid() const { return pid_; }
  std::string address() const { return address_; }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string address_;
  std::vector<std::string> log_;
  bool eof_ = false;
};

struct Tls {
  std::string ca, cert, key;
};

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const Tls& tls) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca;
  ssl.pem_cert_chain = tls.cert;
  ssl.pem_private_key = tls.key;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own TCP connection
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl), args);
}

struct Counters {
  std::atomic<std::size_t> ready{0};  // received the first message (stream established)
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
  std::mutex mu;
  std::condition_variable cv;
  std::string first_error;
  // Counts one more and wakes the waiters. The count changes under `mu`:
  // otherwise a waiter that has just found the count short could miss
  // this wakeup and sleep for ever (it did: Fleet::Close hung once).
  void Bump(std::atomic<std::size_t>& counter) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++counter;
    }
    cv.notify_all();
  }
};

// One subscriber: a callback reactor (no thread per stream).
class Subscriber : public grpc::ClientReadReactor<pb::StreamEvent> {
 public:
  Subscriber(pb::AlertService::Stub* stub, const std::string& token, std::uint64_t from,
             std::uint32_t max_batch, bool omit_cap, Counters* counters, bool record)
      : counters_(counters), record_(record) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    req_.set_from_sequence(from);
    req_.set_max_batch(max_batch);
    req_.set_omit_cap_xml(omit_cap);
    stub->async()->Subscribe(&ctx_, &req_, this);
    StartRead(&msg_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (!first_) {
      first_ = true;
      counters_->Bump(counters_->ready);
    }
    if (record_) {
      const double now_ms =
          std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
      if (msg_.has_event()) {
        Record(msg_, now_ms);
        ++messages;
      }
      if (msg_.has_batch()) {
        for (const pb::StreamEvent& one : msg_.batch().events()) Record(one, now_ms);
        ++messages;
      }
    }
    StartRead(&msg_);
  }
  // One event received at now_ms: its latency from the commit and from the
  // driver's request.
  void Record(const pb::StreamEvent& m, double now_ms) {
    const auto& at = m.event().at();
    double at_ms = at.seconds() * 1e3 + at.nanos() / 1e6;
    commit_ms.push_back(static_cast<float>(now_ms - at_ms));
    // The driver writes its send time (ms since the epoch) into headline_en.
    const std::string& h = m.event().alert().headline_en();
    if (h.rfind("bench ", 0) == 0)
      request_ms.push_back(static_cast<float>(now_ms - std::strtod(h.c_str() + 6, nullptr)));
    if (commit_ms.size() == 1) event_bytes = m.ByteSizeLong();
    received.fetch_add(1, std::memory_order_release);
  }
  void OnDone(const grpc::Status& s) override {
    if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) {
      counters_->failed++;
      std::lock_guard<std::mutex> lock(counters_->mu);
      if (counters_->first_error.empty())
        counters_->first_error = std::to_string(s.error_code()) + ": " + s.error_message();
    }
    counters_->Bump(counters_->done);
  }
  void Cancel() { ctx_.TryCancel(); }

  std::vector<float> commit_ms, request_ms;
  std::size_t event_bytes = 0;           // size of the first event message received
  std::size_t messages = 0;              // messages that carried events (single or batch)
  std::atomic<std::size_t> received{0};  // events so far (read while the stream runs)

 private:
  grpc::ClientContext ctx_;
  pb::SubscribeRequest req_;
  pb::StreamEvent msg_;
  Counters* counters_;
  bool record_;
  bool first_ = false;
};

// Opens n subscribers over ceil(n / per_conn) connections and waits until
// every stream has delivered its first message (the server sends a
// heartbeat or the backlog first), i.e. is registered in the server.
struct Fleet {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<pb::AlertService::Stub>> stubs;
  std::vector<std::unique_ptr<Subscriber>> subs;
  Counters counters;

  void Open(std::size_t n, std::size_t per_conn, std::uint32_t max_batch, bool omit_cap,
            const std::string& target, const Tls& tls, const std::string& token, std::uint64_t from,
            bool record) {
    for (std::size_t i = 0; i < n; ++i) {
      if (i % per_conn == 0) {
        channels.push_back(MakeChannel(target, tls));
        stubs.push_back(pb::AlertService::NewStub(channels.back()));
      }
      subs.push_back(std::make_unique<Subscriber>(stubs.back().get(), token, from, max_batch,
                                                  omit_cap, &counters, record));
    }
  }
  bool WaitReady(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(counters.mu);
    return counters.cv.wait_for(lock, timeout, [&] {
      return counters.ready + counters.failed >= subs.size();
    }) && counters.failed == 0;
  }
  // Until every subscriber has `events` events or `timeout` passed (a
  // backlog shows as high latencies, a loss as a short count).
  void Drain(std::size_t events, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until &&
           std::any_of(subs.begin(), subs.end(),
                       [&](const auto& s) { return s->received.load() < events; }))
      std::this_thread::sleep_for(milliseconds(50));
    std::this_thread::sleep_for(milliseconds(200));  // and nothing more arrives
  }
  // Cancels every stream and waits for each OnDone: a reactor must outlive
  // its last callback.
  void Close() {
    for (auto& s : subs) s->Cancel();
    std::unique_lock<std::mutex> lock(counters.mu);
    counters.cv.wait(lock, [&] { return counters.done >= subs.size(); });
  }
  ~Fleet() { Close(); }
};

// What the latency subscribers measured (in this process or in workers).
struct Results {
  std::vector<float> commit, request;
  std::size_t min_events = SIZE_MAX;
  std::size_t event_bytes = 0;
  std::size_t messages = 0;  // messages that carried events
  void Add(Fleet& fleet) {
    for (auto& s : fleet.subs) {
      messages += s->messages;
      min_events = std::min(min_events, s->commit_ms.size());
      commit.insert(commit.end(), s->commit_ms.begin(), s->commit_ms.end());
      request.insert(request.end(), s->request_ms.begin(), s->request_ms.end());
      if (event_bytes == 0) event_bytes = s->event_bytes;
    }
  }
};

// Where a worker finds the server (--worker mode, see RunWorker).
struct WorkerArgs {
  std::size_t subscribers = 0;
  std::string target, ca, cert, key, token;
  std::uint64_t from = 0;
  std::size_t per_conn = 1;
  std::uint32_t max_batch = 1;
  bool omit_cap = false;
};

// --worker N: a separate process holding N latency subscribers, so that the
// subscribers' own gRPC machinery (one poller per process) is not the
// bottleneck being measured. Protocol on stdin/stdout with the parent:
//   -> "ready\n" once every stream is established (or "error ...\n");
//   <- the number of committed events, after the drivers are done;
//   -> "done <min_events> <event_bytes> <n_commit> <n_request> <messages>\n", then the
//      latencies as raw floats (commit, then request).
int RunWorker(const WorkerArgs& a) {
  Tls tls{ReadFile(a.ca), ReadFile(a.cert), ReadFile(a.key)};
  Fleet fleet;
  fleet.Open(a.subscribers, a.per_conn, a.max_batch, a.omit_cap, a.target, tls, a.token, a.from,
             true);
  if (!fleet.WaitReady(seconds(300))) {
    std::printf("error subscribers not established: %s\n", fleet.counters.first_error.c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::size_t committed = 0;
  if (std::scanf("%zu", &committed) != 1) return 1;
  fleet.Drain(committed, seconds(60));
  fleet.Close();
  Results r;
  r.Add(fleet);
  std::printf("done %zu %zu %zu %zu %zu\n", r.min_events, r.event_bytes, r.commit.size(),
              r.request.size(), r.messages);
  std::fwrite(r.commit.data(), sizeof(float), r.commit.size(), stdout);
  std::fwrite(r.request.data(), sizeof(float), r.request.size(), stdout);
  std::fflush(stdout);
  return 0;
}

// The parent's side of the workers: this executable again, with --worker.
class Workers {
 public:
  Workers(std::size_t processes, const WorkerArgs& all) {
    for (std::size_t k = 0; k < processes; ++k) {
      WorkerArgs a = all;
      a.subscribers = all.subscribers * (k + 1) / processes - all.subscribers * k / processes;
      if (a.subscribers == 0) continue;
      int to_child[2], from_child[2];
      if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
      std::vector<std::string> args = {"/proc/self/exe",
                                       "--worker",
                                       std::to_string(a.subscribers),
                                       "--worker-target",
                                       a.target,
                                       "--worker-pki",
                                       a.ca + "," + a.cert + "," + a.key,
                                       "--worker-token",
                                       a.token,
                                       "--worker-from",
                                       std::to_string(a.from),
                                       "--streams-per-connection",
                                       std::to_string(a.per_conn),
                                       "--max-batch",
                                       std::to_string(a.max_batch)};
      if (a.omit_cap) args.push_back("--omit-cap-xml");
      const pid_t pid = fork();
      if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        std::vector<char*> argv;
        for (auto& x : args) argv.push_back(x.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
      }
      close(to_child[0]);
      close(from_child[1]);
      procs_.push_back({pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")});
    }
  }
  ~Workers() {
    for (auto& p : procs_) {
      if (p.in) fclose(p.in);
      if (p.out) fclose(p.out);
      int st;
      waitpid(p.pid, &st, 0);
    }
  }
  void WaitReady() {
    for (auto& p : procs_) {
      char line[512] = {0};
      if (!std::fgets(line, sizeof line, p.out) || std::string(line) != "ready\n")
        throw std::runtime_error(std::string("worker not ready: ") + line);
    }
  }
  Results Finish(std::size_t committed) {
    for (auto& p : procs_) {
      std::fprintf(p.in, "%zu\n", committed);
      std::fflush(p.in);
    }
    Results r;
    for (auto& p : procs_) {
      std::size_t min_events = 0, bytes = 0, nc = 0, nr = 0, messages = 0;
      if (std::fscanf(p.out, "done %zu %zu %zu %zu %zu", &min_events, &bytes, &nc, &nr,
                      &messages) != 5 ||
          std::fgetc(p.out) != '\n')
        throw std::runtime_error("worker did not report");
      std::vector<float> c(nc), q(nr);
      if (std::fread(c.data(), sizeof(float), nc, p.out) != nc ||
          std::fread(q.data(), sizeof(float), nr, p.out) != nr)
        throw std::runtime_error("worker report cut short");
      r.min_events = std::min(r.min_events, min_events);
      r.messages += messages;
      if (r.event_bytes == 0) r.event_bytes = bytes;
      r.commit.insert(r.commit.end(), c.begin(), c.end());
      r.request.insert(r.request.end(), q.begin(), q.end());
    }
    return r;
  }

 private:
  struct Proc {
    pid_t pid;
    FILE* in;
    FILE* out;
  };
  std::vector<Proc> procs_;
};

double Percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodwarn alerting stream benchmark (docs/alerting/CLIENTS.md)"};
  std::string floodwarn = FLOODWARN_BINARY_DIR "/apps/floodwarn";
  std::string source_dir = FLOODWARN_SOURCE_DIR;
  int driver_threads = 8;
  std::size_t subscribers = 1000, idle = 10000, per_conn = 1;
  std::string server_cpus, client_cpus;
  double rate = 100, duration = 10;
  app.add_option("--floodwarn", floodwarn, "floodwarn executable")->capture_default_str();
  app.add_option("--source-dir", source_dir,
                 "Source tree (tests/alerting/pki.sh, tests/alerting/client_rules.toml)")
      ->capture_default_str();
  app.add_option("--drivers", driver_threads,
                 "Threads sharing the event schedule (a slow commit must not delay the next)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--subscribers", subscribers, "Subscribers in the latency run (0 = skip)")
      ->capture_default_str();
  app.add_option("--rate", rate, "Alert events per second")->capture_default_str();
  app.add_option("--duration", duration, "Seconds of the latency run")->capture_default_str();
  app.add_option("--idle", idle, "Idle subscribers in the memory run (0 = skip)")
      ->capture_default_str();
  app.add_option("--streams-per-connection", per_conn,
                 "Subscribers sharing one TCP+TLS connection (1 = one connection each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--server-cpus", server_cpus,
                 "CPUs the server runs on, e.g. 0-1 (default: any); with --client-cpus the "
                 "subscribers do not take the server's cores");
  app.add_option("--client-cpus", client_cpus,
                 "CPUs the subscribers and drivers run on, e.g. 2-15 (default: any)");
  std::uint32_t max_batch = 1;
  app.add_option("--max-batch", max_batch,
                 "SubscribeRequest.max_batch: events per message when a subscriber is behind "
                 "(1 = one event per message)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bool omit_cap = false;
  app.add_flag("--omit-cap-xml", omit_cap,
               "SubscribeRequest.omit_cap_xml: events without their CAP XML");
  std::size_t client_processes = 0;
  app.add_option("--client-processes", client_processes,
                 "Latency subscribers in this many separate processes (0 = in this one)")
      ->capture_default_str();
  WorkerArgs worker;  // internal: --worker mode (RunWorker)
  std::string worker_pki;
  app.add_option("--worker", worker.subscribers)->group("");
  app.add_option("--worker-target", worker.target)->group("");
  app.add_option("--worker-pki", worker_pki)->group("");
  app.add_option("--worker-token", worker.token)->group("");
  app.add_option("--worker-from", worker.from)->group("");
  CLI11_PARSE(app, argc, argv);
  if (worker.subscribers > 0) {
    try {
      std::istringstream pki(worker_pki);
      std::getline(pki, worker.ca, ',');
      std::getline(pki, worker.cert, ',');
      std::getline(pki, worker.key, ',');
      worker.per_conn = per_conn;
      worker.max_batch = max_batch;
      worker.omit_cap = omit_cap;
      rlimit rl{};
      getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
      return RunWorker(worker);
    } catch (const std::exception& e) {
      std::printf("error %s\n", e.what());
      return 1;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured

  try {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);  // inherited by the server
    std::size_t conns = (std::max(idle, subscribers) + per_conn - 1) / per_conn;
    if (rl.rlim_cur < conns + 256)
      fmt::print(stderr,
                 "warning: RLIMIT_NOFILE {} < {} connections + reserve: raise the hard limit "
                 "(ulimit -Hn) or use --streams-per-connection\n",
                 rl.rlim_cur, conns);

    char tmpl[] = "/tmp/floodwarn_bench_XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string pki = dir + "/pki";
    std::string cmd =
        "/bin/sh " + source_dir + "/tests/alerting/pki.sh " + pki + " operator watcher >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("pki.sh failed: " + cmd);
    const std::string op_token = "bench-operator-token", sub_token = "bench-subscriber-token";
    WriteFile(dir + "/serve.toml", fmt::format(R"(rules_file = "{}/tests/alerting/client_rules.toml"
[service]
listen = "127.0.0.1:0"
metrics_listen = ""
heartbeat_interval = "1s"
max_subscribers = {}
[tls]
cert = "pki/server.pem"
key = "pki/server.key"
client_ca = "pki/ca.pem"
[[auth.tokens]]
principal = "bench-operator"
role = "operator"
sha256 = "{}"
[[auth.tokens]]
principal = "bench-subscriber"
role = "subscriber"
sha256 = "{}"
[store]
path = "alerts.db"
)",
                                               source_dir, std::max(idle, subscribers) + 100,
                                               Sha256Hex(op_token), Sha256Hex(sub_token)));
    Tls tls{ReadFile(pki + "/ca.pem"), ReadFile(pki + "/watcher.pem"),
            ReadFile(pki + "/watcher.key")};

    Server server(floodwarn, dir + "/serve.toml", server_cpus);
    cpu_set_t client_set;
    if (ParseCpuList(client_cpus, &client_set) &&
        sched_setaffinity(0, sizeof client_set, &client_set) != 0)
      throw std::runtime_error("cannot pin the benchmark to CPUs " + client_cpus);
    const std::string target = server.address();
    fmt::print(
        "server {} (pid {}, CPUs {}), subscribers on CPUs {}, {} core(s) online; figures depend "
        "on machine load\n",
        target, server.pid(), server_cpus.empty() ? "any" : server_cpus,
        client_cpus.empty() ? "any" : client_cpus, std::thread::hardware_concurrency());

    fa::ClientOptions op_opts;
    op_opts.target = target;
    op_opts.ca_file = pki + "/ca.pem";
    op_opts.cert_file = pki + "/operator.pem";
    op_opts.key_file = pki + "/operator.key";
    op_opts.token = op_token;
    fa::AlertClient op(op_opts);
    auto Issue = [&](const std::string& subject) {
      fa::ManualAlertRequest r;
      r.subject = subject;
      r.level = 2;
      r.area_id = "talstadt";
      r.headline_de = "Benchmark";
      double now_ms =
          std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
      r.headline_en = fmt::format("bench {:.3f}", now_ms);
      return op.IssueManual(r);
    };
    auto warm = Issue("warmup");
    if (!warm.ok()) throw std::runtime_error("IssueManual failed: " + warm.error.message);

    // ---- 1. idle subscribers: memory per subscriber -------------------------
    if (idle > 0) {
      std::this_thread::sleep_for(seconds(1));
      long before = VmRssKiB(server.pid());
      auto t0 = std::chrono::steady_clock::now();
      Fleet fleet;
      // from = the newest sequence: nothing to replay, the first message is a heartbeat.
      auto list = op.ListActive({});
      fleet.Open(idle, per_conn, max_batch, omit_cap, target, tls, sub_token, list.value->sequence,
                 false);
      bool ok = fleet.WaitReady(seconds(300));
      double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::this_thread::sleep_for(seconds(2));  // settle: a few heartbeat rounds
      long after = VmRssKiB(server.pid());
      fmt::print(
          "idle: {} subscribers held ({} established, {} failed{}) over {} connection(s), opened "
          "in {:.1f} s\n"
          "idle: server VmRSS {:.1f} MiB -> {:.1f} MiB: {:.1f} KiB per idle subscriber\n",
          idle, fleet.counters.ready.load(), fleet.counters.failed.load(),
          fleet.counters.first_error.empty() ? "" : ": " + fleet.counters.first_error,
          fleet.channels.size(), open_s, before / 1024.0, after / 1024.0,
          static_cast<double>(after - before) / static_cast<double>(idle));
      if (!ok) fmt::print("idle: WARNING not every subscriber was established\n");
      fleet.Close();
    }

    // ---- 2. latency at the given event rate ---------------------------------
    if (subscribers == 0) return 0;
    auto list = op.ListActive({});
    Fleet fleet;
    std::unique_ptr<Workers> workers;
    if (client_processes == 0) {
      fleet.Open(subscribers, per_conn, max_batch, omit_cap, target, tls, sub_token,
                 list.value->sequence, true);
      if (!fleet.WaitReady(seconds(300)))
        throw std::runtime_error("latency subscribers not established: " +
                                 fleet.counters.first_error);
    } else {
      WorkerArgs w;
      w.subscribers = subscribers;
      w.target = target;
      w.ca = pki + "/ca.pem";
      w.cert = pki + "/watcher.pem";
      w.key = pki + "/watcher.key";
      w.token = sub_token;
      w.from = list.value->sequence;
      w.per_conn = per_conn;
      w.max_batch = max_batch;
      w.omit_cap = omit_cap;
      workers = std::make_unique<Workers>(client_processes, w);
      workers->WaitReady();
    }
    const std::size_t n_events = static_cast<std::size_t>(rate * duration);
    std::atomic<std::size_t> failures{0};
    // Driver threads share the schedule, so that one slow commit does not
    // shift every later event.
    const double server_cpu0 = CpuSeconds(server.pid());
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> drivers;
    for (int d = 0; d < driver_threads; ++d)
      drivers.emplace_back([&, d] {
        fa::AlertClient client(op_opts);
        for (std::size_t i = static_cast<std::size_t>(d); i < n_events;
             i += static_cast<std::size_t>(driver_threads)) {
          std::this_thread::sleep_until(
              start + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)));
          fa::ManualAlertRequest r;
          r.subject = fmt::format("bench-{}", i);
          r.level = 2;
          r.area_id = "talstadt";
          r.headline_de = "Benchmark";
          double now_ms =
              std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
          r.headline_en = fmt::format("bench {:.3f}", now_ms);
          if (!client.IssueManual(r).ok()) failures++;
        }
      });
    for (auto& t : drivers) t.join();
    double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::size_t committed = n_events - failures;
    Results results;
    if (workers != nullptr) {
      results = workers->Finish(committed);
    } else {
      fleet.Drain(committed, seconds(60));
    }
    const double server_cpu = CpuSeconds(server.pid()) - server_cpu0;
    const double drained_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fleet.Close();
    results.Add(fleet);  // (empty with workers)
    workers.reset();
    std::vector<float>& commit = results.commit;
    std::vector<float>& request = results.request;
    const std::size_t min_events = results.min_events;
    fmt::print(
        "latency: {} subscribers{}, {} events in {:.1f} s ({:.0f}/s, {} failed requests), {} "
        "deliveries; fewest events at one subscriber: {} of {}\n",
        subscribers, client_processes == 0 ? "" : fmt::format(" in {} processes", client_processes),
        n_events, run_s, n_events / run_s, failures.load(), commit.size(), min_events, committed);
    fmt::print(
        "latency: one event message is {} bytes (StreamEvent with the alert and its CAP XML)\n",
        results.event_bytes);
    if (max_batch > 1)
      fmt::print(
          "latency: max_batch {}: {} event messages for {} deliveries ({:.2f} events per "
          "message)\n",
          max_batch, results.messages, commit.size(),
          results.messages == 0
              ? 0.0
              : static_cast<double>(commit.size()) / static_cast<double>(results.messages));
    fmt::print(
        "latency: server CPU {:.2f} s ({:.0f} % of one core until the last delivery): {:.1f} us "
        "per "
        "delivery\n",
        server_cpu, 100 * server_cpu / drained_s,
        commit.empty() ? 0.0 : 1e6 * server_cpu / static_cast<double>(commit.size()));
    fmt::print("latency: last delivery {:.1f} s after the first event: {:.0f} deliveries/s\n",
               drained_s, static_cast<double>(commit.size()) / drained_s);
    fmt::print("latency commit(at)->receipt: p50 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n",
               Percentile(commit, 0.50), Percentile(commit, 0.99),
               commit.empty() ? 0.0 : *std::max_element(commit.begin(), commit.end()));
    fmt::print("latency request->receipt:    p50 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n",
               Percentile(request, 0.50), Percentile(request, 0.99),
               request.empty() ? 0.0 : *std::max_element(request.begin(), request.end()));
    server.Stop();
    std::string rm = "rm -rf " + dir;
    if (std::system(rm.c_str()) != 0) fmt::print(stderr, "could not remove {}\n", dir);
    return min_events >= committed ? 0 : 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
