// Solver options for the regression cases: the conservation check on, stopping
// at the first violation (issue #17), so that any water a clamp adds or
// removes beyond round-off fails the case with the time and the cell named.
#pragma once

#include "floodwarn/solver/solver.hpp"

namespace floodwarn::testing {

inline solver::Options Checked(solver::Options options = {}) {
  options.check_conservation = solver::ConservationCheck::kStop;
  return options;
}

}  // namespace floodwarn::testing
