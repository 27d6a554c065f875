# tests of alerting component "core": JSON codec, SQLite store/outbox/audit
find_package(SQLite3 REQUIRED)  # the tests open the store's file directly
floodwarn_add_test(test_alerting_store_codec unit test_store_codec.cpp
  LIBS floodwarn_alerting_core floodwarn_warnings)
floodwarn_add_test(test_alerting_store unit test_store.cpp
  LIBS floodwarn_alerting_core SQLite::SQLite3 floodwarn_warnings)
