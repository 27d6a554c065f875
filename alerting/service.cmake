add_library(floodwarn_alerting_service STATIC
  src/service.cpp
)
target_link_libraries(floodwarn_alerting_service
  PUBLIC floodwarn_alerting_engine
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
