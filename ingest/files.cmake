# floodwarn_ingest_files: rating curves, file decoders (ZRXP, CSV, RADOLAN)
# and forcing builders. GDAL (through floodwarn::grids' imported target)
# georeferences RADOLAN and places gauges on the model grid; zlib inflates
# gzipped RADOLAN composites; Eigen fits rating curves.
find_package(ZLIB REQUIRED)

add_library(floodwarn_ingest_files STATIC
  src/rating.cpp
  src/zrxp.cpp
  src/csv.cpp
  src/radolan.cpp
  src/forcing.cpp
)
target_include_directories(floodwarn_ingest_files PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
target_compile_features(floodwarn_ingest_files PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_files
  PUBLIC floodwarn_ingest_core floodwarn::grids floodwarn::common
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog Eigen3::Eigen
          GDAL::GDAL ZLIB::ZLIB)
floodwarn_ingest_instrument(floodwarn_ingest_files)
