#!/bin/sh
# determinism.sh BUILD_A BUILD_B SHARED — every subcommand, run twice in BUILD_A and once in
# BUILD_B (the sanitizer build), must print byte-identical output for the same inputs and
# seed. Wall-clock fields (wall_s) are the only thing allowed to differ and are masked.
set -u
a=$1 b=$2 shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0 n=0
run() { # name, then the wanka arguments
  name=$1; shift
  "$a/wanka" "$@" > "$tmp/$name.a1" 2>&1
  "$a/wanka" "$@" > "$tmp/$name.a2" 2>&1
  "$b/wanka" "$@" > "$tmp/$name.b" 2>&1
  for f in a1 a2 b; do sed -E 's/("?wall_s"?[:=]? *)[0-9.e+-]+/\1X/g' "$tmp/$name.$f" > "$tmp/$name.$f.m"; done
  n=$((n + 1))
  if ! cmp -s "$tmp/$name.a1.m" "$tmp/$name.a2.m"; then echo "NOT DETERMINISTIC (two runs): $name"; status=1; fi
  if ! cmp -s "$tmp/$name.a1.m" "$tmp/$name.b.m"; then echo "DIFFERS between builds: $name"; diff "$tmp/$name.a1.m" "$tmp/$name.b.m" | head -5; status=1; fi
}
run cluster_show cluster show zhengzhou-60k --json
run cluster_export cluster export h100-roce-24k --slurm-topology
run trace_gen trace gen --cards 61440 --days 2 --seed 7
run trace_info trace info "$shared/data/traces/theta_2022.swf" --json
run coll_l1 coll allreduce --cluster dgx-a100 --cards 256 --level 1 --sizes 1M:64M --step-factor 8 --json
run coll_l2 coll allreduce --cluster dgx-a100 --cards 128 --level 2 --sizes 1M:64M --step-factor 8 --placement random --seed 2 --json
run coll_nvls_concurrent coll allreduce --cluster h100-roce-24k:nodes=8 --cards 8 --concurrent 4 --level 2 --sizes 1M:1G --step-factor 32 --json
run train train --cluster dgx-a100 --model llama3-8b --seq 4096 --gbs 128 --tp 2 --pp 2 --cards 64 --level 1 --json
run plan plan --cluster dgx-a100 --model llama3-8b --cards 64 --gbs 256 --seq 4096 --top 2 --json
run sim_stencil sim stencil --cluster zhengzhou-60k --cards 64 --grid 1024 --json
run sim_fft sim fft --cluster dgx-a100 --cards 256 --n 2048 --pencil --json
run replay_failures replay --cluster zhengzhou-60k --trace "$shared/data/traces/mira_2018_wk2.cobalt.log" --failures 1e-3 --seed 3 --json
"$a/wanka" trace gen --cards 61440 --days 0.5 --seed 5 --out "$tmp/half.swf" > /dev/null
run replay_fabric replay --cluster zhengzhou-60k:oversubscription=2 --trace "$tmp/half.swf" --placement netaware --fail spine:3@2h+6h,pod:1@4h+1h --failures 1e-3 --json
for f in "$(dirname "$0")"/determinism_*.sh; do [ -f "$f" ] && . "$f"; done
echo "determinism: $n commands, $([ $status = 0 ] && echo all identical || echo FAILED)"
exit $status
