# tests of alerting component "engine"
floodwarn_add_test(test_alerting_rules unit test_rules.cpp
  LIBS floodwarn_alerting_engine)
