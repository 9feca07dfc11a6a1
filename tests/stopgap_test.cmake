# stopgap_unit_test(NAME SOURCES... LIBS lib...): a GoogleTest binary registered
# with CTest under the "unit" label (the ASan/UBSan build runs this label).
include(GoogleTest)
function(stopgap_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# stopgap_integration_test(NAME SCRIPT [TIMEOUT s]): a shell script that runs the
# real binary against real services; label "integration". The script gets the
# build directory in $STOPGAP_BUILD and the binary in $STOPGAP_BIN.
function(stopgap_integration_test name script)
  cmake_parse_arguments(T "" "TIMEOUT" "" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND bash ${script})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "STOPGAP_BUILD=${CMAKE_BINARY_DIR};STOPGAP_BIN=$<TARGET_FILE:stopgap>;STOPGAP_SRC=${CMAKE_SOURCE_DIR}")
endfunction()
