# Fuzz target for the issue-tracker response, header and reference parsers.
if(TARGET stopgap_tracker)
  stopgap_fuzz_target(tracker_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/tracker/tracker_parse_fuzz.cc
                      LIBS stopgap_tracker)
endif()
