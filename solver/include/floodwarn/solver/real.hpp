// The floating-point type of the solver state (FLOODWARN_REAL: double or
// float), for the public API. Kokkos stays private to the solver library:
// nothing public includes it.
#pragma once

#ifndef FLOODWARN_REAL_TYPE
#define FLOODWARN_REAL_TYPE double
#endif

namespace floodwarn::solver {

using Real = FLOODWARN_REAL_TYPE;

}  // namespace floodwarn::solver
