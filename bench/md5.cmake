# md5_bench: multi-buffer MD5 (src/logship/internal/md5_mb.*) against
# OpenSSL's single-stream MD5, in GB/s (Google Benchmark). Reproduce:
#   ninja -C build md5_bench && build/bench/md5_bench
if(benchmark_FOUND AND TARGET stopgap_logship)
  add_executable(md5_bench ${CMAKE_CURRENT_LIST_DIR}/md5_bench.cc)
  target_link_libraries(md5_bench PRIVATE stopgap_logship benchmark::benchmark)
  set_target_properties(md5_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()
