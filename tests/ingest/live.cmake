# tests of ingest component "live"
find_package(SQLite3 REQUIRED)
floodwarn_add_test(test_reading_store unit test_reading_store.cpp
  LIBS floodwarn_ingest_live SQLite::SQLite3)
