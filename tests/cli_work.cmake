# CLI tests for `wanka train`, `wanka plan` and `wanka sim`: output keys, chosen settings, the
# timeline file, and every bad-input constraint (one line "error: ...", exit 2, no stdout).
wk_cli_test(train_gpt3 "step +[0-9.]+ s per iteration.*MFU [0-9.]+ %.*fits"
  train --cluster dgx-a100 --model gpt3-175b --seq 2048 --gbs 64 --tp 8 --pp 8 --vpp 3 --dp 1 --recompute selective)
wk_cli_test(train_json
  "\"step_time_s\".*\"tokens_per_s\".*\"tflops_per_card\".*\"mfu\".*\"memory_bytes_per_card\".*\"fits\": true.*\"breakdown\".*\"compute_s\".*\"tp_s\".*\"pp_s\".*\"dp_s\".*\"ep_s\".*\"cp_s\".*\"bubble_s\""
  train --cluster dgx-a100 --model llama3-8b --seq 8192 --gbs 128 --tp 2 --pp 1 --cards 64 --json)
wk_cli_test(train_chooses "micro-batch [0-9]+ \\(chosen: fastest that fits\\).*recompute [a-z]+ \\(chosen"
  train --cluster dgx-a100 --model megatron-7.5b --seq 2048 --gbs 512 --tp 4 --pp 1 --cards 128)
wk_cli_test(train_shape "custom: 24 layers, hidden 2304"
  train --cluster dgx-a100 --layers 24 --hidden 2304 --heads 24 --seq 2048 --gbs 32 --tp 1 --pp 1 --dp 8)
wk_cli_test(train_moe "EP 8.*exposed TP.*EP [0-9.e-]+ s"
  train --cluster zhengzhou-60k --model deepseek-v3 --seq 4096 --gbs 2048 --tp 8 --pp 1 --ep 8 --cards 4096 --zero 3 --recompute full)
# DeepSeek-V3 as published: PP 16, EP 64 over 8 nodes, ZeRO-1, no TP, FP8, DualPipe-style overlap
wk_cli_test(train_deepseek_v3 "EP 64.*MoE: busiest EP rank 1.2 x the mean tokens \\(imbalance 1.3, capacity factor 1.2, 7.7 % of its tokens dropped\\); EP all-to-all overlapped"
  train --cluster h800-2k --model deepseek-v3 --cards 2048 --seq 4096 --gbs 15360 --tp 1 --pp 16 --ep 64 --zero 1 --dtype fp8 --level 1 --moe-overlap --moe-imbalance 1.3 --capacity-factor 1.2)
# contention (the default at level 1 and 2): every DP group of the job timed at once on the fabric
wk_cli_test(train_dp_contention "DP collectives timed with every group at once, sharing the fabric \\(32 DP groups.*step"
  train --cluster zhengzhou-60k --model llama3-70b --seq 4096 --gbs 1024 --tp 8 --pp 4 --cards 4096 --level 1)
wk_cli_test(train_no_contention "\"level\": 1.*\"dp_contention\": false"
  train --cluster dgx-a100 --model llama3-8b --seq 4096 --gbs 128 --tp 2 --pp 2 --cards 64 --level 1 --no-contention --json)
wk_cli_test(train_dp_contention_json "\"level\": 1.*\"dp_contention\": true"
  train --cluster dgx-a100 --model llama3-8b --seq 4096 --gbs 128 --tp 2 --pp 2 --cards 64 --level 1 --dp-contention --json)
# Llama 3 405B as published (Dubey et al. 2024): 126 layers on PP 16, one layer less on the first
# and the last stage, VPP chosen; FlashAttention-2, the kernel of its year
set(_l405 train --cluster h100-roce-24k --model llama3-405b --seq 8192 --gbs 2048 --tp 8 --pp 16 --cards 16384 --attention flash2)
wk_cli_test(train_uneven_auto "PP 16 \\(VPP 8, chosen; layers per stage 7 \\+ 14 x 8 \\+ 7, balanced\\)" ${_l405})
wk_cli_test(train_uneven_given "PP 16 \\(VPP 1; layers per stage 6 \\+ 14 x 8 \\+ 8\\)"
  ${_l405} --vpp 1 --pp-first-layers 6 --pp-last-layers 8)
