# Fuzz the diagnostics /proc parsers (stat, key-value files, NUL lists, mounts,
# socket tables, maps) and the secret masking. Seeds: fuzz/corpus/diag_proc/.
stopgap_fuzz_target(diag_proc
  SOURCES ${CMAKE_SOURCE_DIR}/tests/diag/proc_parse_fuzz.cc
          ${CMAKE_SOURCE_DIR}/src/diag/internal/redact.cc
  LIBS stopgap_diag_parse)

# Fuzz the bundle manifest reader (all three schemas it reads) and its
# write-read round trip. Seeds: fuzz/corpus/diag_manifest/ (one manifest of
# each schema).
stopgap_fuzz_target(diag_manifest
  SOURCES ${CMAKE_SOURCE_DIR}/tests/diag/manifest_fuzz.cc
          ${CMAKE_SOURCE_DIR}/src/diag/manifest.cc
          ${CMAKE_SOURCE_DIR}/src/diag/manifest_reader.cc
  LIBS stopgap_core nlohmann_json::nlohmann_json)
