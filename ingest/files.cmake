# floodwarn_ingest_files: file decoders (ZRXP, CSV, RADOLAN). GDAL (through
# floodwarn::grids' imported target) georeferences RADOLAN; zlib inflates
# gzipped RADOLAN composites.
find_package(ZLIB REQUIRED)

add_library(floodwarn_ingest_files STATIC
  src/zrxp.cpp
  src/csv.cpp
  src/radolan.cpp
)
target_include_directories(floodwarn_ingest_files PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
target_compile_features(floodwarn_ingest_files PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_files
  PUBLIC floodwarn_ingest_core floodwarn::grids floodwarn::common
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog GDAL::GDAL ZLIB::ZLIB)
floodwarn_ingest_instrument(floodwarn_ingest_files)
