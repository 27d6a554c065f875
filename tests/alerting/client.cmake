# tests of the alerting clients: floodwarn watch/ack and the C++ client library
# against a real `floodwarn serve` (test_client), the SIGKILL crash test
# (test_crash), and the independent Python client (python/client_test.py).
# All start the server themselves on 127.0.0.1 with a throwaway PKI (pki.sh).
find_package(OpenSSL REQUIRED)
add_library(floodwarn_test_client_harness STATIC test_client_harness.cpp)
target_link_libraries(floodwarn_test_client_harness
  PUBLIC floodwarn_test_main floodwarn::alerting_client
  PRIVATE OpenSSL::Crypto floodwarn_warnings)

floodwarn_add_test(test_alerting_client integration test_client.cpp
  LIBS floodwarn_test_client_harness floodwarn::alerting_client floodwarn::alerting_store
       floodwarn_warnings)
add_dependencies(test_alerting_client floodwarn)

floodwarn_add_test(test_alerting_crash integration test_crash.cpp
  LIBS floodwarn_test_client_harness floodwarn::alerting_client floodwarn::alerting_store
       floodwarn_warnings)
add_dependencies(test_alerting_crash floodwarn)
set_tests_properties(test_alerting_crash PROPERTIES TIMEOUT 180)

# The independent Python client: system python3 with Debian python3-grpcio
# (not a pyenv/venv interpreter, which lacks the grpc module).
set(FLOODWARN_SYSTEM_PYTHON /usr/bin/python3 CACHE FILEPATH
    "python3 with the grpc module (Debian python3-grpcio) for the Python client test")
add_test(NAME test_alerting_python_client
  COMMAND ${FLOODWARN_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/client_test.py
          --floodwarn $<TARGET_FILE:floodwarn> --proto-dir ${FLOODWARN_PROTO_DIR}
          --source-dir ${PROJECT_SOURCE_DIR})
set_tests_properties(test_alerting_python_client PROPERTIES LABELS integration TIMEOUT 120)
