# Fuzz targets for the HTTP front door itself (net::HttpServer): http_request
# sends raw bytes from a loopback client, one connection per input (sockets,
# io threads, deadlines; ~1 k inputs/s); http_parse runs the same bytes
# through the same parser, caps and pre-body check in process
# (HttpServer::ServeBytes), at parser speed. Seeds: fuzz/corpus/http_request/
# and http_parse/ (the same requests).
if(TARGET stopgap_net)
  stopgap_fuzz_target(http_request SOURCES ${CMAKE_CURRENT_LIST_DIR}/net/http_request_fuzz.cc
                      LIBS stopgap_net)
  stopgap_fuzz_target(http_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/net/http_parse_fuzz.cc
                      LIBS stopgap_net)
endif()
