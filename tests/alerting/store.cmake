# tests of alerting part "store" (alerting/store): SQLite store/outbox/audit
find_package(SQLite3 REQUIRED)  # the tests open the store's file directly
floodwarn_add_test(test_alerting_store unit test_store.cpp
  LIBS floodwarn::alerting_store SQLite::SQLite3 floodwarn_warnings)

# Crash test: a child process writes, the test SIGKILLs it and checks the file.
add_executable(test_alerting_store_crash_child store_crash_child.cpp)
target_link_libraries(test_alerting_store_crash_child PRIVATE floodwarn::alerting_store
  spdlog::spdlog floodwarn_warnings)
floodwarn_add_test(test_alerting_store_crash integration test_store_crash.cpp
  LIBS floodwarn::alerting_store SQLite::SQLite3 floodwarn_warnings)
add_dependencies(test_alerting_store_crash test_alerting_store_crash_child)
target_compile_definitions(test_alerting_store_crash PRIVATE
  FLOODWARN_STORE_CRASH_CHILD="$<TARGET_FILE:test_alerting_store_crash_child>")
