// The one place that names the execution/memory spaces, view types and Real.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

#ifndef FLOODWARN_REAL_TYPE
#define FLOODWARN_REAL_TYPE double
#endif

namespace floodwarn::solver {

using Real = FLOODWARN_REAL_TYPE;
using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Field2D = Kokkos::View<Real**, Kokkos::LayoutRight, MemSpace>;
using Field1D = Kokkos::View<Real*, MemSpace>;

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

}  // namespace floodwarn::solver
