# End-to-end test of `floodwarn serve`: a real mosquitto broker, MQTT JSON
# readings through ingest and the rules engine to the gRPC stream and a
# webhook channel (local HTTP receiver). Certificates are made at test time.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FLOODWARN_E2E_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
pkg_check_modules(FLOODWARN_E2E_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
floodwarn_add_test(test_end_to_end integration test_end_to_end.cpp
  LIBS floodwarn_test_client_harness floodwarn_test_channel_receiver floodwarn::alerting_client
       floodwarn::alerting_core floodwarn_ingest_types PkgConfig::FLOODWARN_E2E_MOSQUITTO
       PkgConfig::FLOODWARN_E2E_HTTPLIB floodwarn_warnings)
add_dependencies(test_end_to_end floodwarn)
set_tests_properties(test_end_to_end PROPERTIES TIMEOUT 120)

# The [ingest] loader and the shipped configs/alerting/serve.toml.
floodwarn_add_test(test_ingest_config unit test_ingest_config.cpp
  LIBS floodwarn::alerting_service floodwarn::alerting_channels floodwarn::alerting_engine
       floodwarn_ingest_live floodwarn_ingest_files floodwarn_warnings)

# Issue #12 through `floodwarn serve`: [forecast] on a small town model, a
# forecast warning with its onset on the stream, a cycle without forcing as a
# forecast outage.
floodwarn_add_test(test_forecast_serve integration test_forecast_serve.cpp
  LIBS floodwarn_test_client_harness floodwarn::alerting_client floodwarn::alerting_core
       floodwarn_ingest_core floodwarn::proto PkgConfig::FLOODWARN_E2E_HTTPLIB floodwarn_warnings)
add_dependencies(test_forecast_serve floodwarn)
set_tests_properties(test_forecast_serve PROPERTIES TIMEOUT 300)
