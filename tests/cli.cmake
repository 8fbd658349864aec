# CLI tests: run the wanka binary, check exit code and output. wk_cli_test(NAME REGEX ARGS...)
# passes when the output matches REGEX and the exit code is 0; wk_cli_fail expects exit 2.
function(wk_cli_test name regex)
  add_test(NAME cli_${name} COMMAND wanka ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 120)
endfunction()
function(wk_cli_fail name regex)
  add_test(NAME cli_${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_exit.sh 2 "${regex}"
           $<TARGET_FILE:wanka> ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES TIMEOUT 120)
endfunction()

wk_cli_test(version "wanka [0-9]+\\.[0-9]+" --version)
wk_cli_test(help "Usage: wanka" --help)
wk_cli_fail(unknown_cmd "error: unknown command 'frobnicate'" frobnicate)

file(GLOB _cli_more CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli_*.cmake)
foreach(f ${_cli_more})
  include(${f})
endforeach()
include(${CMAKE_SOURCE_DIR}/tests/bad.cmake)
