// The data layout the step kernels share with the host code of the solver:
// face rows, the kinds of halo cells, and the conservation check's tolerance.
#pragma once

#include "kokkos_types.hpp"

namespace floodwarn::solver {

// Face rows precomputed by BoundaryRowsKernel: [row][component][i].
using FaceRows = Kokkos::View<Real***, Kokkos::LayoutRight, MemSpace>;

// What a halo (ghost) cell holds, per edge cell.
enum HaloKind : int { kHaloWall = 0, kHaloOutflow = 1, kHaloLevel = 2, kHaloInflow = 3 };

// Components of a face row in scratch / FaceRows (structure of arrays).
enum FaceComponent { kMass = 0, kMomLeft = 1, kMomRight = 2, kTang = 3, kComponents = 4 };

// The conservation check's tolerance for a clamp, in ulps of the sum of the
// magnitudes of the terms of a cell's update (see StepKernel::CheckRow).
constexpr Real kConservationUlps = 4;

}  // namespace floodwarn::solver
