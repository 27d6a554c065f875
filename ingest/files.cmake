# floodwarn_ingest_files: station registry, rating curves, file decoders (ZRXP,
# CSV, RADOLAN), QC and forcing builders. GDAL (through floodwarn::grids'
# imported target) transforms projected station locations; zlib inflates
# gzipped RADOLAN composites; Eigen fits rating curves.
find_package(ZLIB REQUIRED)

add_library(floodwarn_ingest_files STATIC
  src/stations.cpp
  src/rating.cpp
  src/zrxp.cpp
  src/csv.cpp
  src/qc.cpp
  src/radolan.cpp
  src/forcing.cpp
)
target_include_directories(floodwarn_ingest_files PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
target_compile_features(floodwarn_ingest_files PUBLIC cxx_std_17)
target_link_libraries(floodwarn_ingest_files
  PUBLIC floodwarn_ingest_types floodwarn::grids
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog tomlplusplus::tomlplusplus Eigen3::Eigen
          GDAL::GDAL ZLIB::ZLIB)
