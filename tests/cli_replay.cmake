# CLI tests for `wanka replay`: metrics as text and JSON, every policy on one real trace (a
# comparison smoke test), tenants from YAML, --out files, and bad input (exit 2, one line).
set(_tr ${WK_SHARED}/data/traces)
# The abandon tests guard against replays that never end: 30 s, or 120 s under the sanitizers,
# where the same replay takes 28 s of CPU (4.4 s in the release build).
if(WK_SANITIZE)
  set(_abandon_timeout 120)
else()
  set(_abandon_timeout 30)
endif()
set(_td ${CMAKE_SOURCE_DIR}/tests/data)
if(EXISTS ${_tr}/mira_2018_wk2.cobalt.log)
  wk_cli_test(replay_text "jobs +1511 replayed, 1511 finished.*utilization +0\\.[0-9]+.*ETTR"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log)
  wk_cli_test(replay_json
    "\"jobs\": 1511,.*\"finished\": 1511,.*\"utilization\": 0\\.[0-9]+,.*\"avg_jct_s\".*\"p50_jct_s\".*\"p99_jct_s\".*\"avg_queue_s\".*\"p99_queue_s\".*\"bounded_slowdown\".*\"goodput\".*\"ettr\".*\"makespan_s\".*\"wall_s\".*\"restarts\".*\"preemptions\""
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --json --seed 3)
  foreach(p fifo backfill sjf fairshare priority las)
    wk_cli_test(replay_policy_${p} "\"policy\": \"${p}\",.*\"finished\": 1511,"
      replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --policy ${p}
      --tenants ${_td}/tenants-mira.yaml --placement first-fit --json)
  endforeach()
  wk_cli_test(replay_tenants "\"tenants\": 3,"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --policy fairshare
    --tenants ${_td}/tenants-mira.yaml --failures off --checkpoint-interval auto --json)
  wk_cli_test(replay_out "utilization"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --out ${CMAKE_BINARY_DIR}/replay_out)
  # Used to run for many minutes: the widest jobs fail (MTBF of their cards ~6 min) more often
  # than restart + a 1 h checkpoint, so they never finished. Now they are abandoned.
  wk_cli_test(replay_abandon "abandoned +[1-9][0-9]* \\(failed 50 times"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --failures 5e-3 --seed 3)
  set_tests_properties(cli_replay_abandon PROPERTIES TIMEOUT ${_abandon_timeout})
  wk_cli_test(replay_abandon_json "\"finished\": [0-9]+,.*\"abandoned\": [1-9][0-9]*,.*\"abandoned_checkpoint_over_mtbf\": [1-9]"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --failures 1e-2 --seed 3 --json)
  set_tests_properties(cli_replay_abandon_json PROPERTIES TIMEOUT ${_abandon_timeout})
  wk_cli_fail(replay_bad_tenants "tenants-bad.yaml:3:12: error: quota must be"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --policy fairshare
    --tenants ${_td}/tenants-bad.yaml)
endif()
if(EXISTS ${_tr}/theta_2022.swf)
  wk_cli_test(replay_theta "jobs +23911 replayed"
    replay --cluster ${_td}/theta-4392.yaml --trace ${_tr}/theta_2022.swf --format swf)
  wk_cli_test(replay_theta_drop "\"dropped_too_large\": [1-9]"
    replay --cluster ${_td}/theta-4392.yaml:nodes=2048 --trace ${_tr}/theta_2022.swf --json)
endif()
wk_cli_fail(replay_unknown_policy "^error: unknown policy 'lottery'"
  replay --cluster zhengzhou-60k --trace nope.swf --policy lottery)
wk_cli_fail(replay_unknown_placement "^error: unknown placement 'random'"
  replay --cluster zhengzhou-60k --trace nope.swf --placement random)
wk_cli_fail(replay_bad_failures "^error: --failures must be"
  replay --cluster zhengzhou-60k --trace nope.swf --failures often)
wk_cli_fail(replay_bad_ckpt "^error: --checkpoint-interval must be"
  replay --cluster zhengzhou-60k --trace nope.swf --checkpoint-interval never)
wk_cli_fail(replay_no_trace "^nope.swf: error:" replay --cluster zhengzhou-60k --trace nope.swf)
wk_cli_fail(replay_no_cluster "needs --cluster" replay --trace nope.swf)
# Cards fail so often (8 h repairs) that the job can never run: the event guard ends the replay
# with an error instead of simulating failures and repairs forever.
wk_cli_fail(replay_event_guard "^error: replay stopped after [0-9]+ events"
  replay --cluster dgx-a100:nodes=8 --trace ${_td}/tiny.swf --failures 50 --abandon-after 0)
wk_cli_fail(replay_bad_abandon "^error: --abandon-after -1 is out of range \\[0, 1000000000\\]$"
  replay --cluster zhengzhou-60k --trace nope.swf --abandon-after -1)
wk_cli_fail(replay_bad_format "unknown trace format 'csv'" replay --cluster zhengzhou-60k --trace x --format csv)
