// Kokkos initialisation across the 3.x and 4.x APIs, behind Runtime.
#include "floodwarn/solver/runtime.hpp"

#include <fmt/format.h>

#include "kokkos_types.hpp"

namespace floodwarn::solver {

Runtime::Runtime(const Settings& settings) {
#if KOKKOS_VERSION >= 30700
  Kokkos::InitializationSettings init;
  if (settings.threads > 0) init.set_num_threads(settings.threads);
  init.set_disable_warnings(settings.quiet);
  Kokkos::initialize(init);
#else
  Kokkos::InitArguments args;
  if (settings.threads > 0) args.num_threads = settings.threads;
  args.disable_warnings = settings.quiet;
  Kokkos::initialize(args);
#endif
}

Runtime::~Runtime() { Kokkos::finalize(); }

std::string Runtime::Description() {
  return fmt::format("{}, concurrency {}", ExecSpace::name(), ExecSpace().concurrency());
}

}  // namespace floodwarn::solver
