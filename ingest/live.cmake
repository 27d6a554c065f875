# floodwarn_ingest_live: durable reading store (SQLite WAL), MQTT source
# (libmosquitto) with the JSON and TTN v3 decoders, HTTP pollers (libcurl) for
# PEGELONLINE and OGC SensorThings, the ingest pipeline (decode -> QC -> store
# -> events) and its Prometheus metrics.
add_library(floodwarn_ingest_live STATIC
  src/reading_store.cpp
)
target_include_directories(floodwarn_ingest_live PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_compile_features(floodwarn_ingest_live PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_live
  PUBLIC floodwarn_ingest_types floodwarn_ingest_files
  PRIVATE SQLite::SQLite3 floodwarn_warnings fmt::fmt spdlog::spdlog)
