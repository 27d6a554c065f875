// The parallel runtime the solver runs on (Kokkos: OpenMP threads here, a GPU
// in a CUDA build). Programs create one before the first Solver and keep it
// alive while solvers exist; nothing else of the runtime is public.
#pragma once

#include <string>

namespace floodwarn::solver {

class Runtime {
 public:
  struct Settings {
    int threads = 0;     // host threads; 0 = OMP_NUM_THREADS or every core
    bool quiet = false;  // no start-up warnings of the runtime
  };
  // Initialises the runtime (once per process).
  explicit Runtime(const Settings& settings);
  Runtime() : Runtime(Settings{}) {}
  // Finalises it: no Solver may outlive it.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // "OpenMP, 2 threads": the execution space and its concurrency.
  static std::string Description();
};

}  // namespace floodwarn::solver
