# Fuzz targets for stopgap serve's alert intake parsers (Alertmanager v4, generic).
if(TARGET stopgap_server)
  stopgap_fuzz_target(alert_alertmanager SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/alert_alertmanager_fuzz.cc
                      LIBS stopgap_server)
  stopgap_fuzz_target(alert_generic SOURCES ${CMAKE_CURRENT_LIST_DIR}/server/alert_generic_fuzz.cc
                      LIBS stopgap_server)
endif()
