#!/bin/bash
# fuzz/run.sh BUILD_DIR SECONDS — runs every fuzz harness in BUILD_DIR for SECONDS each on a
# scratch copy of its committed seed corpus (fuzz/corpus/<name>/), as many at once as there are
# cores (each harness is one process on one core). Fails on any crash, leak, timeout or
# out-of-memory; the reproducer is left in fuzz-out/ and its path printed. The harnesses' own
# stdout and stderr (every refused input's error line) are closed: libFuzzer and the sanitizers
# still report through a copy of stderr, into fuzz-out/NAME.log. Results are printed in the
# harnesses' order once all have run.
set -u
build=$1 secs=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../fuzz-out
mkdir -p "$out"
cores=$(nproc 2>/dev/null || echo 1)
names=()
for h in "$build"/fuzz_*; do
  [ -x "$h" ] && names+=("$(basename "$h" | sed 's/^fuzz_//')")
done
echo "fuzz ${names[*]}: ${secs}s each, $cores at once"

one() { # one harness; its exit status in $out/NAME.rc
  local name=$1 work
  work=$(mktemp -d)
  [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/"
  "$build/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=0 -close_fd_mask=3 -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1
  echo $? >"$out/$name.rc"
  rm -rf "$work"
}

running=0
for name in "${names[@]}"; do
  rm -f "$out/$name.rc"
  one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$cores" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
for name in "${names[@]}"; do
  if [ "$(cat "$out/$name.rc" 2>/dev/null)" != 0 ]; then
    echo "fuzz $name FAILED: see $out/$name.log"; tail -30 "$out/$name.log"; status=1
  else
    echo "fuzz $name:"; grep -E "^Done [0-9]+ runs" "$out/$name.log" | sed "s/^/  /"
  fi
done
exit $status
