add_library(floodwarn_alerting_channels STATIC
  src/channels.cpp
)
target_link_libraries(floodwarn_alerting_channels
  PUBLIC floodwarn_alerting_core floodwarn_alerting_cap
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
