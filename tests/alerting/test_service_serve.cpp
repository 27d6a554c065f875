// `floodwarn serve CONFIG` as a process: prints the bound address, serves
// over mutual TLS, exits 0 on SIGTERM; insecure mode is announced loudly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "service_harness.hpp"
#include "test_support.hpp"

namespace {

using namespace floodwarn::testing;

// A child process with stdout and stderr captured separately.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    close(out_);
    close(err_);
  }

  // Reads both pipes until stdout contains `needle` or the timeout passes.
  bool WaitForStdout(const std::string& needle, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (stdout_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0 || !Pump(static_cast<int>(left))) return false;
    }
    return true;
  }
  int Wait() {
    int status = 0;
    while (Pump(100)) {
    }
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void Signal(int sig) { kill(pid_, sig); }
  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  // false when both pipes are at EOF.
  bool Pump(int timeout_ms) {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    if (out_eof_ && err_eof_) return false;
    if (poll(fds, 2, timeout_ms) <= 0) return true;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0)
        (i == 0 ? out_eof_ : err_eof_) = true;
      else
        (i == 0 ? stdout_ : stderr_).append(buf, static_cast<std::size_t>(n));
      if (n <= 0) fds[i].fd = -1;
    }
    return !(out_eof_ && err_eof_);
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool out_eof_ = false, err_eof_ = false;
  std::string stdout_, stderr_;
};

std::string Floodwarn() { return BinaryDir() + "/apps/floodwarn"; }

TEST(FloodwarnServe, PrintsTheBoundAddressServesTlsAndStopsOnSigterm) {
  const std::string dir = MakeTempDir("floodwarn_serve");
  WriteText(dir + "/serve.toml", ServiceConfigText(dir, "metrics_listen = \"127.0.0.1:0\""));
  Child serve({Floodwarn(), "serve", dir + "/serve.toml"});
  ASSERT_TRUE(serve.WaitForStdout("\n", std::chrono::seconds(30))) << serve.out() << serve.err();
  std::smatch m;
  const std::string first_line = serve.out().substr(0, serve.out().find('\n'));
  ASSERT_TRUE(std::regex_match(first_line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")))
      << first_line;
  ASSERT_TRUE(serve.WaitForStdout("/metrics", std::chrono::seconds(10))) << serve.out();
  EXPECT_EQ(serve.err().find("INSECURE"), std::string::npos);

  // A real call over mutual TLS with the operator token.
  const Pki& pki = TestPki();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = pki.ca;
  o.pem_private_key = pki.client_key;
  o.pem_cert_chain = pki.client_cert;
  auto stub = v1::AlertService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + m[1].str(), grpc::SslCredentials(o)));
  grpc::ClientContext ctx;
  AddToken(ctx, kOperatorToken);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::IssueManualRequest req;
  req.set_subject("serve-test");
  req.set_level(2);
  req.set_area_id("talstadt");
  req.set_headline_en("Flood warning (test)");
  req.set_mode(v1::MODE_TEST);
  v1::Alert alert;
  const grpc::Status st = stub->IssueManual(&ctx, req, &alert);
  ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << serve.err();
  EXPECT_EQ(alert.state(), v1::ALERT_STATE_ACTIVE);
  EXPECT_EQ(alert.mode(), v1::MODE_TEST);

  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  EXPECT_NE(serve.out().find("stopping (SIGTERM)"), std::string::npos) << serve.out();

  // The alert was committed durably: a new store on the same file sees it.
  fa::AlertStore store(dir + "/alerts.db");
  ASSERT_TRUE(store.GetAlert(alert.id().c_str()).has_value());
}

TEST(FloodwarnServe, InsecureModeIsAnnouncedLoudly) {
  const std::string dir = MakeTempDir("floodwarn_serve");
  WriteText(dir + "/serve.toml", ServiceConfigText(dir, "", /*tls=*/false));
  Child serve({Floodwarn(), "serve", dir + "/serve.toml"});
  ASSERT_TRUE(serve.WaitForStdout("listening on", std::chrono::seconds(30)))
      << serve.out() << serve.err();
  serve.Signal(SIGINT);
  EXPECT_EQ(serve.Wait(), 0);
  EXPECT_NE(serve.err().find("INSECURE MODE: plaintext gRPC"), std::string::npos) << serve.err();
}

TEST(FloodwarnServe, ConfigErrorExitsNonZeroNamingTheKey) {
  const std::string dir = MakeTempDir("floodwarn_serve");
  WriteText(dir + "/serve.toml", ServiceConfigText(dir, "heartbeat = \"1s\""));
  Child serve({Floodwarn(), "serve", dir + "/serve.toml"});
  EXPECT_EQ(serve.Wait(), 1);
  EXPECT_NE(serve.err().find("service.heartbeat: unknown key"), std::string::npos) << serve.err();
}

}  // namespace
