# Fuzz target for the remedy parsers of outside input: the catalog YAML loader,
# issue references and label templates. Seeds: fuzz/corpus/catalog/.
if(TARGET stopgap_remedy)
  stopgap_fuzz_target(catalog SOURCES ${CMAKE_SOURCE_DIR}/tests/remedy/catalog_fuzz.cc
                      LIBS stopgap_remedy)
endif()
