add_library(floodwarn_alerting_cap STATIC
  src/cap.cpp
)
target_link_libraries(floodwarn_alerting_cap
  PUBLIC floodwarn_alerting_core
  PRIVATE floodwarn_warnings fmt::fmt)
