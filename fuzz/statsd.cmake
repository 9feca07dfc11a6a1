# Fuzz target for the StatsD line parser, aggregation and flush rendering.
if(TARGET stopgap_statsd)
  stopgap_fuzz_target(statsd_line SOURCES ${CMAKE_CURRENT_LIST_DIR}/statsd/statsd_line_fuzz.cc
                      LIBS stopgap_statsd)
endif()