wk_cli_test(train_uneven_json "\"vpp_chosen\": true.*\"stage_layers\": \\[[^0-9]*7,[^0-9]*8,.*\"stage_layers_chosen\": true" ${_l405} --json)
wk_cli_test(plan_uneven "7\\+8\\+7" plan --cluster h100-roce-24k --model llama3-405b --cards 16384 --seq 8192 --gbs 2048 --top 10 --attention flash2)
wk_cli_test(train_model_file "step"
  train --cluster dgx-a100 --model ${CMAKE_SOURCE_DIR}/models/llama3-70b.yaml --seq 4096 --gbs 256 --tp 8 --pp 4 --cards 256)
add_test(NAME cli_train_timeline COMMAND sh -c
  "rm -f tl.json && $<TARGET_FILE:wanka> train --cluster dgx-a100 --model gpt3-175b --seq 2048 --gbs 32 --tp 8 --pp 4 --dp 2 --timeline tl.json >/dev/null && grep -q traceEvents tl.json && grep -q '\"ph\":\"X\"' tl.json && grep -q 'stage 3' tl.json && echo timeline-ok")
set_tests_properties(cli_train_timeline PROPERTIES PASS_REGULAR_EXPRESSION "timeline-ok" TIMEOUT 120)
# interleaved (VPP 3): per-chunk ops, and chunk 0 -> 1 wraps from the last stage to stage 0
add_test(NAME cli_train_timeline_vpp COMMAND sh -c
  "rm -f tlv.json && $<TARGET_FILE:wanka> train --cluster dgx-a100 --model gpt3-175b --seq 2048 --gbs 64 --tp 8 --pp 8 --vpp 3 --dp 1 --timeline tlv.json >/dev/null && grep -q '\"name\":\"F0 c2\"' tlv.json && grep -q '\"name\":\"recv F0 c1\".*\"from_stage\":7' tlv.json && grep -q 'stage 7' tlv.json && echo timeline-vpp-ok")
set_tests_properties(cli_train_timeline_vpp PROPERTIES PASS_REGULAR_EXPRESSION "timeline-vpp-ok" TIMEOUT 120)
wk_cli_test(plan_175b "layouts: [0-9]+ enumerated, [0-9]+ evaluated, [0-9]+ fit.*TP +PP"
  plan --cluster dgx-a100 --model gpt3-175b --cards 512 --gbs 512 --top 3)
wk_cli_test(plan_why "why the others lost to #1:.*  2 \\+[0-9.e-]+ s \\(\\+[0-9.]+ %\\): [a-zA-Z ]+ \\+.* - TP [0-9]+ PP [0-9]+ .*would take [0-9.e-]+ s less but needs [0-9.]+ GB per card of 85.9"
  plan --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --top 3)
wk_cli_test(plan_json_why "\"why_lost\": \"\\+.*\"fastest_unfit\".*\"fits\": false.*\"why_lost\": \"would take"
  plan --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --top 3 --json)
wk_cli_test(plan_json "\"layouts_evaluated\".*\"best\".*\"step_time_s\".*\"breakdown\""
  plan --cluster dgx-a100 --model llama3-8b --cards 64 --gbs 256 --seq 4096 --top 2 --json)
wk_cli_test(sim_stencil "decomposition 4 x 4 x 4.*step.*cells_per_s"
  sim stencil --cluster zhengzhou-60k --cards 64 --grid 1024)
wk_cli_test(sim_fft_json "\"step_time_s\".*\"fits\": true.*\"breakdown\".*\"comm_s\""
  sim fft --cluster dgx-a100 --cards 256 --n 2048 --pencil --json)
wk_cli_test(sim_dp "samples_per_s"
  sim dataparallel --cluster dgx-a100 --cards 512 --params 1e9 --flops-per-sample 2e12 --batch 4)

