#!/bin/sh
# docs_check.sh WANKA SOURCE_DIR SHARED_DIR — tests tests/docs.sh itself on small documents:
# examples that reproduce pass (numbers within the tolerance, "..." lines, lines skipped in
# between, a vary line, a skip marker), and a stale count, a number beyond the tolerance, a
# changed word, a wrong exit code and a missing line each fail, naming the line shown.
set -u
w=$1 src=$2 shared=$3
docs=$src/tests/docs.sh
d=$(mktemp -d "${TMPDIR:-/tmp}/wk_docs_check.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT INT TERM HUP
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# passes NAME: the document on stdin reproduces
passes() {
  cat >"$d/$1.md"
  if ! "$docs" "$w" "$src" "$shared" "$d/$1.md" >"$d/$1.log" 2>&1; then
    fail "$1 should reproduce:"; sed 's/^/    /' "$d/$1.log"
  fi
}
# differs NAME REGEX: the document on stdin fails, and the report matches REGEX
differs() {
  cat >"$d/$1.md"
  if "$docs" "$w" "$src" "$shared" "$d/$1.md" >"$d/$1.log" 2>&1; then
    fail "$1 should differ:"; sed 's/^/    /' "$d/$1.log"
  elif ! grep -Eq -- "$2" "$d/$1.log"; then
    fail "$1: report does not match '$2':"; sed 's/^/    /' "$d/$1.log"
  fi
}

passes good <<'MD'
Some text.

    $ wanka cluster show dgx-a100
    cluster      dgx-a100 — Selene-like DGX A100 SuperPOD (560 nodes, 4,480 A100-80GB, HDR fat-tree)
    cards   4,480
    switches     664 (tier 1: 224, ...
    HBM          385 TB total, 9.14 PB/s aggregate bandwidth
    domains      node 8 cards, supernode 8 cards, leaf 160 cards, pod 320 cards

```
$ wanka cluster show nope.yaml
nope.yaml: error: cannot open cluster file (not a preset name either; 'wanka cluster list' shows the presets)
```
MD
differs stale_count 'shown: +cards +4481' <<'MD'
    $ wanka cluster show dgx-a100
    cards        4481
MD
differs beyond_tolerance 'shown: +HBM +385 TB total, 9.5 PB/s' <<'MD'
    $ wanka cluster show dgx-a100
    HBM          385 TB total, 9.5 PB/s aggregate bandwidth
MD
differs changed_word 'printed: cluster +dgx-a100 — Selene-like' <<'MD'
    $ wanka cluster show dgx-a100
    cluster      dgx-a100 — Selene-alike DGX A100 SuperPOD (560 nodes, 4,480 A100-80GB, HDR fat-tree)
MD
differs out_of_order 'shown: +cards +4480' <<'MD'
    $ wanka cluster show dgx-a100
    nodes        560 (8 cards each)
    cards        4480
MD
differs wrong_exit 'exit 2' <<'MD'
    $ wanka cluster show nope.yaml
MD
passes markers <<'MD'
<!-- docs-test: skip: this one is known stale -->

    $ wanka cluster show dgx-a100
    cards        1

<!-- docs-test: vary: peak -->
    $ wanka cluster show dgx-a100
    peak         9.9 EFLOP/s BF16, 9.9 EFLOP/s FP8
MD
grep -q "^skip .*markers.md:3: this one is known stale" "$d/markers.log" || fail "skip not reported"
echo "docs checker: $failures failures"
[ $failures -eq 0 ]
