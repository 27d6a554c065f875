# floodwarn_ingest_files: decoders of gauge series files (ZRXP, CSV).
add_library(floodwarn_ingest_files STATIC
  src/zrxp.cpp
  src/csv.cpp
)
target_include_directories(floodwarn_ingest_files PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
target_compile_features(floodwarn_ingest_files PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_files
  PUBLIC floodwarn_ingest_core floodwarn::common
  PRIVATE floodwarn_warnings fmt::fmt)
floodwarn_ingest_instrument(floodwarn_ingest_files)
