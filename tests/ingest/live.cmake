# Tests of ingest component "live" (and of the reading store, in core).
find_package(SQLite3 REQUIRED)
floodwarn_add_test(test_reading_store unit test_reading_store.cpp
  LIBS floodwarn_ingest_core SQLite::SQLite3)
floodwarn_add_test(test_mqtt_json unit test_mqtt_json.cpp LIBS floodwarn_ingest_live)
floodwarn_add_test(test_ttn unit test_ttn.cpp LIBS floodwarn_ingest_live)
find_package(prometheus-cpp REQUIRED)
pkg_check_modules(FLOODWARN_TEST_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
floodwarn_add_test(test_mqtt_broker integration test_mqtt_broker.cpp
  LIBS floodwarn_ingest_live prometheus-cpp::core PkgConfig::FLOODWARN_TEST_MOSQUITTO fmt::fmt)
floodwarn_add_test(test_mqtt_tls integration test_mqtt_tls.cpp
  LIBS floodwarn_ingest_live prometheus-cpp::core PkgConfig::FLOODWARN_TEST_MOSQUITTO fmt::fmt
       spdlog::spdlog)
add_executable(test_pipeline_crash_child test_pipeline_crash_child.cpp)
target_link_libraries(test_pipeline_crash_child PRIVATE floodwarn_ingest_live prometheus-cpp::core
                                                        spdlog::spdlog floodwarn_warnings)
floodwarn_add_test(test_pipeline_crash integration test_pipeline_crash.cpp
  LIBS floodwarn_ingest_live PkgConfig::FLOODWARN_TEST_MOSQUITTO fmt::fmt)
add_dependencies(test_pipeline_crash test_pipeline_crash_child)
pkg_check_modules(FLOODWARN_TEST_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(nlohmann_json REQUIRED)
floodwarn_add_test(test_pegelonline integration test_pegelonline.cpp
  LIBS floodwarn_ingest_live prometheus-cpp::core PkgConfig::FLOODWARN_TEST_HTTPLIB
       nlohmann_json::nlohmann_json)
floodwarn_add_test(test_sensorthings integration test_sensorthings.cpp
  LIBS floodwarn_ingest_live prometheus-cpp::core PkgConfig::FLOODWARN_TEST_HTTPLIB)
floodwarn_add_test(test_pipeline unit test_pipeline.cpp
  LIBS floodwarn_ingest_live prometheus-cpp::core SQLite::SQLite3)

# libFuzzer targets of the live decoders (clang only, -DFLOODWARN_FUZZ=ON):
# a short run of each is a unit test, a 10-minute run a soak test. Seeds in
# fuzz_live/corpus/<decoder>; new inputs go to the build tree.
if(FLOODWARN_FUZZ)
  foreach(target mqtt_json ttn pegelonline sensorthings)
    floodwarn_add_ingest_fuzzer(${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_live/fuzz_${target}.cpp
      floodwarn_ingest_live 8192 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_live/corpus/${target})
  endforeach()
endif()
floodwarn_add_test(test_pipeline_mutation unit test_pipeline_mutation.cpp LIBS floodwarn_ingest_live)
