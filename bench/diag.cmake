# Diagnostics benchmark target: a process with N sleeping threads and a 1 ms
# ticker that records its largest wake-up gap (bench/diag.sh drives it).
add_executable(diag_target ${CMAKE_SOURCE_DIR}/bench/diag_target.c)
target_link_libraries(diag_target PRIVATE Threads::Threads)
target_compile_options(diag_target PRIVATE -std=c11)
