// A program run as a child process with a time limit: the forecast loop runs
// each cycle this way, so that a model that blows up, runs out of memory,
// crashes or hangs cannot take the warning service with it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace floodwarn::forecast {

struct ChildOutcome {
  bool started = false;    // false: the program could not be started (error says why)
  bool timed_out = false;  // killed (SIGKILL) after the time limit
  bool cancelled = false;  // killed because the caller asked
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it (SIGKILL after a time out too)
  double wall_s = 0.0;
  std::string error;
  // One line for people: "exit 0", "exit 2", "killed by signal 11 (SIGSEGV)",
  // "not done within 300 s (stopped)", "could not start: ...".
  std::string Describe() const;
};

// Runs `argv` (argv[0] the program's path) with stdout and stderr appended to
// `log_path`, and waits at most `limit`. The child runs at a lower priority
// (nice 10) with the environment inherited and OMP_WAIT_POLICY=passive unless
// set (threads that spin while waiting starve the service beside them).
// Never throws for the child's failures.
// `cancel` (may be null): when it becomes true the child is killed as on a
// time out (serve is stopping).
ChildOutcome RunChild(const std::vector<std::string>& argv, const std::string& log_path,
                      std::chrono::milliseconds limit, const std::atomic<bool>* cancel = nullptr);

// The path of the running program (/proc/self/exe), to run its own
// subcommands as children.
std::string SelfExecutable();

}  // namespace floodwarn::forecast
