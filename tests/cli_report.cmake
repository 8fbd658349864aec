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

# compare: the side-by-side table on a small generated load (two sizes of one scaleX
# supercluster), its JSON (a row per scenario, energy from the preset's power), and bad input
wk_cli_test(compare_table "utilization .*JCT p50 \\(h\\).*energy \\(MWh\\) +[0-9]+ +[0-9]+"
  compare --cluster scalex-10k --cluster scalex-10k:supernodes=8 --profile ai4s --days 0.5
  --failures off)
# who gains: each queue's and job size's wait in every scenario; at half the cards the
# pretraining queue waits hours where the full supercluster starts it at once
wk_cli_test(compare_usage "wait p50/p99 \\(h\\) by queue\n  pretrain +0\\.0/[0-9.]+ +[1-9][0-9]*\\.[0-9]/[0-9.]+\n.*wait p50/p99 \\(h\\) by job size \\(cards\\)\n  1 "
  compare --cluster scalex-10k --cluster scalex-10k:supernodes=8 --profile ai4s --days 0.5
  --failures off)
# twenty queues: the sixteen largest shown, the rest counted
wk_cli_test(compare_usage_many "wait p50/p99 \\(h\\) by queue\n(  [0-9]+ +[0-9.]+/[0-9.]+ +[0-9.]+/[0-9.]+\n)+  \\(4 more queues: --json or --report has them all\\)\nwait p50/p99 \\(h\\) by job size"
  compare --cluster scalex-10k --cluster scalex-10k:supernodes=8
  --trace ${CMAKE_SOURCE_DIR}/tests/data/queues20.swf --failures off)
wk_cli_test(compare_json_usage "\"scenario\": \"scalex-10k backfill\",.*\"usage\": \\{.*\"tenants\": \\[.*\"queues\": \\[.*\"name\": \"pretrain\".*\"sizes\": \\["
  compare --cluster scalex-10k --profile ai4s --days 0.5 --policy backfill --policy fifo --json)
wk_cli_test(compare_json "\"scenarios\": \\[.*\"scenario\": \"scalex-10k backfill\".*\"energy_mwh\": [0-9.]+.*\"scenario\": \"scalex-10k fifo\""
  compare --cluster scalex-10k --profile ai4s --days 0.5 --policy backfill --policy fifo --json)
wk_cli_fail(compare_one "error: compare needs at least two scenarios"
  compare --cluster scalex-10k --profile ai4s --days 1)
wk_cli_fail(compare_none "error: compare needs --cluster at least twice" compare --profile ai4s)
wk_cli_fail(compare_both "error: give --trace FILE or --profile P .*not both"
  compare --cluster scalex-10k --cluster dgx-a100 --trace x.swf --profile ai4s)
wk_cli_fail(compare_nowork "error: compare needs the work"
  compare --cluster scalex-10k --cluster dgx-a100)
wk_cli_fail(compare_days_trace "error: --days goes with --profile"
  compare --cluster scalex-10k --cluster dgx-a100 --trace x.swf --days 3)
wk_cli_fail(compare_policy "error: unknown policy 'backfil'; did you mean 'backfill'\\?"
  compare --cluster scalex-10k --cluster dgx-a100 --profile ai4s --policy backfil)
wk_cli_fail(compare_profile "error: unknown profile 'ai4z'"
  compare --cluster scalex-10k --cluster dgx-a100 --profile ai4z)
wk_cli_fail(compare_too_small "error: cluster 'scalex640' has 640 cards, but the widest job of the generated work takes [0-9]+"
  compare --cluster scalex-10k --cluster scalex640 --profile ai4s --days 1)
wk_cli_fail(compare_report_path "error: cannot write '/nonexistent/c.html'"
  compare --cluster scalex-10k --cluster dgx-a100 --profile ai4s --report /nonexistent/c.html)

# power keys: checked like every cluster key
wk_cli_fail(power_idle_over_busy "^error: cluster tweak 'power.card_idle_w=2000' on scalex-10k: power.card_idle_w must not exceed power.card_busy_w"
  cluster show scalex-10k:power.card_idle_w=2000)
wk_cli_fail(power_pue_low "error: 'power.pue' must be a number >= 1, not '0.5'"
  cluster show scalex-10k:power.pue=0.5)
if(EXISTS ${WK_SHARED}/data/traces/mira_2018_wk2.cobalt.log)
  wk_cli_test(replay_energy "energy +[0-9.]+ MWh \\(facility, PUE 1.04; IT [0-9.]+ MWh\\), [0-9.]+ kWh per useful card-hour"
    replay --cluster zhengzhou-60k --trace ${WK_SHARED}/data/traces/mira_2018_wk2.cobalt.log
    --failures off --fabric off)
endif()
# compare with placements side by side and one injected fault in every scenario; faults are
# named on each cluster before any work, and need the fabric
wk_cli_test(compare_fail "\"fail\": \"spine:1@1h\\+2h\".*\"placement\": \"topo\".*\"fabric_faults\": [1-9][0-9]*,.*\"placement\": \"netaware\".*\"fabric_faults\": [1-9][0-9]*,"
  compare --cluster zhengzhou-60k:supernodes=4 --profile ai4s --days 0.3 --placement topo
  --placement netaware --fail spine:1@1h+2h --json)
wk_cli_fail(compare_fail_bad "error: --fail 'spine:100@1h': tier 3 of zhengzhou-60k:supernodes=4 has switches 0 to 31"
  compare --cluster zhengzhou-60k:supernodes=4 --cluster zhengzhou-60k --profile ai4s --fail spine:100@1h)
wk_cli_fail(compare_fail_fabric_off "error: --fail needs --fabric on"
  compare --cluster zhengzhou-60k:supernodes=4 --cluster zhengzhou-60k --profile ai4s --fail spine:1@1h
  --fabric off)
wk_cli_fail(compare_netaware_fabric_off "error: --placement netaware needs --fabric on"
  compare --cluster zhengzhou-60k:supernodes=4 --cluster zhengzhou-60k --profile ai4s
  --placement netaware --fabric off)
