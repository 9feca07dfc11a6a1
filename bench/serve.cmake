# serve_load: the loopback load generator for `stopgap serve` (bench/serve.sh).
add_executable(serve_load ${CMAKE_CURRENT_LIST_DIR}/serve/serve_load.cc)
target_link_libraries(serve_load PRIVATE PkgConfig::HTTPLIB nlohmann_json::nlohmann_json
                      SQLite::SQLite3 Threads::Threads)
