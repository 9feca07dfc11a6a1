# stopgap_unit_test(NAME SOURCES... LIBS lib... [SERIAL gtest-filter]): a
# GoogleTest binary registered with CTest under the "unit" label (the ASan/UBSan
# build runs this label). The tests SERIAL names run alone (RUN_SERIAL): their
# verdicts are times that another test's load could decide.
include(GoogleTest)
function(stopgap_unit_test name)
  cmake_parse_arguments(T "" "SERIAL" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  if(T_SERIAL)
    gtest_discover_tests(${name} TEST_FILTER "-${T_SERIAL}" PROPERTIES LABELS unit
      DISCOVERY_TIMEOUT 60)
    gtest_discover_tests(${name} TEST_FILTER "${T_SERIAL}" TEST_LIST ${name}_SERIAL_TESTS
      PROPERTIES LABELS unit RUN_SERIAL TRUE DISCOVERY_TIMEOUT 60)
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
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
