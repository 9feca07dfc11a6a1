# Fuzz targets for stopgap serve's outside input: the alert intake parsers
# (Alertmanager v4, generic), the access check over request heads, and the
# bundle file path of the UI's bundle reads.
if(TARGET stopgap_server)
  stopgap_fuzz_target(alert_alertmanager SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/alert_alertmanager_fuzz.cc
                      LIBS stopgap_server)
  stopgap_fuzz_target(access_check SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/access_check_fuzz.cc
                      LIBS stopgap_server)
  stopgap_fuzz_target(alert_generic SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/alert_generic_fuzz.cc
                      LIBS stopgap_server)
  stopgap_fuzz_target(bundle_path SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/bundle_path_fuzz.cc
                      LIBS stopgap_server)
endif()
