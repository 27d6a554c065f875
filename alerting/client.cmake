# C++ client of floodwarn.v1.AlertService (TLS + client cert + bearer token,
# Subscribe with resume, operator calls): floodwarn watch/ack, the crash test
# and the stream benchmark use it. gRPC/protobuf stay PRIVATE.
add_library(floodwarn_alerting_client STATIC
  src/client.cpp
)
target_link_libraries(floodwarn_alerting_client
  PUBLIC floodwarn_alerting_engine
  PRIVATE floodwarn::proto floodwarn_warnings)
