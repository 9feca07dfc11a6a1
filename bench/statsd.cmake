# StatsD benchmark tools (bench/statsd.sh): a paced sendmmsg load generator and
# a recvmmsg drain loop (the machine's floor). Plain C++, no dependencies.
add_executable(statsd_loadgen ${CMAKE_CURRENT_LIST_DIR}/statsd_loadgen.cc)
add_executable(statsd_drain ${CMAKE_CURRENT_LIST_DIR}/statsd_drain.cc)
set_target_properties(statsd_loadgen statsd_drain PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
# In-process parse + aggregate micro-benchmark (no kernel): statsd_parse.
add_executable(statsd_parse ${CMAKE_CURRENT_LIST_DIR}/statsd_parse.cc)
target_link_libraries(statsd_parse PRIVATE stopgap_statsd)
set_target_properties(statsd_parse PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
# Global aggregation: 10 local nodes' 1M-name intervals merged (statsd_global.sh).
add_executable(statsd_global_merge ${CMAKE_CURRENT_LIST_DIR}/statsd_global.cc)
target_link_libraries(statsd_global_merge PRIVATE stopgap_statsd)
set_target_properties(statsd_global_merge PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
