# CAP 1.2 XML writer, rule checks and XSD validation (docs/alerting/CAP.md).
# libxml2 parses/validates messages; it stays PRIVATE.
find_package(LibXml2 REQUIRED)
add_library(floodwarn_alerting_cap STATIC
  src/cap.cpp
  src/cap_texts.cpp
)
target_link_libraries(floodwarn_alerting_cap
  PUBLIC floodwarn_alerting_core
  PRIVATE floodwarn_warnings fmt::fmt LibXml2::LibXml2)
