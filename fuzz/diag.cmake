# Fuzz the diagnostics /proc parsers (stat, key-value files, NUL lists, mounts,
# socket tables, maps) and the secret masking. Seeds: fuzz/corpus/diag_proc/.
stopgap_fuzz_target(diag_proc
  SOURCES ${CMAKE_SOURCE_DIR}/tests/diag/proc_parse_fuzz.cc
          ${CMAKE_SOURCE_DIR}/src/diag/internal/redact.cc
  LIBS stopgap_diag_parse)
