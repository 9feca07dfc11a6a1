# serve_load: the loopback load generator for `stopgap serve` (bench/serve.sh):
# one thread on epoll, so it leaves the server most of the machine.
add_executable(serve_load ${CMAKE_CURRENT_LIST_DIR}/serve/serve_load.cc)
target_link_libraries(serve_load PRIVATE SQLite::SQLite3)
