# Fuzz target for the HTTP front door itself (net::HttpServer): raw bytes from
# a loopback client, one connection per input.
if(TARGET stopgap_net)
  stopgap_fuzz_target(http_request SOURCES ${CMAKE_CURRENT_LIST_DIR}/net/http_request_fuzz.cc
                      LIBS stopgap_net)
endif()
