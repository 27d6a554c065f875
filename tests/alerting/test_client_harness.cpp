#include "test_client_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "test_support.hpp"

extern char** environ;

namespace floodwarn::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<std::string> env) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // Build argv/envp before fork (no allocation in the child).
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (auto& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execve(args[0], args.data(), envp.data());
    const char msg[] = "exec failed\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { ReadLoop(fd); });
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::ReadLoop(int fd) {
  std::string partial;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t pos;
    std::lock_guard<std::mutex> lock(mutex_);
    while ((pos = partial.find('\n')) != std::string::npos) {
      lines_.push_back(partial.substr(0, pos));
      partial.erase(0, pos + 1);
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!partial.empty()) lines_.push_back(partial);
  eof_ = true;
  cv_.notify_all();
}

bool ChildProcess::WaitFor(const std::function<bool(const std::vector<std::string>&)>& pred,
                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return pred(lines_) || eof_; }) && pred(lines_);
}

std::optional<std::string> ChildProcess::WaitForLine(const std::string& needle,
                                                     std::chrono::milliseconds timeout,
                                                     std::size_t from) {
  std::optional<std::string> found;
  WaitFor(
      [&](const std::vector<std::string>& lines) {
        for (std::size_t i = from; i < lines.size(); ++i)
          if (lines[i].find(needle) != std::string::npos) {
            found = lines[i];
            return true;
          }
        return false;
      },
      timeout);
  return found;
}

std::vector<std::string> ChildProcess::Lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_;
}

std::string ChildProcess::Output() const {
  std::string out;
  for (const auto& l : Lines()) out += l + "\n";
  return out;
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reaped_ = true;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (reader_.joinable()) reader_.join();  // output complete once the child is gone
  return status_;
}

std::string FloodwarnBinary() { return BinaryDir() + "/apps/floodwarn"; }
std::string PkiScript() { return SourceDir() + "/tests/alerting/pki.sh"; }

void MakePki(const std::string& dir, const std::vector<std::string>& clients) {
  std::vector<std::string> argv = {"/bin/sh", PkiScript(), dir};
  argv.insert(argv.end(), clients.begin(), clients.end());
  ChildProcess p(argv);
  int rc = p.Wait(std::chrono::seconds(60));
  if (rc != 0)
    throw std::runtime_error("pki.sh failed (exit " + std::to_string(rc) +
                             "); openssl is "
                             "required (scripts/setup installs it):\n" +
                             p.Output());
}

std::string Sha256Hex(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

namespace {
void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}
}  // namespace

ServeFixture ServeFixture::Create(const std::string& listen, const std::string& extra_service) {
  ServeFixture fx;
  fx.dir = MakeTempDir("floodwarn_client");
  fx.pki_dir = fx.dir + "/pki";
  MakePki(fx.pki_dir, {"operator", "watcher"});
  fx.config_path = fx.dir + "/serve.toml";
  fx.store_path = fx.dir + "/alerts.db";
  fx.operator_token_file = fx.dir + "/operator.token";
  fx.watcher_token_file = fx.dir + "/watcher.token";
  WriteFile(fx.operator_token_file, fx.operator_token + "\n");
  WriteFile(fx.watcher_token_file, fx.watcher_token + "\n");
  std::ostringstream c;
  c << "rules_file = \"" << SourceDir() << "/tests/alerting/client_rules.toml\"\n\n"
    << "[service]\nlisten = \"" << listen << "\"\nmetrics_listen = \"\"\n"
    << "heartbeat_interval = \"500ms\"\n"
    << extra_service << "\n"
    << "[tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\n"
    << "client_ca = \"pki/ca.pem\"\n\n"
    << "[[auth.tokens]]\nprincipal = \"operator\"\nrole = \"operator\"\nsha256 = \""
    << Sha256Hex(fx.operator_token) << "\"\n\n"
    << "[[auth.tokens]]\nprincipal = \"watcher\"\nrole = \"subscriber\"\nsha256 = \""
    << Sha256Hex(fx.watcher_token) << "\"\n\n"
    << "[store]\npath = \"alerts.db\"\n";
  WriteFile(fx.config_path, c.str());
  return fx;
}

alerting::ClientOptions ServeFixture::Operator(const std::string& target) const {
  alerting::ClientOptions o;
  o.target = target;
  o.ca_file = pki_dir + "/ca.pem";
  o.cert_file = pki_dir + "/operator.pem";
  o.key_file = pki_dir + "/operator.key";
  o.token = operator_token;
  return o;
}

alerting::ClientOptions ServeFixture::Watcher(const std::string& target) const {
  alerting::ClientOptions o = Operator(target);
  o.cert_file = pki_dir + "/watcher.pem";
  o.key_file = pki_dir + "/watcher.key";
  o.token = watcher_token;
  return o;
}

std::vector<std::string> ServeFixture::CliArgs(const std::string& target,
                                               const std::string& who) const {
  return {"--server",     target,
          "--ca",         pki_dir + "/ca.pem",
          "--cert",       pki_dir + "/" + who + ".pem",
          "--key",        pki_dir + "/" + who + ".key",
          "--token-file", who == "operator" ? operator_token_file : watcher_token_file};
}

std::string StartServe(std::unique_ptr<ChildProcess>& proc, const std::string& config_path,
                       std::chrono::milliseconds timeout) {
  proc = std::make_unique<ChildProcess>(
      std::vector<std::string>{FloodwarnBinary(), "serve", config_path});
  auto line = proc->WaitForLine("listening on ", timeout);
  if (!line)
    throw std::runtime_error("floodwarn serve did not report 'listening on' within " +
                             std::to_string(timeout.count()) + " ms; output:\n" + proc->Output());
  std::smatch m;
  static const std::regex re(R"(listening on (\S+:\d+))");
  if (!std::regex_search(*line, m, re))
    throw std::runtime_error("cannot parse the address from: " + *line);
  return m[1].str();
}

int ProbeFreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(s);
    throw std::runtime_error("cannot bind 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(s);
  return port;
}

}  // namespace floodwarn::testing
