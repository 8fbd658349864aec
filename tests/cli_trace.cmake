# CLI tests for `wanka trace`: info on the real traces (job counts), gen (SWF out, atomic file,
# determinism is in test_trace), JSON keys, and bad input (file:line:col, exit 2, no stdout).
set(TB ${CMAKE_SOURCE_DIR}/tests/bad)
set(TR ${WK_SHARED}/data/traces)
if(EXISTS ${TR}/theta_2022.swf)
  wk_cli_test(trace_info_theta "trace +.*theta_2022.swf \\(swf\\).*jobs +23911 of 23911 rows"
    trace info ${TR}/theta_2022.swf)
  wk_cli_test(trace_info_philly_json
    "\"format\": \"philly\".*\"jobs\": 82247.*\"cards_max\": 128.*\"states\""
    trace info ${TR}/philly_jobs.csv.gz --json)
  wk_cli_test(trace_info_mira "jobs +2147 of 4294 rows.*dropped +2147: Cobalt"
    trace info ${TR}/mira_2018_wk1.cobalt.log)
  wk_cli_test(trace_info_alibaba "jobs +6203 of 8152 rows.*1088: CPU-only.*861: never"
    trace info ${TR}/alibaba_gpu_2023_pods.csv)
  wk_cli_test(trace_info_cards_per_unit "cards/job +p50 512 .*max 16192"
    trace info ${TR}/theta_2022.swf --cards-per-unit 4)
  wk_cli_fail(trace_info_summary "acme_cluster_summary.csv:1:1: error: this is a cluster summary"
    trace info ${TR}/acme_cluster_summary.csv)
endif()
wk_cli_test(trace_gen_stdout "; UnixStartTime: 1704067200.*\n1 [0-9]+ -1 [0-9]+ [0-9]+ "
  trace gen --cards 1024 --days 1 --seed 3)
wk_cli_test(trace_gen_help "Usage: wanka trace gen" trace gen --help)
add_test(NAME cli_trace_gen_file_roundtrip COMMAND sh -c
  "$<TARGET_FILE:wanka> trace gen --profile hpc --cards 4096 --days 2 --seed 5 --out \"$1\" && $<TARGET_FILE:wanka> trace info \"$1\" --json"
  sh ${CMAKE_BINARY_DIR}/cli_trace_gen.swf)
set_tests_properties(cli_trace_gen_file_roundtrip PROPERTIES
  PASS_REGULAR_EXPRESSION "\"format\": \"swf\".*\"skipped_bad\": 0" TIMEOUT 120)
wk_cli_fail(trace_gen_no_cards "needs --cards" trace gen --days 1)
wk_cli_fail(trace_gen_bad_profile "unknown trace profile 'quantum'" trace gen --profile quantum --cards 8 --days 1)
wk_cli_fail(trace_info_bad_format "unknown trace format 'xml'" trace info ${TB}/trace_swf_field.swf --format xml)
wk_cli_fail(trace_info_missing "nope.swf: error: cannot open" trace info nope.swf)
wk_cli_fail(trace_bad_swf_field "trace_swf_field.swf:3:26: error: field 5 \\(allocated processors\\) is '6x0', not a number"
  trace info ${TB}/trace_swf_field.swf)
wk_cli_fail(trace_bad_swf_huge "trace_swf_huge.swf:1:12: error: field 5 \\(allocated processors\\) is 20000000"
  trace info ${TB}/trace_swf_huge.swf)
wk_cli_fail(trace_bad_philly_time "trace_philly_time.csv:3:1: error: timestamp '2017-10-09 25:13:03' is not"
  trace info ${TB}/trace_philly_time.csv)
wk_cli_fail(trace_bad_sacct_gpu "trace_sacct_gpu.txt:3:94: error: AllocTRES 'cpu=8,gres/gpu=-4'"
  trace info ${TB}/trace_sacct_gpu.txt)
wk_cli_fail(trace_bad_helios_quote "trace_helios_quote.csv:2:3: error: unterminated quoted field"
  trace info ${TB}/trace_helios_quote.csv)
wk_cli_fail(trace_bad_cobalt_noqtime "trace_cobalt_noqtime.log:1:31: error: E record has no qtime="
  trace info ${TB}/trace_cobalt_noqtime.log)
