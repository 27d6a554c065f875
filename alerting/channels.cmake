# Channel adapters (siren, cell broadcast, webhook) and their dispatchers.
# libcurl, prometheus-cpp and nlohmann-json stay private.
find_package(CURL REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
add_library(floodwarn_alerting_channels STATIC
  src/channels.cpp
  src/channel_http.cpp
  src/channel_adapters.cpp
  src/dispatcher.cpp
)
target_link_libraries(floodwarn_alerting_channels
  PUBLIC floodwarn_alerting_core floodwarn_alerting_cap
  PRIVATE floodwarn_warnings fmt::fmt spdlog::spdlog tomlplusplus::tomlplusplus
          nlohmann_json::nlohmann_json CURL::libcurl prometheus-cpp::core)
