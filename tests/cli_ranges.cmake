# Every number bounded, every limit checked up front (issue 18 part 2). Each numeric option has
# a range in its --help, checked before any work with one line naming the option, the value
# and the range (exit 2, nothing on stdout); the work and memory limits of coll, the sample
# step of replay and a replay in which no job ran are refused at once.
set(_td ${CMAKE_SOURCE_DIR}/tests/data)

# --help of every table: a numeric option without a range is a WK_ASSERT in cli_parse, so
# each of these also proves its table complete.
foreach(_sub "cluster show" "cluster list" "cluster export" "trace gen" "trace info" "coll"
        "train" "plan" "sim stencil" "sim fft" "sim dataparallel" "replay")
  string(REPLACE " " "_" _n "${_sub}")
  separate_arguments(_args UNIX_COMMAND "${_sub} --help")
  wk_cli_test(help_${_n} "Usage: wanka" ${_args})
endforeach()
wk_cli_test(help_range_shown "--cards N +cards per job \\(default: the whole cluster\\) \\[2, 67108864\\]"
  coll --help)
wk_cli_test(help_range_duration "--sample T +timeseries step \\(default 10m; at most the trace's span\\) \\[1ms, 365d\\]"
  replay --help)

# One out-of-range value per command (the trace or cluster named does not matter: the range is
# checked before either is read).
wk_cli_fail(range_coll_cards "^error: --cards -8 is out of range \\[2, 67108864\\]$"
  coll allreduce --cluster dgx-a100 --cards -8)
wk_cli_fail(range_coll_concurrent "^error: --concurrent 0 is out of range \\[1, 4096\\]$"
  coll allreduce --cluster nope --concurrent 0)
wk_cli_fail(range_coll_step "^error: --step-factor 0.5 is out of range \\[1, 1024\\]$"
  coll allreduce --cluster nope --step-factor 0.5)
wk_cli_fail(range_train_tp "^error: --tp 0 is out of range \\[1, 65536\\]$"
  train --cluster nope --model gpt3-175b --tp 0)
wk_cli_fail(range_train_zero "^error: --zero 4 is out of range \\[0, 3\\]$"
  train --cluster nope --model gpt3-175b --zero 4)
wk_cli_fail(range_plan_top "^error: --top 0 is out of range \\[1, 1000\\]$"
  plan --cluster nope --model gpt3-175b --cards 8 --top 0)
wk_cli_fail(range_sim_halo "^error: --halo 65 is out of range \\[1, 64\\]$"
  sim stencil --cluster nope --cards 8 --grid 64 --halo 65)
wk_cli_fail(range_sim_efficiency "^error: --efficiency 1.5 is out of range \\[0.001, 1\\]$"
  sim dataparallel --cluster nope --cards 8 --params 1e9 --flops-per-sample 1e9 --efficiency 1.5)
wk_cli_fail(range_trace_gen_cards "^error: --cards -5 is out of range \\[1, 10000000\\]$"
  trace gen --cards -5 --days 1)
wk_cli_fail(range_trace_gen_load "^error: --load 0 is out of range \\[0.001, 100\\]$"
  trace gen --cards 8 --days 1 --load 0)
wk_cli_fail(range_trace_info_scale "^error: --time-scale 0 is out of range \\[1e-06, 1e\\+06\\]$"
  trace info nope.swf --time-scale 0)
wk_cli_fail(range_replay_sample_ns "^error: --sample 1ns is out of range \\[1ms, 365d\\]$"
  replay --cluster nope --trace nope.swf --sample 1ns)
wk_cli_fail(range_replay_sample_zero "^error: --sample 0 is out of range \\[1ms, 365d\\]$"
  replay --cluster nope --trace nope.swf --sample 0)
wk_cli_fail(range_replay_lookahead "^error: --lookahead 0 is out of range \\[1, 100000000\\]$"
  replay --cluster nope --trace nope.swf --lookahead 0)
wk_cli_fail(range_replay_failures "^error: --failures 1000 is out of range \\[0, 100\\]$"
  replay --cluster nope --trace nope.swf --failures 1000)
wk_cli_fail(range_replay_ckpt "^error: --checkpoint-interval 0 is out of range \\[1s, 365d\\]$"
  replay --cluster nope --trace nope.swf --checkpoint-interval 0)

