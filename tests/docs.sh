#!/bin/sh
# docs.sh WANKA SOURCE_DIR SHARED_DIR [FILE.md ...] — runs every command shown after "$ " in
# README.md and docs/*.md (or the files given) and compares what it prints (stdout and stderr)
# with the lines the docs show below it, so a stale example fails `make test`.
#
# The rules, for whoever writes docs:
#  - an example is a code line (a 4-space indented block or a ``` fence) that starts with "$ ";
#    the code lines after it, up to a blank line, the next "$ " or the block's end, are what it
#    prints. They must appear in the output in that order; other output lines may come between
#    (so an example may show only the lines it talks about). A shown line ending in "..." need
#    only begin the printed line.
#  - text must match exactly, runs of blanks aside (columns realign when numbers change width);
#    whole numbers must be equal (61,440 = 61440); numbers with a fraction or an exponent may
#    differ by 1 % or one unit of their last digit, whichever is larger.
#  - the command must exit 0, unless the output shown contains "error:".
#  - <!-- docs-test: skip: REASON --> before a block leaves its commands out (say why: minutes
#    of fabric replay, a file made by an earlier step); <!-- docs-test: vary: PREFIX --> lets
#    the numbers of the block's lines that start with PREFIX differ (wall-clock times).
# Commands run from a scratch copy of the source tree (links to its files: tests/data/...
# resolve, outputs land in the scratch folder), with ../shared beside it and `wanka` on PATH.
set -u
w=$1 src=$2 shared=$3
shift 3
case $w in /*) ;; *) w=$PWD/$w ;; esac
case $src in /*) ;; *) src=$PWD/$src ;; esac
case $shared in /*) ;; *) shared=$PWD/$shared ;; esac
[ $# -gt 0 ] || set -- "$src/README.md" "$src"/docs/*.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wk_docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
mkdir -p "$tmp/bin" "$tmp/repo" "$tmp/ex"
ln -s "$w" "$tmp/bin/wanka"
for e in "$src"/* "$src"/.[!.]*; do [ -e "$e" ] && ln -s "$e" "$tmp/repo/$(basename "$e")"; done
[ -d "$shared" ] && ln -s "$(cd "$shared" && pwd)" "$tmp/shared"

# ---- the examples: ex/N.cmd, N.want, N.where, N.skip, N.vary -----------------------------
for md in "$@"; do
  awk -v out="$tmp/ex" -v name="${md#"$src"/}" -v start="$(ls "$tmp/ex" | grep -c '\.cmd$')" '
    function flush_block() { skip = ""; nvary = 0 }
    function begin_ex(cmd) {
      n++; id = out "/" (start + n)
      printf "%s\n", cmd > (id ".cmd"); close(id ".cmd")
      printf "%s:%d\n", name, NR > (id ".where"); close(id ".where")
      printf "" > (id ".want"); close(id ".want")
      if (skip != "") { printf "%s\n", skip > (id ".skip"); close(id ".skip") }
      for (v = 1; v <= nvary; v++) printf "%s\n", vary[v] >> (id ".vary")
      close(id ".vary")
      inex = 1
    }
    /<!-- docs-test: (skip|vary):/ { if (seen) flush_block(); seen = 0 } # a marker begins the next block
    /<!-- docs-test: skip:/ { s = $0; sub(/.*docs-test: skip: */, "", s); sub(/ *-->.*/, "", s); skip = s; next }
    /<!-- docs-test: vary:/ { s = $0; sub(/.*docs-test: vary: */, "", s); sub(/ *-->.*/, "", s); vary[++nvary] = s; next }
    {
      line = $0; code = 0
      if (fence != "") {
        if (line ~ /^ *```/) { fence = ""; inex = 0; flush_block(); next }
        code = 1; sub("^" fence, "", line)
      } else if (line ~ /^ *```/) {
        fence = line; sub(/```.*/, "", fence); inex = 0; next
      } else if (line ~ /^    /) {
        code = 1; line = substr(line, 5)
      }
      if (!code) { inex = 0; if (line !~ /^ *$/) { if (seen) flush_block(); seen = 0 } ; next }
      seen = 1
      if (line ~ /^\$ /) { begin_ex(substr(line, 3)); next }
      if (line ~ /^ *$/) { inex = 0; next }
      if (inex) { printf "%s\n", line >> (id ".want"); close(id ".want") }
    }' "$md"
done

# ---- comparing: the shown lines, in order, against the printed ones ------------------------
cmp_awk='
  # Splits s into tokens T[1..n]: runs of non-digits (blanks collapsed) and numbers (commas
  # between digit groups dropped); K[i] = "n" for a number, "t" for text. Returns n.
  function tokens(s, T, K,    n, i, c, j, t, num) {
    gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
    n = 0; i = 1
    while (i <= length(s)) {
      c = substr(s, i, 1)
      if (c ~ /[0-9]/) {
        j = i; num = ""
        while (j <= length(s)) {
          c = substr(s, j, 1)
          if (c ~ /[0-9]/) { num = num c; j++; continue }
          if (c == "," && substr(s, j + 1, 3) ~ /^[0-9][0-9][0-9]$/ && substr(s, j + 4, 1) !~ /[0-9]/ && num !~ /[.eE]/) { j++; continue }
          if (c == "." && substr(s, j + 1, 1) ~ /[0-9]/ && num !~ /[.eE]/) { num = num c; j++; continue }
          if ((c == "e" || c == "E") && substr(s, j + 1) ~ /^[+-]?[0-9]/ && num !~ /[eE]/) {
            num = num c; j++; c = substr(s, j, 1)
            if (c == "+" || c == "-") { num = num c; j++ }
            continue
          }
          break
        }
        T[++n] = num; K[n] = "n"; i = j
      } else {
        t = ""
        while (i <= length(s) && substr(s, i, 1) !~ /[0-9]/) { t = t substr(s, i, 1); i++ }
        T[++n] = t; K[n] = "t"
      }
    }
    return n
  }
  function near(w, g,    d, unit, dec) {
    if (w !~ /[.eE]/) return w + 0 == g + 0
    d = w; sub(/[eE].*/, "", d)
    dec = index(d, ".") ? length(d) - index(d, ".") : 0
    unit = 10 ^ -dec
    if (w ~ /[eE]/) { unit = unit * 10 ^ (substr(w, index(tolower(w), "e") + 1) + 0) }
    d = w - g; if (d < 0) d = -d
    return d <= (0.01 * (w < 0 ? -w : w) > unit ? 0.01 * (w < 0 ? -w : w) : unit) + 1e-12
  }
  # 1 when printed line g shows wanted line w (prefix: w ended in "...").
  function shows(w, g, loose,    prefix, nw, ng, i, WT, WK, GT, GK) {
    prefix = w ~ /\.\.\.[ \t]*$/
    if (prefix) sub(/\.\.\.[ \t]*$/, "", w)
    nw = tokens(w, WT, WK); ng = tokens(g, GT, GK)
    if (!prefix && nw != ng) return 0
    if (nw > ng) return 0
    for (i = 1; i <= nw; i++) {
      if (WK[i] != GK[i]) return 0
      if (WK[i] == "t") {
        if (prefix && i == nw) { if (index(GT[i], WT[i]) != 1) return 0 }
        else if (WT[i] != GT[i]) return 0
      } else if (!loose && !near(WT[i], GT[i])) return 0
    }
    return 1
  }
  BEGIN {
    while ((getline l < varyf) > 0) vary[++nv] = l
    while ((getline l < wantf) > 0) want[++nw] = l
  }
  { got[++ng] = $0 }
  END {
    at = 1
    for (k = 1; k <= nw; k++) {
      loose = 0
      for (v = 1; v <= nv; v++) if (vary[v] != "" && index(want[k], vary[v]) == 1) loose = 1
      found = 0
      for (i = at; i <= ng; i++) if (shows(want[k], got[i], loose)) { found = i; break }
      if (!found) {
        print "  shown:   " want[k]
        # the printed line most like it: the first with the same leading text
        split(want[k], f, " ")
        for (i = at; i <= ng; i++) if (index(got[i], f[1]) == 1) { print "  printed: " got[i]; break }
        if (i > ng) print "  printed: (no line like it; " ng " lines in all)"
        exit 1
      }
      at = found + 1
    }
  }'

pass=0 fail=0 skipped=0
total=$(ls "$tmp/ex" | grep -c '\.cmd$')
i=0
while [ $i -lt "$total" ]; do
  i=$((i + 1))
  id=$tmp/ex/$i
  cmdf=$id.cmd
  where=$(cat "$id.where")
  cmd=$(cat "$cmdf")
  if [ ! -d "$shared" ] && [ "${cmd#*../shared}" != "$cmd" ]; then
    echo "skip $where: it reads ../shared, which is not there ($shared)"
    skipped=$((skipped + 1))
    continue
  fi
  if [ -f "$id.skip" ]; then
    echo "skip $where: $(cat "$id.skip")"
    skipped=$((skipped + 1))
    continue
  fi
  t0=$(date +%s.%N)
  (cd "$tmp/repo" && PATH="$tmp/bin:$PATH" timeout 120 sh -c "$cmd") >"$id.out" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  [ -f "$id.vary" ] || : >"$id.vary"
  bad=""
  if [ $rc -ne 0 ] && ! grep -q "error:" "$id.want"; then
    bad="exit $rc"
  fi
  why=$(awk -v varyf="$id.vary" -v wantf="$id.want" "$cmp_awk" "$id.out") ||
    bad="${bad:+$bad; }output differs"
  if [ -n "$bad" ]; then
    echo "FAIL $where ($secs s): $bad"
    echo "  \$ $cmd"
    [ -n "$why" ] && echo "$why"
    [ "$bad" = "exit $rc" ] && sed -n '1,5s/^/  | /p' "$id.out"
    fail=$((fail + 1))
  else
    echo "ok   $where ($secs s)"
    pass=$((pass + 1))
  fi
done
echo "docs: $pass examples reproduce, $fail differ, $skipped skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
