# Tests of ingest component "files": station registry, rating curves, ZRXP,
# CSV, RADOLAN, QC, forcing (sources in tests/ingest/test_*.cpp).
floodwarn_add_test(test_ingest_stations unit ${CMAKE_CURRENT_SOURCE_DIR}/test_stations.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_rating unit ${CMAKE_CURRENT_SOURCE_DIR}/test_rating.cpp
  LIBS floodwarn_ingest_forcing)
floodwarn_add_test(test_ingest_zrxp unit ${CMAKE_CURRENT_SOURCE_DIR}/test_zrxp.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_csv unit ${CMAKE_CURRENT_SOURCE_DIR}/test_csv.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_qc unit ${CMAKE_CURRENT_SOURCE_DIR}/test_qc.cpp
  LIBS floodwarn_ingest_files)
find_package(ZLIB REQUIRED)
floodwarn_add_test(test_ingest_radolan unit ${CMAKE_CURRENT_SOURCE_DIR}/test_radolan.cpp
  LIBS floodwarn_ingest_files GDAL::GDAL ZLIB::ZLIB)
floodwarn_add_test(test_ingest_forcing unit ${CMAKE_CURRENT_SOURCE_DIR}/test_forcing.cpp
  LIBS floodwarn_ingest_forcing)
floodwarn_add_test(test_ingest_files_mutation unit
  ${CMAKE_CURRENT_SOURCE_DIR}/test_files_mutation.cpp LIBS floodwarn_ingest_files)

# `floodwarn ingest import` and `floodwarn rating fit` run as the real executable.
floodwarn_add_test(test_ingest_import integration ${CMAKE_CURRENT_SOURCE_DIR}/test_import.cpp
  LIBS floodwarn_ingest_live floodwarn_ingest_files)
target_compile_definitions(test_ingest_import PRIVATE FLOODWARN_EXE="$<TARGET_FILE:floodwarn>")
add_dependencies(test_ingest_import floodwarn)

# libFuzzer targets (clang only): -DFLOODWARN_FUZZ=ON instruments
# floodwarn_ingest_files and builds fuzz/fuzz_*.cpp; a short run of each is a
# unit test, a 10-minute run a soak test. See fuzz/README.md.
if(FLOODWARN_FUZZ)
  foreach(target zrxp csv radolan)
    add_executable(fuzz_${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${target}.cpp)
    target_compile_options(fuzz_${target} PRIVATE -fsanitize=fuzzer,address)
    target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer,address)
    target_link_libraries(fuzz_${target} PRIVATE floodwarn_ingest_files floodwarn_warnings)
    # New inputs go to the first (build-tree) corpus folder; the shared
    # reference samples are read-only seeds.
    set(corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz_corpus_${target})
    file(MAKE_DIRECTORY ${corpus})
    add_test(NAME fuzz_${target}_short COMMAND fuzz_${target} -runs=20000 -max_len=65536
             ${corpus} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds ${FLOODWARN_SHARED_DEFAULT}/reference)
    set_tests_properties(fuzz_${target}_short PROPERTIES LABELS unit)
    add_test(NAME fuzz_${target}_soak COMMAND fuzz_${target} -max_total_time=600
             ${corpus} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds ${FLOODWARN_SHARED_DEFAULT}/reference)
    set_tests_properties(fuzz_${target}_soak PROPERTIES LABELS soak)
  endforeach()
endif()
