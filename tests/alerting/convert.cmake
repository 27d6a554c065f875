# tests of alerting part "convert" (alerting/convert): the proto <-> domain
# conversion shared by the service and the client
floodwarn_add_test(test_alerting_convert unit test_convert.cpp
  LIBS floodwarn::alerting_convert floodwarn_warnings)
