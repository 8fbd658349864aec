# Sourced by determinism.sh: reports, the page and its data, must be the same bytes in two runs
# and in both builds (no dates, no random ids); compare's JSON too (wall_s masked).
run_report() { # name, then the wanka arguments (the report's path is added)
  name=$1; shift
  "$a/wanka" "$@" --report "$tmp/$name.a1.html" > /dev/null 2>&1
  "$a/wanka" "$@" --report "$tmp/$name.a2.html" > /dev/null 2>&1
  "$b/wanka" "$@" --report "$tmp/$name.b.html" > /dev/null 2>&1
  n=$((n + 1))
  for ext in html data.json; do
    if ! cmp -s "$tmp/$name.a1.$ext" "$tmp/$name.a2.$ext"; then
      echo "NOT DETERMINISTIC (two runs): $name report ($ext)"; status=1
    fi
    if ! cmp -s "$tmp/$name.a1.$ext" "$tmp/$name.b.$ext"; then
      echo "DIFFERS between builds: $name report ($ext)"; status=1
    fi
  done
}
run_report report_replay replay --cluster zhengzhou-60k --trace "$shared/data/traces/mira_2018_wk2.cobalt.log" --failures 1e-3 --seed 3
run_report report_train train --cluster dgx-a100 --model llama3-8b --seq 4096 --gbs 128 --tp 2 --pp 2 --cards 64 --level 1
run_report report_plan plan --cluster dgx-a100 --model llama3-8b --cards 64 --gbs 256 --seq 4096 --top 2
run_report report_coll coll allreduce --cluster dgx-a100 --cards 256 --level 1 --sizes 1M:64M --step-factor 8
run_report report_compare compare --cluster scalex-10k --cluster scalex-10k:supernodes=8 --profile ai4s --days 0.5 --seed 4
run compare_json compare --cluster scalex-10k --cluster scalex-10k:supernodes=8 --profile ai4s --days 0.5 --seed 4 --json
