# tests of alerting part "core" (alerting/core): the JSON codec
floodwarn_add_test(test_alerting_store_codec unit test_store_codec.cpp
  LIBS floodwarn::alerting_core floodwarn_warnings)
