#!/bin/sh
# pgo-train.sh GEN USE: runs the instrumented wanka of build dir GEN on what a replay spends its
# time in (a few days of generated work on the shared fabric, non-blocking and 2:1, topo and
# netaware; a collective, a training step and a plan), and leaves the counts where the release
# build in dir USE reads them (its WK_PGO_DIR, USE/pgo). Does nothing when GEN's wanka is older
# than its last training. GCC names each count file after its object's absolute path, so the
# files are renamed from GEN's objects to USE's.
set -eu
gen=$(cd "$1" && pwd)
mkdir -p "$2"
use=$(cd "$2" && pwd)
w="$gen/wanka"
stamp="$gen/trained"
if [ -f "$stamp" ] && [ "$stamp" -nt "$w" ] && [ -d "$use/pgo" ]; then exit 0; fi
echo "pgo: training the instrumented build (cmake/pgo-train.sh)"
rm -rf "$gen/counts" "$use/pgo" "$stamp"
mkdir -p "$gen/counts" "$use/pgo"
t="$gen/train.swf"
"$w" trace gen --cards 61440 --days 2 --seed 7 --out "$t" >/dev/null
"$w" replay --cluster zhengzhou-60k:oversubscription=2 --trace "$t" --quiet >/dev/null &
a=$!
"$w" replay --cluster zhengzhou-60k --trace "$t" --placement netaware --quiet >/dev/null
"$w" coll allreduce --cluster zhengzhou-60k --cards 61440 --level 1 --sizes 1M:1G --step-factor 32 >/dev/null
"$w" train --cluster zhengzhou-60k --model llama3-405b --cards 16384 --seq 8192 --gbs 2048 --tp 8 --pp 16 \
  --level 1 >/dev/null
"$w" plan --cluster zhengzhou-60k --model llama3-70b --cards 4096 --seq 8192 --gbs 1024 --top 1 >/dev/null
wait $a
from=$(printf '%s/' "$gen" | tr / '#')
to=$(printf '%s/' "$use" | tr / '#')
n=0
for f in "$gen/counts"/*.gcda; do
  [ -f "$f" ] || continue
  b=$(basename "$f")
  case "$b" in "$from"*) cp "$f" "$use/pgo/$to${b#"$from"}"; n=$((n + 1)) ;; esac
done
# none: a compiler other than GCC (CMakeLists.txt instruments with GCC only); built without
[ "$n" -gt 0 ] || echo "pgo: no counts written under $gen/counts: the release build goes without"
touch "$stamp"