wk_cli_test(trace_skip_bad "jobs +2 of 3 rows \\(0 dropped, 1 malformed skipped\\).*first bad +.*trace_swf_field.swf:3:26"
  trace info ${TB}/trace_swf_field.swf --skip-bad)
wk_cli_test(trace_info_swf_bom "jobs +1 of 1 rows" trace info ${TB}/trace_swf_bom.swf)
if(EXISTS /dev/full)
  add_test(NAME cli_trace_gen_full COMMAND sh -c
    "$<TARGET_FILE:wanka> trace gen --cards 64 --days 1 2>&1 >/dev/full; echo rc=$?")
  set_tests_properties(cli_trace_gen_full PROPERTIES PASS_REGULAR_EXPRESSION
    "^error: cannot write <stdout>: No space left on device\nrc=2\n$" TIMEOUT 120)
endif()
# resource bounds: a trace larger than the memory limit is refused with a message, not the OOM killer
wk_cli_fail(trace_gen_memory "^error: about [0-9]+ jobs would need .* GiB allowed" trace gen --cards 61440 --days 30)
set_tests_properties(cli_trace_gen_memory PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=2000000")
wk_cli_fail(trace_info_memory "philly_jobs.csv.gz:8194:1: error: more than 8192 jobs: the trace needs more memory" trace info ${WK_SHARED}/data/traces/philly_jobs.csv.gz)
set_tests_properties(cli_trace_info_memory PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=2000000")
# A trace read from a pipe: format detection must not rewind (a pipe cannot seek back), so
# the first line it looked at is handed to the reader. Plain SWF, gzip and a CSV header.
add_test(NAME cli_trace_info_pipe COMMAND sh -c
  "$<TARGET_FILE:wanka> trace gen --cards 64 --days 1 --seed 3 | $<TARGET_FILE:wanka> trace info /dev/stdin")
set_tests_properties(cli_trace_info_pipe PROPERTIES
  PASS_REGULAR_EXPRESSION "\\(swf\\)\njobs +122 of 122 rows" TIMEOUT 120)
add_test(NAME cli_trace_info_pipe_gzip COMMAND sh -c
  "$<TARGET_FILE:wanka> trace gen --cards 64 --days 1 --seed 3 | gzip -c | $<TARGET_FILE:wanka> trace info /dev/stdin")
set_tests_properties(cli_trace_info_pipe_gzip PROPERTIES
  PASS_REGULAR_EXPRESSION "\\(swf\\)\njobs +122 of 122 rows" TIMEOUT 120)
add_test(NAME cli_trace_info_pipe_csv COMMAND sh -c
  "printf 'job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue\\n\\n1,u1,vc1,8,16,1,COMPLETED,100,110,210,100,0\\n2,u2,vc1,4,8,1,FAILED,120,130,150,20,0\\n' | $<TARGET_FILE:wanka> trace info /dev/stdin")
set_tests_properties(cli_trace_info_pipe_csv PROPERTIES
  PASS_REGULAR_EXPRESSION "\\(helios\\)\njobs +2 of 2 rows" TIMEOUT 120)
# users, groups and queues with their jobs and card-hours (what a tenants file needs)
wk_cli_test(trace_info_names "users +3, by card-hours\n  1 +2 jobs +2112.0 card-h +89.1 %.*groups +2, by card-hours.*queues +2, by card-hours\n  2 +1 jobs +2048.0 card-h +86.4 %\n  1 +3 jobs +321.3 card-h +13.6 %"
  trace info ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf)
wk_cli_test(trace_info_names_top "users +3, by card-hours \\(the largest; more with --top K, all with --json\\)\n  1 +2 jobs.*\n  \\(the rest\\) +2 jobs +257.3 card-h"
  trace info ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf --top 1)
wk_cli_test(trace_info_names_json "\"users\": \\[.*\"name\": \"1\",.*\"jobs\": 2,.*\"card_hours\": 2112.0.*\"groups\": \\[.*\"queues\": \\["
  trace info ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf --json)
wk_cli_fail(trace_info_top_zero "^error: --top 0 is out of range \\[1, 1000000000\\]$" trace info ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf --top 0)
