add_library(floodwarn_ingest_live STATIC
  src/live_placeholder.cpp
)
target_link_libraries(floodwarn_ingest_live
  PUBLIC floodwarn_ingest_types floodwarn_ingest_files
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
