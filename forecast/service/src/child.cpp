#include "floodwarn/forecast/child.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace floodwarn::forecast {

std::string ChildOutcome::Describe() const {
  if (!started) return "could not start: " + error;
  if (cancelled) return "stopped (the service is shutting down)";
  if (timed_out) return fmt::format("not done within the time limit ({:.0f} s; stopped)", wall_s);
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
  return fmt::format("exit {}", exit_code);
}

std::string SelfExecutable() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

ChildOutcome RunChild(const std::vector<std::string>& argv, const std::string& log_path,
                      std::chrono::milliseconds limit, const std::atomic<bool>* cancel) {
  ChildOutcome out;
  if (argv.empty()) {
    out.error = "no program";
    return out;
  }
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    out.error = fmt::format("{}: {}", log_path, std::strerror(errno));
    return out;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment is built before fork: between fork and exec a child of a
  // multi-threaded process may only make async-signal-safe calls (setenv may
  // need a malloc lock another thread held).
  std::vector<std::string> env_text;
  bool has_wait_policy = false;
  for (char** e = environ; *e != nullptr; ++e) {
    env_text.emplace_back(*e);
    has_wait_policy = has_wait_policy || env_text.back().rfind("OMP_WAIT_POLICY=", 0) == 0;
  }
  if (!has_wait_policy) env_text.emplace_back("OMP_WAIT_POLICY=passive");
  std::vector<char*> env;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    out.error = fmt::format("fork: {}", std::strerror(errno));
    close(log_fd);
    return out;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // Below the service in priority: the model must not starve the warnings
    // (a plain system call, safe here).
    (void)!setpriority(PRIO_PROCESS, 0, 10);
    execve(args[0], args.data(), env.data());
    const char msg[] = "exec failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  close(log_fd);
  out.started = true;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      out.error = fmt::format("waitpid: {}", std::strerror(errno));
      break;
    }
    const bool cancelled = cancel != nullptr && cancel->load();
    if (cancelled || std::chrono::steady_clock::now() - start > limit) {
      out.timed_out = !cancelled;
      out.cancelled = cancelled;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  if (out.exit_code == 127 && !out.timed_out) out.error = "exec failed (see the log)";
  return out;
}

}  // namespace floodwarn::forecast
