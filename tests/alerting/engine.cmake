# tests of alerting part "engine" (alerting/engine)
floodwarn_add_test(test_alerting_rules unit test_rules.cpp
  LIBS floodwarn::alerting_engine floodwarn_ingest_files)
find_package(SQLite3 REQUIRED)
floodwarn_add_test(test_alerting_engine unit test_engine.cpp
  LIBS floodwarn::alerting_engine SQLite::SQLite3)
floodwarn_add_test(test_alerting_engine_town unit test_engine_town.cpp
  LIBS floodwarn::alerting_engine)
