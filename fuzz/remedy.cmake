# Fuzz target for the remedy parsers of outside input: the catalog YAML loader,
# issue references and label templates. Seeds: fuzz/corpus/catalog/.
if(TARGET stopgap_remedy)
  stopgap_fuzz_target(catalog SOURCES ${CMAKE_SOURCE_DIR}/tests/remedy/catalog_fuzz.cc
                      LIBS stopgap_remedy)
endif()
# The ledger export's JSON lines (`stopgap ledger import`). Seeds: fuzz/corpus/ledger_export/.
if(TARGET stopgap_remedy)
  stopgap_fuzz_target(ledger_export SOURCES ${CMAKE_SOURCE_DIR}/tests/remedy/ledger_export_fuzz.cc
                      LIBS stopgap_remedy)
endif()
