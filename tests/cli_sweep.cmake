# `wanka sweep` end to end (tests/sweep.sh): the same bytes on -j 1, -j 2 and 1, 2, 4 MPI ranks
# (when CMake found MPI), a point's process killed, SIGINT and --resume, and --out folders of
# another sweep refused. Bad SPECs are in the bad-input corpus (tests/bad/sweep_*.case).
set(_mpiexec "")
if(MPI_C_FOUND AND MPIEXEC_EXECUTABLE)
  set(_mpiexec ${MPIEXEC_EXECUTABLE})
endif()
add_test(NAME cli_sweep COMMAND ${CMAKE_SOURCE_DIR}/tests/sweep.sh $<TARGET_FILE:wanka>
         ${CMAKE_SOURCE_DIR} ${_mpiexec})
set_tests_properties(cli_sweep PROPERTIES TIMEOUT 600 ENVIRONMENT "LC_ALL=C")
wk_cli_test(sweep_list "0\twanka train --cluster dgx-a100 --model llama3-8b --seq 4096 --gbs 128 --cards 64 --dtype bf16 --tp 1 --pp 4 --level 0 --json"
  sweep ${CMAKE_SOURCE_DIR}/tests/data/sweep-train.yaml --list)
wk_cli_fail(sweep_no_spec "^error: sweep needs a SPEC file" sweep)
wk_cli_fail(sweep_resume_no_out "^error: --resume needs --out DIR" sweep x.yaml --resume)
wk_cli_fail(sweep_bad_jobs "^error: --jobs 0 is out of range \\[1, 1024\\]" sweep x.yaml -j 0)
wk_cli_fail(sweep_no_file "x-missing\\.yaml: error: " sweep x-missing.yaml)
