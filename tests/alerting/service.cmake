# tests of alerting part "service" (alerting/service): the gRPC AlertService
# in process (test_alerting_service), its config loader (test_alerting_service_config)
# and the `floodwarn serve` process (test_alerting_serve); a real Prometheus
# server scrapes the service's /metrics (test_prometheus_scrape). Certificates are
# made with openssl at test time.
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
add_library(floodwarn_test_service_harness STATIC service_harness.cpp)
target_link_libraries(floodwarn_test_service_harness
  PUBLIC floodwarn_test_main floodwarn::alerting_service floodwarn::proto prometheus-cpp::core
  PRIVATE fmt::fmt floodwarn_warnings)

find_package(PkgConfig REQUIRED)
pkg_check_modules(FLOODWARN_TEST_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
floodwarn_add_test(test_alerting_service integration test_service.cpp
  LIBS floodwarn_test_service_harness PkgConfig::FLOODWARN_TEST_HTTPLIB floodwarn_warnings)
find_package(nlohmann_json REQUIRED)
floodwarn_add_test(test_prometheus_scrape integration test_prometheus_scrape.cpp
  LIBS floodwarn_test_service_harness PkgConfig::FLOODWARN_TEST_HTTPLIB
       nlohmann_json::nlohmann_json floodwarn_warnings)
floodwarn_add_test(test_alerting_service_config unit test_service_config.cpp
  LIBS floodwarn_test_service_harness floodwarn_warnings)
floodwarn_add_test(test_alerting_serve integration test_service_serve.cpp
  LIBS floodwarn_test_service_harness floodwarn_warnings)
add_dependencies(test_alerting_serve floodwarn)
