// Test main: GoogleTest, inside the solver's parallel runtime for the tests
// that link the solver (FLOODWARN_TEST_SOLVER_RUNTIME). When every test that
// ran was skipped (for example ../shared/ is missing), exits 77 so CTest
// reports a skip rather than a pass.
#include <gtest/gtest.h>

#ifdef FLOODWARN_TEST_SOLVER_RUNTIME
#include "floodwarn/solver/runtime.hpp"
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int rc = 0;
  {
#ifdef FLOODWARN_TEST_SOLVER_RUNTIME
    const floodwarn::solver::Runtime runtime;
#endif
    rc = RUN_ALL_TESTS();
  }
  const auto* ut = ::testing::UnitTest::GetInstance();
  if (rc == 0 && ut->skipped_test_count() > 0 && ut->successful_test_count() == 0) return 77;
  return rc;
}
