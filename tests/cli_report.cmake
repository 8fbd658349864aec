# CLI tests for --report: each subcommand writes FILE.html and FILE.data.json (the data holds
# the charts' series); a report path that cannot be written fails before any work, exit 2,
# nothing written; and every kind of report opens in a real browser (tests/browser.sh: skipped,
# with a line saying so, where Chromium is not installed).
set(_rd ${CMAKE_BINARY_DIR}/report_test)
file(MAKE_DIRECTORY ${_rd})
wk_cli_test(report_train "step +[0-9.]+ s per iteration"
  train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8
  --report ${_rd}/train.html)
wk_cli_test(report_coll "busbw"
  coll allreduce --cluster dgx-a100 --cards 32 --sizes 1M:64M --step-factor 8 --level 1
  --report ${_rd}/coll.html)
# the data file beside each: the series the page draws
add_test(NAME report_data_files COMMAND sh -c
  "grep -q '\"kind\": \"stack\"' ${_rd}/train.data.json && grep -q 'ring, L1' ${_rd}/coll.data.json && grep -q 'ring, L0' ${_rd}/coll.data.json && grep -q '<script type=\"application/json\" id=\"wanka-data\">' ${_rd}/coll.html")
set_tests_properties(report_data_files PROPERTIES DEPENDS "cli_report_train;cli_report_coll")
# bad report paths: one line, exit 2, nothing on stdout, and no work done
wk_cli_fail(report_missing_folder "error: cannot write '/nonexistent/r.html': folder '/nonexistent' does not exist"
  train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8
  --report /nonexistent/r.html)
wk_cli_fail(report_stdout "error: --report takes a file name such as report.html"
  coll allreduce --cluster dgx-a100 --cards 8 --report -)
wk_cli_fail(report_folder "error: cannot write '/tmp': it is a folder"
  plan --cluster dgx-a100 --model gpt3-175b --cards 1024 --report /tmp)
wk_cli_fail(report_replay_missing "error: cannot write '/nonexistent/x.html'"
  replay --cluster scalex-10k --trace /nonexistent.swf --report /nonexistent/x.html)
if(NOT WK_SANITIZE AND NOT WK_FUZZ)
  add_test(NAME browser_reports COMMAND ${CMAKE_SOURCE_DIR}/tests/browser.sh $<TARGET_FILE:wanka>
           ${WK_NPM_DIR} ${CMAKE_BINARY_DIR}/browser)
  set_tests_properties(browser_reports PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
                       PASS_REGULAR_EXPRESSION "[1-9][0-9]* passed, 0 failed")
endif()
