// Shared helpers for tests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace floodwarn::testing {

// Folder of the shared reference/validation data (../shared or $FLOODWARN_SHARED),
// or nullopt when absent. Tests that need it GTEST_SKIP() with a message.
std::optional<std::string> SharedDir();
// Path of a file under the shared folder, or nullopt when it is missing.
std::optional<std::string> SharedFile(const std::string& relative);
// Source tree and build tree of the project.
std::string SourceDir();
std::string BinaryDir();
// A fresh empty temporary directory (removed by the OS / CI cleanup).
std::string MakeTempDir(const std::string& prefix = "floodwarn_test");

// Runs a shell command; stdout and stderr together, and the exit status
// (-1 when it did not exit normally).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

// The whole content of a file; throws std::runtime_error naming it when it
// cannot be read (a missing output fails the test with that message).
std::string ReadText(const std::string& path);

// Polls `pred` every `poll` until it holds or `timeout` has passed; the last
// answer (a condition that becomes true just at the deadline still counts).
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
             std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(poll);
  }
  return pred();
}

}  // namespace floodwarn::testing

// Skip the current test when a shared file is missing; binds `var` to its path.
#define FLOODWARN_REQUIRE_SHARED(var, relative)                       \
  std::string var;                                                    \
  do {                                                                \
    auto p_ = ::floodwarn::testing::SharedFile(relative);             \
    if (!p_)                                                          \
      GTEST_SKIP() << "shared data missing: ../shared/" << (relative) \
                   << " (set FLOODWARN_SHARED to the shared folder)"; \
    var = *p_;                                                        \
  } while (0)