# replay's sample step against the trace: above its span, or more samples than memory holds
wk_cli_fail(replay_sample_span "^error: --sample 30d is longer than the span of .*tiny.swf \\(122m, first submit to last end\\)"
  replay --cluster dgx-a100 --trace ${_td}/tiny.swf --sample 30d)
wk_cli_fail(replay_sample_memory "^error: --sample 1ms over the 0.1 days of .*tiny.swf makes 7.32e\\+06 samples .* beyond the"
  replay --cluster dgx-a100 --trace ${_td}/tiny.swf --sample 1ms)
set_tests_properties(cli_replay_sample_memory PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=100000000")

# a replay in which no job ran: exit 2 naming why, or with --allow-empty null ratios
add_test(NAME cli_replay_all_dropped COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_exit.sh 2
  "^error: no job ran: all 1 jobs of .* are wider than the 4480 cards of dgx-a100 \\(the widest takes 99999\\)"
  sh -c "printf '1 0 0 100 99999 -1 -1 99999 100 -1 1 1 1 1 1 -1 -1 -1\\n' > wide_$$.swf && \
$<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace wide_$$.swf; rc=$?; rm -f wide_$$.swf; exit $rc")
add_test(NAME cli_replay_no_jobs COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_exit.sh 2
  "^error: no job ran: .* has no jobs"
  sh -c "printf '; no jobs\\n' > none_$$.swf && \
$<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace none_$$.swf; rc=$?; rm -f none_$$.swf; exit $rc")
add_test(NAME cli_replay_allow_empty COMMAND sh -c
  "printf '1 0 0 100 99999 -1 -1 99999 100 -1 1 1 1 1 1 -1 -1 -1\\n' > wide2_$$.swf && \
$<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace wide2_$$.swf --allow-empty --json; \
$<TARGET_FILE:wanka> replay --cluster dgx-a100 --trace wide2_$$.swf --allow-empty; echo rc=$?; rm -f wide2_$$.swf")
set_tests_properties(cli_replay_allow_empty PROPERTIES PASS_REGULAR_EXPRESSION
  "\"jobs\": 0,.*\"utilization\": null,.*\"goodput\": null,\n  \"ettr\": null,.*goodput +n/a .*ETTR +n/a .*rc=0"
  FAIL_REGULAR_EXPRESSION "1\\.0000")

# coll: the L2 flow limit of a sweep's largest size refuses the sweep before its first size
# (1M alone runs about 13 s at L2; the whole sweep is refused in well under a second)
wk_cli_fail(coll_l2_limit_first "^error: level 2 would simulate [0-9]+ flows \\(limit 120000000\\)"
  coll broadcast --cluster zhengzhou-60k --cards 9200 --level 2 --sizes 1M:1G --algo ring)
set_tests_properties(cli_coll_l2_limit_first PROPERTIES TIMEOUT 10)
# ... and the flow engine is sized against the memory limit before it is built (50 bytes a
# link leaves room for the cluster model's 14, not for the engine's 88 more)
wk_cli_fail(coll_engine_memory "^error: level 1 needs a flow engine over the cluster's 491520 links: .* GiB with the cluster model, beyond the .* GiB this machine allows .*: use level 0 or a cluster with fewer nodes$"
  coll allreduce --cluster zhengzhou-60k --cards 8 --sizes 1M)
set_tests_properties(cli_coll_engine_memory PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=24576000")
wk_cli_test(coll_engine_memory_l0 "1048576 +262144 +float"
  coll allreduce --cluster zhengzhou-60k --cards 8 --sizes 1M --level 0)
set_tests_properties(cli_coll_engine_memory_l0 PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=24576000")

# An allocation that fails names what was being built and what shrinks it, never a source
# path (ulimit -v makes malloc fail; not under the sanitizers, which reserve their shadow).
if(NOT WK_SANITIZE)
  add_test(NAME cli_oom_message COMMAND sh -c
    "ulimit -v 400000; WANKA_MAX_MODEL_BYTES=1e12 $<TARGET_FILE:wanka> cluster show zhengzhou-60k:nodes=1000000,fabric.tiers.3.radix=100000; echo rc=$?")
  set_tests_properties(cli_oom_message PROPERTIES PASS_REGULAR_EXPRESSION
    "^error: out of memory building the cluster model \\([0-9.]+ GiB more could not be allocated\\): use a cluster with fewer nodes\nrc=3\n$"
    FAIL_REGULAR_EXPRESSION "\\.c:[0-9]")
endif()