# bad input
set(_t train --cluster dgx-a100 --model gpt3-175b --seq 2048 --gbs 64)
wk_cli_fail(train_dp_contention_l0 "^error: --dp-contention needs --level 1 or 2" ${_t} --tp 8 --pp 8 --dp 1 --dp-contention)
wk_cli_fail(train_contention_both "^error: give --dp-contention or --no-contention, not both" ${_t} --tp 8 --pp 8 --dp 1 --level 1 --dp-contention --no-contention)
wk_cli_fail(train_moe_imbalance_low "^error: --moe-imbalance 0.5: the busiest expert rank takes at least the mean" train --cluster h800-2k --model deepseek-v3 --seq 4096 --gbs 2048 --tp 1 --pp 16 --ep 64 --cards 2048 --moe-imbalance 0.5)
wk_cli_fail(train_capacity_zero "^error: --capacity-factor 0: give a capacity factor > 0" train --cluster h800-2k --model deepseek-v3 --seq 4096 --gbs 2048 --tp 1 --pp 16 --ep 64 --cards 2048 --capacity-factor 0)
wk_cli_fail(train_moe_dense "^error: --moe-imbalance, --capacity-factor and --moe-overlap need a model with experts" ${_t} --tp 8 --pp 8 --dp 1 --moe-overlap)
wk_cli_fail(train_bad_heads "^error: heads % tp != 0" ${_t} --tp 5 --pp 8 --dp 1)
wk_cli_fail(train_bad_split_sum "^error: pp-first-layers 60 \\+ pp-last-layers 70 = 130 exceed the model's 126 layers" ${_l405} --pp-first-layers 60 --pp-last-layers 70)
wk_cli_fail(train_bad_split_empty "^error: pp-first-layers 63 \\+ pp-last-layers 63 leave 0 layers for 14 middle stages" ${_l405} --pp-first-layers 63 --pp-last-layers 63)
wk_cli_fail(train_bad_split_uneven "^error: pp-first-layers 6 \\+ pp-last-layers 6 leave 114 layers, which do not spread evenly over 14" ${_l405} --pp-first-layers 6 --pp-last-layers 6)
wk_cli_fail(train_bad_split_pp1 "^error: pp-first-layers 3, pp-last-layers 0 need pp >= 2" ${_t} --tp 8 --pp 1 --dp 8 --pp-first-layers 3)
wk_cli_fail(train_bad_split_zero "^error: --pp-first-layers 0 is out of range \\[1, " ${_t} --tp 8 --pp 8 --dp 1 --pp-first-layers 0)
wk_cli_fail(train_bad_vpp_zero "^error: --vpp 0 is out of range \\[1, 1024\\]" ${_t} --tp 8 --pp 8 --dp 1 --vpp 0)
wk_cli_fail(train_bad_vpp_chunks "^error: vpp 8 leaves a model chunk empty: stage 0 holds 6 layers, needs 7" ${_l405} --vpp 8 --pp-first-layers 6 --pp-last-layers 8)
wk_cli_fail(train_bad_pp_layers "^error: layers < pp: 96 layers cannot fill 128 pipeline stages" ${_t} --tp 8 --pp 128 --dp 1)
wk_cli_fail(train_bad_cards "^error: cards != tp \\* pp \\* dp \\* cp" ${_t} --tp 8 --pp 8 --dp 1 --cards 128)
wk_cli_fail(train_bad_cards_div "^error: cards % \\(tp \\* pp \\* cp\\) != 0" ${_t} --tp 8 --pp 8 --cards 100)
wk_cli_fail(train_bad_gbs "^error: gbs % \\(mbs \\* dp\\) != 0" ${_t} --tp 8 --pp 8 --dp 2 --mbs 64)
wk_cli_fail(train_bad_gbs_dp "^error: gbs % dp != 0" ${_t} --tp 8 --pp 1 --dp 3)
wk_cli_fail(train_bad_ep "^error: experts % ep != 0" train --cluster zhengzhou-60k --model deepseek-v3 --seq 4096 --gbs 1536 --tp 8 --pp 1 --dp 96 --ep 6)
wk_cli_fail(train_no_fit "^error: does not fit: needs [0-9.]+ GB per card.*GB over; changed alone, --zero 3 needs [0-9.]+ GB, --recompute full needs .*--tp 2 --dp 4 needs .*'wanka plan --cluster dgx-a100 --model gpt3-175b --cards 8 --seq 2048 --gbs 64' searches every layout$"
  ${_t} --tp 1 --pp 1 --dp 8 --zero 0 --recompute none)
