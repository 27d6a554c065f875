add_library(floodwarn_alerting_core STATIC
  src/types.cpp
  src/json_codec.cpp
  src/store.cpp
)
target_include_directories(floodwarn_alerting_core PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
target_compile_features(floodwarn_alerting_core PUBLIC cxx_std_17)
# nlohmann-json is PUBLIC: json_codec.hpp exposes nlohmann::json.
target_link_libraries(floodwarn_alerting_core
  PUBLIC floodwarn::common floodwarn_ingest_types nlohmann_json::nlohmann_json
  PRIVATE floodwarn_warnings SQLite::SQLite3 OpenSSL::Crypto
          fmt::fmt spdlog::spdlog)
