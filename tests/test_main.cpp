// Test main: initialises Kokkos around GoogleTest. When every test that ran
// was skipped (for example ../shared/ is missing), exits 77 so CTest reports a
// skip rather than a pass.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  Kokkos::initialize(argc, argv);
  int rc = RUN_ALL_TESTS();
  Kokkos::finalize();
  const auto* ut = ::testing::UnitTest::GetInstance();
  if (rc == 0 && ut->skipped_test_count() > 0 && ut->successful_test_count() == 0) return 77;
  return rc;
}
