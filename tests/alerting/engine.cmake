# tests of alerting component "engine"
floodwarn_add_test(test_alerting_rules unit test_rules.cpp
  LIBS floodwarn_alerting_engine)
find_package(SQLite3 REQUIRED)
floodwarn_add_test(test_alerting_engine unit test_engine.cpp
  LIBS floodwarn_alerting_engine SQLite::SQLite3)
floodwarn_add_test(test_alerting_engine_town unit test_engine_town.cpp
  LIBS floodwarn_alerting_engine)
