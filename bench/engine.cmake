# engine_bench: remediation engine overhead per execution vs a bare
# posix_spawn of the same commands + one fsync (bench/engine.sh,
# docs/benchmarks.md). A custom harness: it alternates the two in
# rounds and reports CPU time (getrusage) as well as wall time.
if(TARGET stopgap_remedy)
  add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cc)
  target_link_libraries(engine_bench PRIVATE stopgap_remedy stopgap_core)
endif()
