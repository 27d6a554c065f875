// Test harness for the alerting client tests: child processes with captured
// output (floodwarn serve / watch / ack), a throwaway PKI (pki.sh), and a
// service config with tokens for `floodwarn serve`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "floodwarn/alerting/client.hpp"

namespace floodwarn::testing {

// A child process whose stdout and stderr are read by a background thread
// into lines (so a chatty child never blocks on a full pipe).
class ChildProcess {
 public:
  // argv[0] is the program path. `env` entries ("KEY=value") are added to
  // the parent's environment. Throws std::runtime_error when fork fails.
  explicit ChildProcess(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~ChildProcess();  // SIGKILL and reap if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until a line (stdout or stderr) containing `needle` was printed,
  // at or after line index `from`; returns its text, or nullopt on timeout
  // or when the child's output ended first.
  std::optional<std::string> WaitForLine(const std::string& needle,
                                         std::chrono::milliseconds timeout, std::size_t from = 0);
  // Waits until `pred(lines)` holds (checked on every new line).
  bool WaitFor(const std::function<bool(const std::vector<std::string>&)>& pred,
               std::chrono::milliseconds timeout);
  std::vector<std::string> Lines() const;
  std::string Output() const;  // all lines joined with '\n' (for failure messages)

  void Signal(int sig);
  // Waits for the child to exit (up to `timeout`, then SIGKILL); returns the
  // exit code, or 128 + signal number when it was killed by a signal.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() const { return !reaped_; }

 private:
  void ReadLoop(int fd);
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// Paths of the build.
std::string FloodwarnBinary();  // <build>/apps/floodwarn
std::string PkiScript();        // <source>/tests/alerting/pki.sh

// Runs pki.sh into `dir` with client certificates for `clients`; throws with
// the script's output on failure.
void MakePki(const std::string& dir, const std::vector<std::string>& clients);

// Hex SHA-256 (lowercase), as [[auth.tokens]] sha256 expects.
std::string Sha256Hex(const std::string& text);

// A service config for `floodwarn serve` in `dir`: TLS with the test PKI
// (client certs "operator" and "watcher"), two tokens (operator, watcher =
// subscriber), tests/alerting/client_rules.toml, store at dir/alerts.db.
struct ServeFixture {
  std::string dir;
  std::string config_path;
  std::string store_path;
  std::string pki_dir;
  std::string operator_token = "op-token-0123456789abcdef";
  std::string watcher_token = "watch-token-0123456789abcdef";
  std::string operator_token_file, watcher_token_file;

  // listen: "127.0.0.1:0" or a probed port; extra_service: more [service] lines.
  static ServeFixture Create(const std::string& listen = "127.0.0.1:0",
                             const std::string& extra_service = "");
  // Client options (TLS, client cert "operator"/"watcher") for `target`.
  alerting::ClientOptions Operator(const std::string& target) const;
  alerting::ClientOptions Watcher(const std::string& target) const;
  // Connection arguments for floodwarn watch/ack as the given client.
  std::vector<std::string> CliArgs(const std::string& target, const std::string& who) const;
};

// Starts `floodwarn serve CONFIG` and waits for "listening on HOST:PORT";
// returns the address, or throws with the server's output.
std::string StartServe(std::unique_ptr<ChildProcess>& proc, const std::string& config_path,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
int ProbeFreePort();

}  // namespace floodwarn::testing
