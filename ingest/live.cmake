# floodwarn_ingest_live: durable reading store (SQLite WAL), MQTT source
# (libmosquitto) with the JSON and TTN v3 decoders, HTTP pollers (libcurl) for
# PEGELONLINE and OGC SensorThings, the ingest pipeline (decode -> QC -> store
# -> events) and its Prometheus metrics.
pkg_check_modules(FLOODWARN_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
find_package(prometheus-cpp REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # MqttSource checks its TLS files at construction

add_library(floodwarn_ingest_live STATIC
  src/reading_store.cpp
  src/json_split.cpp
  src/mqtt_json.cpp
  src/ttn.cpp
  src/mqtt_source.cpp
  src/ingest_metrics.cpp
  src/ingest_pipeline.cpp
  src/http_poller.cpp
  src/pegelonline.cpp
  src/pegelonline_decode.cpp
  src/sensorthings.cpp
  src/sensorthings_decode.cpp
  src/ingest_config.cpp
)
target_include_directories(floodwarn_ingest_live PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_compile_features(floodwarn_ingest_live PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_live
  PUBLIC floodwarn_ingest_types floodwarn_ingest_files
  PRIVATE SQLite::SQLite3 PkgConfig::FLOODWARN_MOSQUITTO OpenSSL::SSL prometheus-cpp::core CURL::libcurl
          nlohmann_json::nlohmann_json floodwarn_warnings fmt::fmt spdlog::spdlog tomlplusplus::tomlplusplus)
if(FLOODWARN_FUZZ)  # option declared in files.cmake (clang only)
  # coverage feedback for libFuzzer and AddressSanitizer in the decoders
  target_compile_options(floodwarn_ingest_live PRIVATE -fsanitize=fuzzer-no-link,address)
  target_link_options(floodwarn_ingest_live PUBLIC -fsanitize=address)
endif()
