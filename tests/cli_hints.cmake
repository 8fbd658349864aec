# Help that helps (issue 18 part 4, the parts in cli/): an unknown option, command, preset,
# model, policy or other name gets "did you mean" from the known names when it is a likely
# typo (and no guess when it is not); hints are commands a user can paste (no "<op>", which a
# shell reads as a redirection).
wk_cli_fail(hint_option "^error: unknown option '--card'; did you mean '--cards'\\? \\(see 'wanka coll --help'\\)$"
  coll allreduce --cluster dgx-a100 --card 8)
wk_cli_fail(hint_option_paste "^error: unknown option '--sampel'; did you mean '--sample'\\? \\(see 'wanka replay --help'\\)$"
  replay --cluster dgx-a100 --trace x.swf --sampel 1m)
wk_cli_fail(hint_option_far "^error: unknown option '--colour' \\(see 'wanka cluster show --help'\\)$"
  cluster show dgx-a100 --colour)
wk_cli_fail(hint_command "^error: unknown command 'replya'; did you mean 'replay'\\? \\(cluster, trace, coll, train, plan, model, replay, compare, sim or sweep\\)$"
  replya)
wk_cli_fail(hint_preset "dgx-a10: error: .*; did you mean 'dgx-a100'\\?$" cluster show dgx-a10)
wk_cli_fail(hint_preset_tweaked "zhengzhou-60: error: .*; did you mean 'zhengzhou-60k'\\?$"
  coll allreduce --cluster zhengzhou-60:nodes=2 --cards 8)
wk_cli_fail(hint_model "^error: unknown model 'llama3-70': .*; did you mean 'llama3-70b'\\?$"
  plan --cluster dgx-a100 --model llama3-70 --cards 8)
wk_cli_fail(hint_policy "^error: unknown policy 'fairshar'; did you mean 'fairshare'\\?"
  replay --cluster dgx-a100 --trace x.swf --policy fairshar)
wk_cli_fail(hint_algo "^error: unknown algorithm 'rign'; did you mean 'ring'\\?"
  coll allreduce --cluster dgx-a100 --algo rign)
wk_cli_fail(hint_format "^error: unknown trace format 'sfw'; did you mean 'swf'\\?" trace info x --format sfw)
wk_cli_fail(hint_no_guess "^error: unknown placement 'random' \\(topo, first-fit or netaware\\)$"
  replay --cluster dgx-a100 --trace x.swf --placement random)
foreach(_sub coll cluster trace model)
  add_test(NAME cli_hint_no_angle_${_sub} COMMAND wanka ${_sub} --help)
  set_tests_properties(cli_hint_no_angle_${_sub} PROPERTIES FAIL_REGULAR_EXPRESSION "<[a-z]")
endforeach()
add_test(NAME cli_hint_no_angle_top COMMAND wanka --help)
set_tests_properties(cli_hint_no_angle_top PROPERTIES FAIL_REGULAR_EXPRESSION "<[a-z]")

# Answers say what they ran (issue 18 part 3, first item): a tweaked cluster is reported as
# given, tweaks included, in the text and JSON of every subcommand.
set(_tw dgx-a100:nodes=16)
wk_cli_test(names_cluster_text "^cluster +dgx-a100:nodes=16 " cluster show ${_tw})
wk_cli_test(names_cluster_json "\"cluster\": \"dgx-a100:nodes=16\",\n  \"name\": \"dgx-a100\"" cluster show ${_tw} --json)
wk_cli_test(names_train "\"cluster\": \"dgx-a100:nodes=16\""
  train --cluster ${_tw} --model gpt3-175b --cards 128 --seq 2048 --gbs 32 --tp 8 --pp 8 --json)
wk_cli_test(names_train_text "cluster +dgx-a100:nodes=16, 128 cards"
  train --cluster ${_tw} --model gpt3-175b --cards 128 --seq 2048 --gbs 32 --tp 8 --pp 8)
wk_cli_test(names_plan "\"cluster\": \"dgx-a100:nodes=16\"" plan --cluster ${_tw} --model llama3-8b --cards 64 --top 1 --json)
wk_cli_test(names_replay "\"cluster\": \"dgx-a100:nodes=16\""
  replay --cluster ${_tw} --trace ${CMAKE_SOURCE_DIR}/tests/data/tiny.swf --json)
wk_cli_test(names_sim "\"cluster\": \"dgx-a100:nodes=16\"" sim fft --cluster ${_tw} --cards 64 --n 512 --json)