# advice names only what helps: the lowest ZeRO that fits; none at DP 1 (nothing to shard over)
wk_cli_fail(train_no_fit_zero "^error: does not fit: .*; changed alone, --zero 2 needs [0-9.]+ GB \\(fits\\), --recompute full"
  ${_t} --tp 4 --pp 8 --dp 4 --zero 0 --recompute none --mbs 4)
wk_cli_fail(train_no_fit_dp1 "^error: does not fit: [^;]*; 'wanka plan --cluster dgx-a100 --model gpt3-175b --cards 16 "
  ${_t} --tp 2 --pp 8 --dp 1)
# plan has no --zero or --recompute (it tries them all): it names what it does take
wk_cli_fail(plan_no_fit_advice "^error: no layout of gpt3-175b fits on 8 cards; the closest .* does not fit: .*; try more --cards \\(the cluster has 4480\\) or a shorter --seq$"
  plan --cluster dgx-a100 --model gpt3-175b --cards 8 --gbs 8)
wk_cli_fail(plan_no_fit_whole "; try a shorter --seq, or a cluster with more HBM per card \\(e.g. --cluster dgx-a100:nodes=1,hbm_gib=160\\)$"
  plan --cluster dgx-a100:nodes=1 --model gpt3-175b --cards 8 --gbs 8)
# what-ifs the hardware contradicts: FP8 on a card without FP8 units is refused (the tweak that
# asks the what-if named); TP wider than the scale-up domain runs, with a note
wk_cli_fail(train_fp8_a100 "^error: --dtype fp8: A100-SXM-80GB has no FP8 units .*use --dtype bf16, or ask what FP8 units would give with --cluster dgx-a100:accelerator.fp8_tflops=624$"
  ${_t} --tp 8 --pp 8 --dp 1 --dtype fp8)
wk_cli_fail(plan_fp8_a100 "^error: --dtype fp8: A100-SXM-80GB has no FP8 units .*--cluster dgx-a100:nodes=64,accelerator.fp8_tflops=624$"
  plan --cluster dgx-a100:nodes=64 --model llama3-8b --cards 64 --dtype fp8)
wk_cli_test(train_fp8_whatif "SP on; fp8" ${_t} --tp 8 --pp 8 --dp 1 --dtype fp8 --cluster dgx-a100:accelerator.fp8_tflops=624)
wk_cli_test(train_tp_note "note: TP 16 spans 2 scale-up domains of 8 cards: its collectives cross the NICs \\(25 GB/s per card\\) instead of the scale-up bus \\(300 GB/s\\)"
  ${_t} --tp 16 --pp 4 --dp 1)
wk_cli_test(train_tp_note_json "\"notes\": \\[[^]]*TP 16 spans 2 scale-up domains"
  ${_t} --tp 16 --pp 4 --dp 1 --json)
