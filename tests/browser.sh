#!/bin/sh
# browser.sh WANKA NPM_DIR OUT_DIR — writes one report of each kind (replay, train, plan, coll,
# compare) into OUT_DIR and opens each in headless Chromium (tests/browser.cjs): any console
# error, request leaving the file or chart that did not draw fails; a PNG of each is left in
# OUT_DIR. Exit 77 (CTest's skip) with one line saying why when Chromium is not installed.
set -eu
wanka=$1 npm=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: Chromium is not installed, so the reports were not opened in a browser ('make deps' as root installs Debian's chromium)"
  exit 77
fi
if [ ! -d "$npm/node_modules/puppeteer-core" ]; then
  echo "SKIP: puppeteer-core is not in $npm (a sanitizer or fuzz build installs the report's packages without it)"
  exit 77
fi
mkdir -p "$out"
rm -f "$out"/*.html "$out"/*.png "$out"/*.data.json
"$wanka" trace gen --cards 10240 --days 2 --seed 2 --out "$out/two-days.swf"
"$wanka" replay --cluster scalex-10k --trace "$out/two-days.swf" --report "$out/replay.html" >/dev/null
"$wanka" train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8 \
  --report "$out/train.html" >/dev/null
"$wanka" plan --cluster zhengzhou-60k --model llama3-70b --cards 2048 --seq 8192 --gbs 1024 --top 5 \
  --report "$out/plan.html" >/dev/null
"$wanka" coll allreduce --cluster dgx-a100 --cards 64 --sizes 64K:4G --step-factor 4 --level 1 \
  --report "$out/coll.html" >/dev/null
if "$wanka" compare --help >/dev/null 2>&1; then
  "$wanka" compare --cluster scalex-10k --cluster scalex-10k:supernodes=8 --trace "$out/two-days.swf" \
    --policy backfill --policy fifo --report "$out/compare.html" >/dev/null
fi
cd "$out"
exec node "$here/browser.cjs" "$npm" "$chromium" "$out" *.html
