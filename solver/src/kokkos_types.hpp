// The one place that names the execution/memory spaces, the view types, the
// team types and the inner-loop helpers of the kernels. Private to the solver
// library (its public headers never include Kokkos); tests and benchmarks
// reach it through the floodwarn_solver_internal target.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

#include "floodwarn/solver/real.hpp"

namespace floodwarn::solver {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Field2D = Kokkos::View<Real**, Kokkos::LayoutRight, MemSpace>;
using Field1D = Kokkos::View<Real*, MemSpace>;
using TeamPolicy = Kokkos::TeamPolicy<ExecSpace>;
using TeamMember = TeamPolicy::member_type;
using ScratchRow = Kokkos::View<Real*, ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;

// Forces a lambda inline on the host (g++ stops inlining big loop bodies,
// and a loop that calls its body does not vectorise). Written after the
// lambda's parameter list: [=](int i) FLOODWARN_INLINE_LAMBDA { ... }.
#if defined(__GNUC__) && !defined(__CUDA_ARCH__)
#define FLOODWARN_INLINE_LAMBDA __attribute__((always_inline))
#else
#define FLOODWARN_INLINE_LAMBDA
#endif

// True when kernels run on the host: loops along a row are then plain
// vectorisable loops; on a GPU the same loops are TeamVectorRange loops.
inline constexpr bool kHostKernels =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible;

// Math that builds on every backend and Kokkos 3.4 through 4.x.
KOKKOS_FORCEINLINE_FUNCTION Real Sqrt(Real x) {
  using std::sqrt;
  return sqrt(x);
}
KOKKOS_FORCEINLINE_FUNCTION Real Cbrt(Real x) {
  using std::cbrt;
  return cbrt(x);
}
KOKKOS_FORCEINLINE_FUNCTION Real Exp(Real x) {
  using std::exp;
  return exp(x);
}
KOKKOS_FORCEINLINE_FUNCTION Real Expm1(Real x) {
  using std::expm1;
  return expm1(x);
}
KOKKOS_FORCEINLINE_FUNCTION Real Abs(Real x) { return x < Real(0) ? -x : x; }
KOKKOS_FORCEINLINE_FUNCTION Real Max0(Real x) { return x > Real(0) ? x : Real(0); }

// Limits of Real as plain constants: std::numeric_limits is host code for
// nvcc, and kernels need them too.
template <typename T>
struct RealLimits;
template <>
struct RealLimits<double> {
  static constexpr double kEpsilon = 2.220446049250313080847e-16;
  static constexpr double kMax = 1.7976931348623157e308;
};
template <>
struct RealLimits<float> {
  static constexpr float kEpsilon = 1.1920928955078125e-07f;
  static constexpr float kMax = 3.40282346638528859812e+38f;
};
inline constexpr Real kEpsilon = RealLimits<Real>::kEpsilon;  // 1 ulp at 1
inline constexpr Real kRealMax = RealLimits<Real>::kMax;      // largest finite Real

// The inner loop of a team over [0, n), as Parthenon's par_for_inner: on the
// host a plain loop along a row that the compiler vectorises (the body must
// be inlined: a force-inlined function or a FLOODWARN_INLINE_LAMBDA lambda; a
// loop that calls its body does not vectorise), on a GPU the team's threads
// and vector lanes (TeamVectorRange).
template <typename Body>
KOKKOS_FORCEINLINE_FUNCTION void ParForInner(const TeamMember& member, int n, const Body& body) {
  if constexpr (kHostKernels) {
    (void)member;
#pragma GCC ivdep
    for (int i = 0; i < n; ++i) body(i);
  } else {
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, n), body);
  }
}

// The maxima of three arrays over [0, n) in one pass, after a ParForInner
// wrote them (a max-reduction inside the update loop kept g++ 12 from
// vectorising it, so the loop writes and this reduces).
struct Max3 {
  Real a, b, c;
};
KOKKOS_FORCEINLINE_FUNCTION Max3 InnerMax3(const TeamMember& member, int n, const Real* a,
                                           const Real* b, const Real* c) {
  Real ra = 0, rb = 0, rc = 0;
  if constexpr (kHostKernels) {
    (void)member;
#pragma omp simd reduction(max : ra, rb, rc)
    for (int i = 0; i < n; ++i) {
      ra = a[i] > ra ? a[i] : ra;
      rb = b[i] > rb ? b[i] : rb;
      rc = c[i] > rc ? c[i] : rc;
    }
  } else {
    member.team_barrier();
    Kokkos::parallel_reduce(
        Kokkos::TeamVectorRange(member, n), [&](int i, Real& v) { v = a[i] > v ? a[i] : v; },
        Kokkos::Max<Real>(ra));
    Kokkos::parallel_reduce(
        Kokkos::TeamVectorRange(member, n), [&](int i, Real& v) { v = b[i] > v ? b[i] : v; },
        Kokkos::Max<Real>(rb));
    Kokkos::parallel_reduce(
        Kokkos::TeamVectorRange(member, n), [&](int i, Real& v) { v = c[i] > v ? c[i] : v; },
        Kokkos::Max<Real>(rc));
  }
  return Max3{ra, rb, rc};
}

}  // namespace floodwarn::solver
