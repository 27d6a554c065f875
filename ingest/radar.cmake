add_library(floodwarn_ingest_radar STATIC
  src/radar_placeholder.cpp
)
target_link_libraries(floodwarn_ingest_radar
  PUBLIC floodwarn_ingest_files
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
