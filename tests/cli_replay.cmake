# CLI tests for `wanka replay`: metrics as text and JSON, every policy on one real trace (a
# comparison smoke test), tenants from YAML, --out files, and bad input (exit 2, one line).
set(_tr ${WK_SHARED}/data/traces)
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
  # than restart + a 1 h checkpoint, so they never finished. Now they are abandoned. (The
  # fabric is off: the guard is for the failure logic, which the fabric does not change.) Under
  # ASan the replay itself takes ~29 s of CPU (the release build 4 s), so there the bound is
  # 120 s: still far below the minutes it guards against.
  if(WK_SANITIZE)
    set(_abandon_s 120)
  else()
    set(_abandon_s 30)
  endif()
  wk_cli_test(replay_abandon "abandoned +[1-9][0-9]* \\(failed 50 times"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --failures 5e-3 --seed 3
    --fabric off)
  set_tests_properties(cli_replay_abandon PROPERTIES TIMEOUT ${_abandon_s})
  wk_cli_test(replay_abandon_json "\"finished\": [0-9]+,.*\"abandoned\": [1-9][0-9]*,.*\"abandoned_checkpoint_over_mtbf\": [1-9]"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --failures 1e-2 --seed 3 --json
    --fabric off)
  set_tests_properties(cli_replay_abandon_json PROPERTIES TIMEOUT ${_abandon_s})
  wk_cli_fail(replay_bad_tenants "tenants-bad.yaml:3:12: error: quota must be"
    replay --cluster zhengzhou-60k --trace ${_tr}/mira_2018_wk2.cobalt.log --policy fairshare
    --tenants ${_td}/tenants-bad.yaml)
endif()
if(EXISTS ${_tr}/theta_2022.swf)
  wk_cli_test(replay_theta "jobs +23911 replayed"
    replay --cluster ${_td}/theta-4392.yaml --trace ${_tr}/theta_2022.swf --format swf)
  # (the fabric off: dropping is the scheduler's, and this keeps the sanitizer build's suite short)
  wk_cli_test(replay_theta_drop "\"dropped_too_large\": [1-9]"
    replay --cluster ${_td}/theta-4392.yaml:nodes=2048 --trace ${_tr}/theta_2022.swf --json
    --fabric off)
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

# The fabric under the jobs (docs/replay.md): on by default, its keys in --json; off keeps
# the stretch model; netaware needs it; --fail names what it fails and refuses what the
# cluster lacks.
wk_cli_test(replay_fabric_json "\"fabric\": \"on\",.*\"contention_slowdown_mean\": [0-9.]+,.*\"jobs_slowed\": [0-9.]+,.*\"fabric_util_by_tier\": \\[.*\"workloads\": [1-9]"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --failures off --json)
wk_cli_test(replay_fabric_off "\"fabric\": \"off\",.*\"fabric_util_by_tier\": \\[\\]"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --failures off --fabric off --json)
wk_cli_test(replay_fabric_text "fabric +[1-9][0-9]* workloads.*tier util"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --failures off)
wk_cli_test(replay_netaware "\"placement\": \"netaware\""
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --failures off --placement netaware --json)
wk_cli_fail(replay_netaware_fabric_off "^error: --placement netaware needs --fabric on"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --placement netaware --fabric off)
wk_cli_test(replay_fail_spine "\"fabric_faults\": 96,"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --failures off --fail spine:0@0+1h --json)
# The one spine of a fabric whose leaves have one uplink each fails for an hour: the job across
# two leaves has no path, so it is interrupted (and again at each restart until the repair)
# rather than run on at full speed over links of no capacity.
wk_cli_test(replay_fail_no_path "\"restarts\": 3,.*\"fabric_faults\": 8,.*\"fault_lost_card_s\": [1-9]"
  replay --cluster ${_td}/one-uplink.yaml --trace ${_td}/one-job.swf --workloads ${_td}/stencil.yaml
  --failures off --fail switch:2.0@600+1h --json)
wk_cli_fail(replay_fail_no_spine "^error: --fail 'spine:5000@1h': tier 3 of zhengzhou-60k has switches 0 to 1279$"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --fail spine:5000@1h)
wk_cli_fail(replay_fail_syntax "^error: --fail 'spine': write KIND:WHERE@TIME"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --fail spine)
wk_cli_fail(replay_fail_kind "^error: --fail 'core:1@1h': unknown kind 'core'"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --fail core:1@1h)
wk_cli_fail(replay_fail_fabric_off "^error: --fail needs --fabric on"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --fail spine:0@1h --fabric off)
wk_cli_fail(replay_workloads_fabric_off "^error: --workloads needs --fabric on"
  replay --cluster zhengzhou-60k --trace ${_td}/tiny.swf --workloads x.yaml --fabric off)
# what each tenant, queue and job size got, as Slurm's sreport: text, JSON and DIR/usage.csv
set(_tiny ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf)
wk_cli_test(replay_usage_text "by tenant +jobs +card-h +cards +quota +wait p50 +wait p99\n  1 +2 .* 2240 .*by queue .*\n  2 +1 .*\n  1 +3 .*by job size \\(cards\\).*\n  2-8 +1 .*\n  513-4096 +1 "
  replay --cluster dgx-a100 --trace ${_tiny})
wk_cli_test(replay_usage_json "\"usage\": \\{.*\"tenants\": \\[.*\"name\": \"1\",.*\"jobs\": 2,.*\"card_hours\".*\"cards_used\".*\"quota_cards\": 2240.0.*\"wait_p50_s\".*\"wait_p99_s\".*\"queues\": \\[.*\"sizes\": \\["
  replay --cluster dgx-a100 --trace ${_tiny} --json)
add_test(NAME cli_replay_usage_csv COMMAND sh -c
  "rm -rf \"$1\" && $<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace \"$2\" --out \"$1\" >/dev/null && head -1 \"$1/usage.csv\" && grep -c '^tenant,' \"$1/usage.csv\" && grep '^size,513-4096,1,' \"$1/usage.csv\" && ls \"$1\""
  sh ${CMAKE_BINARY_DIR}/replay_usage_out ${_tiny})
set_tests_properties(cli_replay_usage_csv PROPERTIES TIMEOUT 120 PASS_REGULAR_EXPRESSION
  "^kind,name,jobs,card_hours,cards_used,quota_cards,wait_p50_s,wait_p99_s\n2\nsize,513-4096,1,[0-9.]+,[0-9.]+,,0,0\njobs.csv\ntimeseries.csv\nusage.csv\n$")
# usage.csv is checked before any work, like the other files of --out
add_test(NAME cli_replay_usage_checked COMMAND sh -c
  "rm -rf \"$1\" && mkdir -p \"$1/usage.csv\" && ${CMAKE_SOURCE_DIR}/tests/expect_exit.sh 2 \"^error: .*usage.csv.*\" $<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace \"$2\" --out \"$1\" && ! ls \"$1\"/jobs.csv 2>/dev/null && echo checked-ok"
  sh ${CMAKE_BINARY_DIR}/replay_usage_dirout ${_tiny})
set_tests_properties(cli_replay_usage_checked PROPERTIES TIMEOUT 120 PASS_REGULAR_EXPRESSION "checked-ok")
