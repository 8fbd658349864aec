# Bad-input corpus: every tests/bad/NAME.case is one CLI test (bad_NAME). Line 1 is the
# expected first line of stderr as an extended regex (anchor the file part with the name:
# `(^|/)trace_swf_neg\.swf:2:20: error: ...`), line 2 the wanka arguments, with @DIR@ for the
# tests/bad folder. The test passes when wanka exits 2, prints nothing on stdout, and its
# first stderr line matches. Keep ';' and square brackets out of both lines (CMake lists).
# hw_*.yaml inputs are run by tests/cli_hw.cmake from their .expect files.
file(GLOB _bad_cases CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/bad/*.case)
foreach(_case ${_bad_cases})
  get_filename_component(_name ${_case} NAME_WE)
  file(STRINGS ${_case} _lines ENCODING UTF-8)
  list(LENGTH _lines _n)
  if(NOT _n EQUAL 2)
    message(FATAL_ERROR "${_case}: needs 2 lines (regex, arguments), has ${_n}")
  endif()
  list(GET _lines 0 _want)
  list(GET _lines 1 _args)
  string(REPLACE "@DIR@" "${CMAKE_SOURCE_DIR}/tests/bad" _args "${_args}")
  separate_arguments(_args UNIX_COMMAND "${_args}")
  add_test(NAME bad_${_name} COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_exit.sh 2 "${_want}"
           $<TARGET_FILE:wanka> ${_args})
  set_tests_properties(bad_${_name} PROPERTIES TIMEOUT 120 ENVIRONMENT "LC_ALL=C")
endforeach()

# Outputs are written atomically: a failed or killed run leaves the previous file as it was.
add_test(NAME atomic_outputs COMMAND ${CMAKE_SOURCE_DIR}/tests/atomic.sh $<TARGET_FILE:wanka>
         ${CMAKE_SOURCE_DIR}/tests)
set_tests_properties(atomic_outputs PROPERTIES TIMEOUT 300)
# ... by one rule for every kind of path (file, new name, symlink, dangling link, FIFO, device,
# "-", stdout), write errors exit 2 naming the path, a closed pipe ends quietly by SIGPIPE,
# signals leave no temp file, and output paths are checked before any work (tests/outputs.sh).
add_test(NAME output_paths COMMAND ${CMAKE_SOURCE_DIR}/tests/outputs.sh $<TARGET_FILE:wanka>
         ${CMAKE_SOURCE_DIR}/tests)
set_tests_properties(output_paths PROPERTIES TIMEOUT 300 ENVIRONMENT "LC_ALL=C")
# Docs that stay true (issue 18 part 6): every command shown after "$ " in README.md and docs/
# runs and prints what the docs show (tests/docs.sh says how numbers are compared). In the
# release build only: the examples are the figures of an optimised build, and under the
# sanitizers the slowest would take minutes.
if(NOT WK_SANITIZE)
  add_test(NAME docs_examples COMMAND ${CMAKE_SOURCE_DIR}/tests/docs.sh $<TARGET_FILE:wanka>
           ${CMAKE_SOURCE_DIR} ${WK_SHARED})
  set_tests_properties(docs_examples PROPERTIES TIMEOUT 300)
  # the checker itself: a stale number, a stale line and a wrong exit fail; tolerances hold
  add_test(NAME docs_checker COMMAND ${CMAKE_SOURCE_DIR}/tests/docs_check.sh $<TARGET_FILE:wanka>
           ${CMAKE_SOURCE_DIR} ${WK_SHARED})
  set_tests_properties(docs_checker PROPERTIES TIMEOUT 120)
endif()
