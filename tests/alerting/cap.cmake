# tests of alerting part "cap" (alerting/cap)
find_package(LibXml2 REQUIRED)  # the tests read the produced XML back with XPath
floodwarn_add_test(test_cap unit test_cap.cpp
  LIBS floodwarn::alerting_cap LibXml2::LibXml2)
floodwarn_add_test(test_cap_xmllint integration test_cap_xmllint.cpp
  LIBS floodwarn::alerting_cap LibXml2::LibXml2)
