# CLI tests for `wanka coll`: nccl-tests columns and header, sizes and steps, algorithms and
# levels, placements, JSON keys, concurrent jobs, and bad input (exit 2, one line, no stdout).
wk_cli_test(coll_table
  "# wanka coll allreduce: cluster dgx-a100:nodes=1, 8 cards \\(packed\\), level 1, algo ring.*size\\(B\\) +count +type +algo +time\\(us\\) +algbw\\(GB/s\\) +busbw\\(GB/s\\).*1073741824 +268435456 +float +ring"
  coll allreduce --cluster dgx-a100:nodes=1 --algo ring --sizes 1G)
wk_cli_test(coll_sweep "1024 +256 +float.*2048 +512 +float.*4096 +1024 +float"
  coll allgather --cluster dgx-a100:nodes=2 --sizes 1K:4K --level 0)
wk_cli_test(coll_step_factor "1024 +512 +bf16.*4096 +2048 +bf16.*16384 +8192 +bf16"
  coll broadcast --cluster dgx-a100:nodes=2 --sizes 1K:16K --step-factor 4 --dtype bf16)
wk_cli_test(coll_auto_hier "61440 cards.*level 1, algo auto \\(chosen per row\\).* hier "
  coll allreduce --cluster zhengzhou-60k --sizes 1G)
wk_cli_test(coll_l2 "level 2.*pairwise"
  coll alltoall --cluster dgx-a100:nodes=2 --algo pairwise --level 2 --sizes 1M)
wk_cli_test(coll_spread "64 cards \\(spread\\)"
  coll reducescatter --cluster zhengzhou-60k --cards 64 --placement spread --sizes 64M)
wk_cli_test(coll_random "128 cards \\(random\\)"
  coll allreduce --cluster zhengzhou-60k --cards 128 --placement random --seed 7 --sizes 1M)
wk_cli_test(coll_sendrecv "sendrecv.* direct "
  coll sendrecv --cluster h100-roce-24k:nodes=2 --placement spread --sizes 1G)
wk_cli_test(coll_json
  "^{\n  \"op\": \"allreduce\".*\"cards\": 16.*\"level\": 0.*\"algo\": \"auto\".*\"rows\": \\[.*\"bytes\": 1048576.*\"time_s\".*\"algbw_GBps\".*\"busbw_GBps\".*\"algo\": \"(ring|tree|rhd|hier)\""
  coll allreduce --cluster dgx-a100:nodes=2 --sizes 1M --level 0 --json)
wk_cli_test(coll_concurrent "2 jobs at once.*slowdown.* 0 .* 1 "
  coll alltoall --cluster zhengzhou-60k:oversubscription=3 --cards 64 --concurrent 2 --placement spread --sizes 16M)
wk_cli_test(coll_nvls "8589934592 +2147483648 +float +nvls +[0-9.]+ +266\\.5[0-9] +466\\.[45][0-9]"
  coll allreduce --cluster h100-roce-24k:nodes=1 --sizes 8G)
wk_cli_test(coll_nvls_tweak "8589934592 +2147483648 +float +nvls +[0-9.]+ +177\\.[0-9]+ +311\\.0[0-9]"
  coll allreduce --cluster dgx-a100:nodes=1,supernode.in_switch_reduction=true --sizes 8G)
wk_cli_fail(coll_nvls_no_reduction "^error: algorithm 'nvls' needs a scale-up switch that reduces in the switch"
  coll allreduce --cluster zhengzhou-60k --cards 640 --algo nvls --sizes 1G)
wk_cli_fail(coll_zero_cards "^error: --cards 0 is out of range \\[2, 67108864\\]$"
  coll allreduce --cluster dgx-a100:nodes=1 --cards 0)
wk_cli_fail(coll_negative_seed "^error: --seed -1 is out of range \\[0, 9007199254740991\\]$"
  coll allreduce --cluster dgx-a100:nodes=1 --placement random --seed -1)
wk_cli_test(coll_help "Usage: wanka coll OP --cluster C.*--step-factor F" coll --help)
wk_cli_fail(coll_bad_op "^error: unknown collective 'allreduse'" coll allreduse --cluster dgx-a100)
wk_cli_fail(coll_no_op "^error: name a collective" coll --cluster dgx-a100)
wk_cli_fail(coll_bad_algo "^error: unknown algorithm 'bogus'" coll allreduce --cluster dgx-a100 --algo bogus)
wk_cli_fail(coll_algo_mismatch "^error: algorithm 'pairwise' does not apply to allreduce \\(use"
  coll allreduce --cluster dgx-a100:nodes=1 --algo pairwise --sizes 1M)
wk_cli_fail(coll_too_many_cards "^error: 5000 cards x 1 jobs is more than the 4480 cards of dgx-a100"
  coll allreduce --cluster dgx-a100 --cards 5000)
wk_cli_fail(coll_size_huge "^error: --sizes '1K:2T' is out of range: sizes go up to 1T"
  coll allreduce --cluster dgx-a100 --sizes 1K:2T)
wk_cli_fail(coll_size_bad "^error: --sizes '1Q:4G' is not MIN:MAX"
  coll allreduce --cluster dgx-a100 --sizes 1Q:4G)
wk_cli_fail(coll_size_order "^error: --sizes '4G:1K': need 0 < MIN <= MAX"
  coll allreduce --cluster dgx-a100 --sizes 4G:1K)
wk_cli_fail(coll_size_elt "^error: --sizes '1026': sizes must be multiples of the float element size"
  coll allreduce --cluster dgx-a100 --sizes 1026)
wk_cli_fail(coll_bad_level "^error: --level 3 is out of range \\[0, 2\\]$"
  coll allreduce --cluster dgx-a100 --level 3)
wk_cli_fail(coll_bad_placement "^error: unknown --placement 'packd'"
  coll allreduce --cluster dgx-a100 --placement packd)
wk_cli_fail(coll_bad_cluster "^error: unknown cluster|cannot open cluster file"
  coll allreduce --cluster nope.yaml)
wk_cli_fail(coll_no_cluster "^error: name a cluster with --cluster" coll allreduce)
wk_cli_fail(coll_bad_dtype "^error: unknown --dtype 'int8'" coll allreduce --cluster dgx-a100 --dtype int8)
wk_cli_fail(coll_l2_too_big "^error: level 2 would simulate"
  coll allreduce --cluster zhengzhou-60k --algo ring --level 2 --sizes 1G)
