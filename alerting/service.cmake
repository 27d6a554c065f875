# gRPC AlertService (callback API), event hub, auth, service config, metrics.
# gRPC, protobuf and prometheus-cpp are PRIVATE: service.hpp is free of them.
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
add_library(floodwarn_alerting_service STATIC
  src/service.cpp
  src/service_config.cpp
  src/auth.cpp
  src/event_hub.cpp
  src/metrics.cpp
  src/proto_convert.cpp
)
target_link_libraries(floodwarn_alerting_service
  PUBLIC floodwarn_alerting_engine
  PRIVATE floodwarn_warnings floodwarn::proto gRPC::grpc++_reflection
          prometheus-cpp::core prometheus-cpp::pull
          tomlplusplus::tomlplusplus OpenSSL::Crypto fmt::fmt spdlog::spdlog)
