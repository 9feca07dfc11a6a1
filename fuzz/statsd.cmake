# Fuzz targets for the StatsD line parser, aggregation and flush rendering, and
# for the `-c FILE` YAML config (re-read on SIGHUP), the reference's config.js,
# and the global node's decoder of forwarded intervals (statsd/forward.h).
if(TARGET stopgap_statsd)
  stopgap_fuzz_target(statsd_line SOURCES ${CMAKE_CURRENT_LIST_DIR}/statsd/statsd_line_fuzz.cc
                      LIBS stopgap_statsd)
  stopgap_fuzz_target(statsd_config SOURCES
                      ${CMAKE_CURRENT_LIST_DIR}/statsd/statsd_config_fuzz.cc LIBS stopgap_statsd)
  stopgap_fuzz_target(statsd_config_js SOURCES
                      ${CMAKE_CURRENT_LIST_DIR}/statsd/statsd_config_js_fuzz.cc LIBS stopgap_statsd)
  stopgap_fuzz_target(statsd_forward SOURCES
                      ${CMAKE_CURRENT_LIST_DIR}/statsd/statsd_forward_fuzz.cc LIBS stopgap_statsd)
endif()
