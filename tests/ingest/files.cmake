# Tests of the file side of ingest/: station registry and QC (core), rating
# curves and forcing (forcing), ZRXP and CSV (files); each links the part it
# tests (sources in tests/ingest/test_*.cpp).
floodwarn_add_test(test_ingest_stations unit ${CMAKE_CURRENT_SOURCE_DIR}/test_stations.cpp
  LIBS floodwarn_ingest_core)
floodwarn_add_test(test_ingest_rating unit ${CMAKE_CURRENT_SOURCE_DIR}/test_rating.cpp
  LIBS floodwarn_ingest_forcing)
floodwarn_add_test(test_ingest_zrxp unit ${CMAKE_CURRENT_SOURCE_DIR}/test_zrxp.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_csv unit ${CMAKE_CURRENT_SOURCE_DIR}/test_csv.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_qc unit ${CMAKE_CURRENT_SOURCE_DIR}/test_qc.cpp
  LIBS floodwarn_ingest_core)
floodwarn_add_test(test_ingest_forcing unit ${CMAKE_CURRENT_SOURCE_DIR}/test_forcing.cpp
  LIBS floodwarn_ingest_forcing)
# ZRXP, CSV and RADOLAN (radar part) files mutated; RADOLAN samples gzipped.
find_package(ZLIB REQUIRED)
floodwarn_add_test(test_ingest_files_mutation unit
  ${CMAKE_CURRENT_SOURCE_DIR}/test_files_mutation.cpp
  LIBS floodwarn_ingest_files floodwarn_ingest_radar ZLIB::ZLIB)

# `floodwarn ingest import` and `floodwarn rating fit` run as the real executable.
floodwarn_add_test(test_ingest_import integration ${CMAKE_CURRENT_SOURCE_DIR}/test_import.cpp
  LIBS floodwarn_ingest_core)  # reads the store back
target_compile_definitions(test_ingest_import PRIVATE FLOODWARN_EXE="$<TARGET_FILE:floodwarn>")
add_dependencies(test_ingest_import floodwarn)

# libFuzzer targets of the file decoders (clang only, -DFLOODWARN_FUZZ=ON),
# seeded with fuzz/seeds and the shared reference samples. See fuzz/README.md.
if(FLOODWARN_FUZZ)
  foreach(target zrxp csv)
    floodwarn_add_ingest_fuzzer(${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${target}.cpp
      floodwarn_ingest_files 65536
      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds ${FLOODWARN_SHARED_DEFAULT}/reference)
  endforeach()
endif()
