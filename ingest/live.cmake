# floodwarn_ingest_live: MQTT source (libmosquitto) with the JSON and TTN v3
# decoders, HTTP pollers (libcurl) for PEGELONLINE and OGC SensorThings, the
# ingest pipeline (decode -> QC -> store -> events), its Prometheus metrics
# and the [ingest] config loader.
pkg_check_modules(FLOODWARN_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
find_package(prometheus-cpp REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # MqttSource checks its TLS files at construction

add_library(floodwarn_ingest_live STATIC
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
target_include_directories(floodwarn_ingest_live
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_compile_features(floodwarn_ingest_live PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_live
  PUBLIC floodwarn_ingest_core
  PRIVATE PkgConfig::FLOODWARN_MOSQUITTO OpenSSL::SSL prometheus-cpp::core CURL::libcurl
          nlohmann_json::nlohmann_json floodwarn_warnings fmt::fmt spdlog::spdlog tomlplusplus::tomlplusplus)
floodwarn_ingest_instrument(floodwarn_ingest_live)
