add_library(floodwarn_alerting_engine STATIC
  src/rules.cpp
  src/engine.cpp
)
target_link_libraries(floodwarn_alerting_engine
  PUBLIC floodwarn_alerting_core floodwarn_alerting_cap
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog)
