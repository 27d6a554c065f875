# floodwarn_ingest_files: station registry, rating curves, file decoders (ZRXP,
# CSV, RADOLAN), QC and forcing builders. GDAL (through floodwarn::grids'
# imported target) transforms projected station locations; zlib inflates
# gzipped RADOLAN composites; Eigen fits rating curves.
find_package(ZLIB REQUIRED)
option(FLOODWARN_FUZZ "Build the libFuzzer targets of the file decoders (clang only)" OFF)
if(FLOODWARN_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FLOODWARN_FUZZ=ON needs clang (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}")
endif()

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
  PUBLIC floodwarn_ingest_types floodwarn::grids floodwarn::common
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog Eigen3::Eigen
          GDAL::GDAL ZLIB::ZLIB)
if(FLOODWARN_FUZZ)
  # coverage feedback for libFuzzer and AddressSanitizer in the decoders
  target_compile_options(floodwarn_ingest_files PRIVATE -fsanitize=fuzzer-no-link,address)
  target_link_options(floodwarn_ingest_files PUBLIC -fsanitize=address)
endif()