wk_cli_fail(train_too_many_cards "^error: the job needs 8192 cards .*cluster has 4480" ${_t} --tp 8 --pp 8 --dp 128 --gbs 1024)
wk_cli_fail(train_no_size "^error: give --cards N or --dp D" ${_t} --tp 8 --pp 8)
wk_cli_fail(train_bad_model "^error: unknown model 'gpt5'" train --cluster dgx-a100 --model gpt5 --seq 2048 --gbs 64 --tp 8 --pp 8 --dp 1)
wk_cli_fail(train_bad_recompute "^error: unknown --recompute 'some' \\(none, selective or full\\)$" ${_t} --tp 8 --pp 8 --dp 1 --recompute some)
wk_cli_fail(train_no_cluster "^error: train needs --cluster" train --model gpt3-175b)
wk_cli_fail(train_bad_cluster "error: cannot open cluster file" train --cluster nope.yaml --model gpt3-175b --seq 2048 --gbs 64 --tp 8 --pp 8 --dp 1)
wk_cli_fail(plan_too_many "^error: --cards 99999: more cards than the cluster's 4480" plan --cluster dgx-a100 --model gpt3-175b --cards 99999)
wk_cli_fail(plan_no_fit "^error: no layout of gpt3-175b fits on 8 cards" plan --cluster dgx-a100 --model gpt3-175b --cards 8 --gbs 8)
wk_cli_fail(sim_bad_kind "^error: unknown sim workload 'cfd'" sim cfd)
wk_cli_fail(sim_fft_slab "^error: slab decomposition needs cards <= n" sim fft --cluster dgx-a100 --cards 2048 --n 1024)
wk_cli_fail(sim_bad_grid "^error: --grid 'x7'" sim stencil --cluster dgx-a100 --cards 8 --grid x7)
# the attention kernel, a named choice: flash is the best the card has published speeds for
# (FlashAttention-3 on H100, FlashAttention-2 on A100); flash2/flash3 ask for one; flash3 on a
# card without its speeds is refused, naming the tweak that asks the what-if
set(_a train --model llama3-8b --seq 8192 --gbs 128 --tp 2 --pp 1 --cards 64)
wk_cli_test(train_attn_h100 "SP on; bf16; attention flash3 \\(flash: the best the card has\\)"
  ${_a} --cluster h100-roce-24k)
wk_cli_test(train_attn_a100 "SP on; bf16; attention flash2 \\(flash: the best the card has\\)"
  ${_a} --cluster dgx-a100)
wk_cli_test(train_attn_flash2_json "\"attention\": \"flash2\",[^}]*\"attention_chosen\": false"
  ${_a} --cluster h100-roce-24k --attention flash2 --json)
wk_cli_test(train_attn_flash_json "\"attention\": \"flash3\",[^}]*\"attention_chosen\": true"
  ${_a} --cluster h100-roce-24k --json)
wk_cli_fail(train_attn_unknown "^error: unknown --attention 'flash4'.* \\(flash, flash2, flash3 or unfused\\)$"
  ${_a} --cluster h100-roce-24k --attention flash4)
wk_cli_fail(train_flash3_a100 "^error: --attention flash3: A100-SXM-80GB has no published FlashAttention-3 speeds .*use --attention flash2, or give its speeds with --cluster dgx-a100:accelerator.flash3_fwd_tflops=F,accelerator.flash3_bwd_tflops=B$"
  ${_a} --cluster dgx-a100 --attention flash3)
wk_cli_test(train_flash3_whatif "SP on; bf16; attention flash3\n"
  ${_a} --cluster dgx-a100:accelerator.flash3_fwd_tflops=250,accelerator.flash3_bwd_tflops=200 --attention flash3)
wk_cli_test(plan_attn_flash2 "^plan: llama3-8b on 64 cards of h100-roce-24k, seq 8192, global batch 128, attention flash2"
  plan --cluster h100-roce-24k --model llama3-8b --cards 64 --seq 8192 --gbs 128 --top 1 --attention flash2)
wk_cli_fail(plan_attn_unknown "^error: unknown --attention 'flash4'.* \\(flash, flash2, flash3 or unfused\\)$"
  plan --cluster h100-roce-24k --model llama3-8b --cards 64 --attention flash4)
wk_cli_fail(plan_flash3_a100 "^error: --attention flash3: A100-SXM-80GB has no published FlashAttention-3 speeds .*--cluster dgx-a100:nodes=8,accelerator.flash3_fwd_tflops=F,accelerator.flash3_bwd_tflops=B$"
  plan --cluster dgx-a100:nodes=8 --model llama3-8b --cards 64 --attention flash3)
wk_cli_test(cluster_attn_h100 "attention    published TFLOP/s forward / backward: FlashAttention-2 335 / 322, FlashAttention-3 616 / 561"
  cluster show h100-roce-24k)
