#!/bin/sh
# fuzz/run.sh BUILD_DIR SECONDS — runs every fuzz harness in BUILD_DIR for SECONDS each on a
# scratch copy of its committed seed corpus (fuzz/corpus/<name>/). Fails on any crash, leak,
# timeout or out-of-memory; the reproducer is left in fuzz-out/ and its path printed. The
# harnesses' own stdout and stderr (every refused input's error line) are closed: libFuzzer
# and the sanitizers still report through a copy of stderr, into fuzz-out/NAME.log.
set -u
build=$1 secs=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../fuzz-out
mkdir -p "$out"
status=0
for h in "$build"/fuzz_*; do
  [ -x "$h" ] || continue
  name=$(basename "$h" | sed 's/^fuzz_//')
  work=$(mktemp -d)
  [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/"
  echo "fuzz $name: ${secs}s"
  if ! "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=0 -close_fd_mask=3 -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
    echo "fuzz $name FAILED: see $out/$name.log"; tail -30 "$out/$name.log"; status=1
  else
    grep -E "^Done [0-9]+ runs" "$out/$name.log" | sed "s/^/  /"
  fi
  rm -rf "$work"
done
exit $status
