# floodwarn_ingest_radar: a series of RADOLAN composites reprojected onto a
# DEM's grid (GDAL warp through floodwarn::grids) and written as one CF-1.8
# NetCDF rain series for a scenario's [rain] grid (docs/ingest/RADAR.md).
add_library(floodwarn_ingest_radar STATIC
  src/radar_series.cpp
)
target_link_libraries(floodwarn_ingest_radar
  PUBLIC floodwarn_ingest_files
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
