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

}  // namespace floodwarn::solver
