// Child process of test_alerting_store_crash: opens the store and applies
// batches of 3 events (plus an alert upsert and an audit entry) forever,
// printing "seq <last>" AFTER each Apply returned, until it is SIGKILLed.
//
//   test_alerting_store_crash_child DB_PATH
//
// Event contents are a pure function of (pid, counter, index) so that the
// parent can rebuild them and check that what survived is intact.
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "floodwarn/alerting/store.hpp"
#include "spdlog/spdlog.h"
#include "test_store_crash_events.hpp"

int main(int argc, char** argv) {
  using namespace floodwarn::alerting;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DB_PATH\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // stdout is the report channel
  try {
    AlertStore store(argv[1]);
    std::printf("start %llu\n", static_cast<unsigned long long>(store.LastSequence()));
    std::fflush(stdout);
    const long pid = static_cast<long>(getpid());
    for (long n = 0;; ++n) {
      auto r = store.Apply(crashtest::MakeBatch(pid, n));
      if (!r.ok()) {
        std::fprintf(stderr, "apply failed: %s\n", r.error.message.c_str());
        return 1;
      }
      std::printf("seq %llu\n", static_cast<unsigned long long>(r.value->back().sequence));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
