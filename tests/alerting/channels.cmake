# tests of alerting part "channels" (alerting/channels): adapters against a
# real local HTTP receiver (cpp-httplib on 127.0.0.1, free port) that fails on
# purpose.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(nlohmann_json REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(Threads REQUIRED)

add_library(floodwarn_test_channel_receiver STATIC test_channel_receiver.cpp)
target_link_libraries(floodwarn_test_channel_receiver
  PUBLIC PkgConfig::CPPHTTPLIB Threads::Threads PRIVATE floodwarn_warnings)

floodwarn_add_test(test_channel_config unit test_channel_config.cpp
  LIBS floodwarn::alerting_channels floodwarn_warnings)
floodwarn_add_test(test_channel_adapters integration test_channel_adapters.cpp
  LIBS floodwarn::alerting_channels floodwarn::alerting_cap floodwarn_test_channel_receiver
       nlohmann_json::nlohmann_json floodwarn_warnings)
floodwarn_add_test(test_channel_dispatcher integration test_channel_dispatcher.cpp
  LIBS floodwarn::alerting_channels floodwarn_test_channel_receiver
       nlohmann_json::nlohmann_json prometheus-cpp::core floodwarn_warnings)
floodwarn_add_test(test_channel_engine integration test_channel_engine.cpp
  LIBS floodwarn::alerting_channels floodwarn::alerting_engine floodwarn_test_channel_receiver
       nlohmann_json::nlohmann_json floodwarn_warnings)
floodwarn_add_test(test_channel_throughput performance test_channel_throughput.cpp
  LIBS floodwarn::alerting_channels floodwarn_test_channel_receiver floodwarn_warnings)
