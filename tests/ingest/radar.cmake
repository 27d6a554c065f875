# Tests of ingest component "radar" (and of CLI commands added late: ZRXP
# hydrographs, stations). The RADOLAN decoder against DWD samples.
find_package(ZLIB REQUIRED)
floodwarn_add_test(test_ingest_radolan unit ${CMAKE_CURRENT_SOURCE_DIR}/test_radolan.cpp
  LIBS floodwarn_ingest_radar GDAL::GDAL ZLIB::ZLIB)

# libFuzzer target of the RADOLAN decoder (clang only, -DFLOODWARN_FUZZ=ON),
# seeded with the shared reference samples. See fuzz/README.md.
if(FLOODWARN_FUZZ)
  floodwarn_add_ingest_fuzzer(radolan ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_radolan.cpp
    floodwarn_ingest_radar 65536
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds ${FLOODWARN_SHARED_DEFAULT}/reference)
endif()

# RADOLAN series -> CF-NetCDF rain on a DEM grid, checked with gdalinfo/ncdump,
# an independent reprojection (OGR + the DWD formulas), a scenario run
# (floodwarn::scenario) and netCDF-C read-back; ParseIsoTime from csv.hpp.
floodwarn_add_test(test_ingest_radar_series unit ${CMAKE_CURRENT_SOURCE_DIR}/test_radar_series.cpp
  LIBS floodwarn_ingest_radar floodwarn_ingest_files floodwarn::scenario floodwarn::solver
       GDAL::GDAL PkgConfig::NETCDF)

# `floodwarn radar convert` as the real executable; its [rain] table pasted
# into a scenario.
floodwarn_add_test(test_ingest_radar_cli integration
  ${CMAKE_CURRENT_SOURCE_DIR}/test_radar_series_cli.cpp
  LIBS floodwarn_ingest_radar floodwarn::scenario floodwarn::solver)
target_compile_definitions(test_ingest_radar_cli PRIVATE FLOODWARN_EXE="$<TARGET_FILE:floodwarn>")
add_dependencies(test_ingest_radar_cli floodwarn)

# grids::CfSeriesWriter (the (time, y, x) series writer the conversion uses).
floodwarn_add_test(test_ingest_radar_series_writer unit
  ${CMAKE_CURRENT_SOURCE_DIR}/test_radar_series_writer.cpp
  LIBS floodwarn::grids PkgConfig::NETCDF)

# A ZRXP gauge series as a scenario inflow hydrograph through the real
# `floodwarn simulate` (the scenario's series-file hook, ZRXP reader from ingest/).
floodwarn_add_test(test_zrxp_hydrograph integration
  ${CMAKE_CURRENT_SOURCE_DIR}/test_zrxp_hydrograph.cpp)
target_compile_definitions(test_zrxp_hydrograph PRIVATE FLOODWARN_EXE="$<TARGET_FILE:floodwarn>")
add_dependencies(test_zrxp_hydrograph floodwarn)

# `floodwarn stations` as the real executable: ok / STALE / STALE (no reading), exit 4.
floodwarn_add_test(test_stations_cli integration ${CMAKE_CURRENT_SOURCE_DIR}/test_stations_cli.cpp
  LIBS floodwarn_ingest_core)  # fills the store
target_compile_definitions(test_stations_cli PRIVATE FLOODWARN_EXE="$<TARGET_FILE:floodwarn>")
add_dependencies(test_stations_cli floodwarn)
