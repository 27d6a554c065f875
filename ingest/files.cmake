add_library(floodwarn_ingest_files STATIC
  src/files_placeholder.cpp
)
target_link_libraries(floodwarn_ingest_files
  PUBLIC floodwarn_ingest_types
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
