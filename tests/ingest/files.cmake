# Tests of ingest component "files": station registry, rating curves, ZRXP,
# CSV, RADOLAN, QC, forcing (sources in tests/ingest/test_*.cpp).
floodwarn_add_test(test_ingest_stations unit ${CMAKE_CURRENT_SOURCE_DIR}/test_stations.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_rating unit ${CMAKE_CURRENT_SOURCE_DIR}/test_rating.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_zrxp unit ${CMAKE_CURRENT_SOURCE_DIR}/test_zrxp.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_csv unit ${CMAKE_CURRENT_SOURCE_DIR}/test_csv.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_qc unit ${CMAKE_CURRENT_SOURCE_DIR}/test_qc.cpp
  LIBS floodwarn_ingest_files)
find_package(ZLIB REQUIRED)
floodwarn_add_test(test_ingest_radolan unit ${CMAKE_CURRENT_SOURCE_DIR}/test_radolan.cpp
  LIBS floodwarn_ingest_files GDAL::GDAL ZLIB::ZLIB)
floodwarn_add_test(test_ingest_forcing unit ${CMAKE_CURRENT_SOURCE_DIR}/test_forcing.cpp
  LIBS floodwarn_ingest_files)
floodwarn_add_test(test_ingest_files_mutation unit
  ${CMAKE_CURRENT_SOURCE_DIR}/test_files_mutation.cpp LIBS floodwarn_ingest_files)
