#!/bin/sh
# outputs.sh WANKA TESTS_DIR — the one rule every file wanka writes follows (src/cli/out.c),
# on each kind of path: a new name and a regular file are replaced atomically (mode kept); a
# symlink, even a dangling one, has its target replaced and stays a link; a FIFO and a device
# are written in place and stay what they were; "-" is stdout. A write error anywhere, stdout
# included, exits 2 with one line naming the path; a closed pipe ends wanka quietly by SIGPIPE
# (status 141); SIGINT, SIGTERM and SIGHUP leave no temp file; output paths are checked before
# any work. The unwritable-folder checks run as a non-root user (setpriv to nobody when run as
# root), or are skipped with a note.
set -u
w=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") tests=$(cd "$2" && pwd)
d=$(mktemp -d)
chmod 755 "$d" # the non-root part reaches into it
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; chmod -R u+w "$d" 2>/dev/null; rm -rf "$d"' EXIT
status=0 n=0
fail() { echo "FAIL: $*"; status=1; }
ok() { n=$((n + 1)); }
check() { # WHAT CONDITION...: CONDITION (a test(1) expression or command) must hold
  what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}
# run CMD...: runs CMD with stdout in $d/out, stderr in $d/err, exit code in $rc
run() { "$@" >"$d/out" 2>"$d/err"; rc=$?; }
# err_is WHAT CODE REGEX: the last run exited CODE with exactly one stderr line matching REGEX
err_is() {
  lines=$(wc -l <"$d/err")
  if [ "$rc" = "$2" ] && [ "$lines" = 1 ] && grep -Eq -- "$3" "$d/err"; then ok
  else fail "$1: exit $rc (expected $2), stderr ($lines lines): $(head -2 "$d/err")"; fi
}
gen() { "$w" trace gen --cards 64 --days 1 --seed 2 "$@"; }
gen >"$d/ref" || fail "trace gen to stdout"
mkdir "$d/k"
cd "$d/k" || exit 1

# ---- each kind of path -----------------------------------------------------------------
run gen --out new.swf
check "new path: written" cmp -s new.swf "$d/ref"

echo old >reg.swf && chmod 640 reg.swf
ino=$(stat -c %i reg.swf)
run gen --out reg.swf
check "regular file: replaced" cmp -s reg.swf "$d/ref"
check "regular file: mode kept" [ "$(stat -c %a reg.swf)" = 640 ]
check "regular file: replaced by rename (new inode)" [ "$(stat -c %i reg.swf)" != "$ino" ]

echo old >target.swf && ln -s target.swf link.swf
run gen --out link.swf
check "symlink: still a link" [ -L link.swf ]
check "symlink: link unchanged" [ "$(readlink link.swf)" = target.swf ]
check "symlink: target replaced" cmp -s target.swf "$d/ref"

mkdir -p a b && echo old >b/t.swf && ln -s ../b/t.swf a/rel.swf
run gen --out a/rel.swf
check "relative link in another folder: target replaced" cmp -s b/t.swf "$d/ref"
check "relative link in another folder: still a link" [ -L a/rel.swf ]
check "relative link: no file beside the link" [ ! -e a/t.swf ]

ln -s made.swf dangling.swf
run gen --out dangling.swf
check "dangling link: target created" cmp -s made.swf "$d/ref"
check "dangling link: still a link" [ -L dangling.swf ]

ln -s nodir/x.swf dangling2.swf
run gen --out dangling2.swf
err_is "dangling link into a missing folder" 2 "^error: cannot write 'dangling2.swf' \(a link to 'nodir/x.swf'\): folder 'nodir' does not exist$"
check "dangling link into a missing folder: link kept" [ -L dangling2.swf ]

mkfifo fifo
timeout 20 cat fifo >from_fifo &
reader=$!
run gen --out fifo
[ $rc = 0 ] || kill $reader 2>/dev/null # wanka never opened it: the reader would wait forever
wait $reader
check "FIFO: exit 0" [ $rc = 0 ]
check "FIFO: the reader got the bytes" cmp -s from_fifo "$d/ref"
check "FIFO: still a FIFO" [ -p fifo ]

# Devices given as --out: as root, private nodes of /dev/null and /dev/full, so that a
# regression (which would rename a file over the device) cannot replace the machine's own.
null= full=
if [ "$(id -u)" != 0 ]; then
  null=/dev/null full=/dev/full
elif mknod "$d/null" c 1 3 2>/dev/null && mknod "$d/full" c 1 7 2>/dev/null; then
  null=$d/null full=$d/full
else
  echo "note: root without mknod: the --out DEVICE checks are skipped"
fi
if [ -n "$null" ] && [ -c "$null" ]; then
  run gen --out "$null"
  check "null device: exit 0" [ $rc = 0 ]
  check "null device: still a device" [ -c "$null" ]
fi
if [ -n "$full" ] && [ -c "$full" ]; then
  run gen --out "$full"
  err_is "full device" 2 "^error: cannot write '$full': No space left on device$"
  check "full device: still a device" [ -c "$full" ]
  check "full device: nothing on stdout" [ ! -s "$d/out" ]
  run "$w" train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8 \
    --timeline "$full"
  err_is "train --timeline on the full device" 2 "^error: cannot write '$full': No space left on device$"
  check "train --timeline on the full device: still a device" [ -c "$full" ]
fi

run gen --out -
check "- is stdout" cmp -s "$d/out" "$d/ref"
check "- makes no file named -" [ ! -e ./- ]
# a link to our own stdout (as /dev/stdout is): written as stdout, the link not replaced
ln -s /proc/self/fd/1 so
gen --out so >via_so 2>"$d/err"
check "link to stdout: bytes on stdout" cmp -s via_so "$d/ref"
check "link to stdout: still a link" [ -L so ]
echo first >appended
gen --out so >>appended 2>"$d/err"
check "link to stdout, >>: appended" [ "$(head -1 appended)" = first ] && [ "$(wc -l <appended)" -gt 10 ]

# the other writers: cluster export, train --timeline, replay --out DIR (files as links)
"$w" cluster export dgx-a100 --slurm-topology >"$d/topo_ref"
ln -s topo.conf topo_link
run "$w" cluster export dgx-a100 --slurm-topology --out topo_link
check "export through a link: target written, link kept" cmp -s topo.conf "$d/topo_ref"
check "export through a link: still a link" [ -L topo_link ]
run "$w" train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8 \
  --timeline tl_link --json
check "train --timeline new: exit 0" [ $rc = 0 ]
mv tl_link tl.json && ln -s tl.json tl_link && echo old >tl.json
run "$w" train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8 \
  --timeline tl_link --json
check "train --timeline through a link: target written" grep -q traceEvents tl.json
check "train --timeline through a link: still a link" [ -L tl_link ]
mkdir rep && echo old >rep_jobs.csv && ln -s ../rep_jobs.csv rep/jobs.csv
run "$w" replay --cluster dgx-a100 --trace "$tests/data/tiny.swf" --out rep
check "replay --out: jobs.csv through a link" grep -q '^id,tenant' rep_jobs.csv
check "replay --out: jobs.csv still a link" [ -L rep/jobs.csv ]
check "replay --out: timeseries.csv" grep -q '^time_s' rep/timeseries.csv

# ---- write errors on stdout, for every command that prints -------------------------------
if [ -e /dev/full ]; then
  tiny=$tests/data/tiny.swf
  for cmd in "cluster show dgx-a100" "cluster show dgx-a100 --json" "cluster list" \
    "cluster export dgx-a100 --slurm-topology" "trace info $tiny" "trace info $tiny --json" \
    "trace gen --cards 64 --days 1" "replay --cluster dgx-a100 --trace $tiny" \
    "replay --cluster dgx-a100 --trace $tiny --json" \
    "coll allreduce --cluster dgx-a100 --cards 8 --sizes 1M" \
    "coll allreduce --cluster dgx-a100 --cards 8 --sizes 1M --json" \
    "plan --cluster dgx-a100 --model gpt3-175b --cards 1024" \
    "train --cluster dgx-a100 --model gpt3-175b --cards 1024 --seq 2048 --gbs 1536 --tp 8 --pp 8" \
    "sim fft --cluster dgx-a100 --cards 64 --n 1024" "--help" "--version" "coll --help" \
    "model list" "model show llama3-8b --json"; do
    # shellcheck disable=SC2086 # the words of cmd are meant to split
    "$w" $cmd >/dev/full 2>"$d/err"; rc=$?
    err_is "stdout on /dev/full: wanka $cmd" 2 "^error: cannot write <stdout>: No space left on device$"
  done
fi

# ---- a closed pipe: quiet, by SIGPIPE (141), no temp file ---------------------------------
{ "$w" trace gen --cards 61440 --days 30 --seed 5 2>"$d/err"; echo $? >"$d/rc"; } | head -1 >/dev/null
check "closed pipe: status 141 (SIGPIPE), got $(cat "$d/rc")" [ "$(cat "$d/rc")" = 141 ]
check "closed pipe: nothing on stderr" [ ! -s "$d/err" ]
mkfifo fifo2
timeout 20 head -c 100 fifo2 >/dev/null &
reader=$!
"$w" trace gen --cards 61440 --days 30 --seed 5 --out fifo2 2>"$d/err"; rc=$?
[ $rc = 141 ] || kill $reader 2>/dev/null
wait $reader
check "FIFO whose reader left: status 141, got $rc" [ $rc = 141 ]
check "FIFO whose reader left: nothing on stderr" [ ! -s "$d/err" ]
check "FIFO whose reader left: still a FIFO" [ -p fifo2 ]

# ---- SIGINT, SIGTERM, SIGHUP while the temp file is being written ---------------------------
# A shell starts background jobs with SIGINT ignored, and wanka keeps an ignored signal ignored
# (as nohup expects), so the run gets the default dispositions back through env(1).
# long_gen ENV_OPTION: a long `trace gen --out big.swf` in the background ($pid), returning once
# its temp file exists (or it ended, or a minute passed)
long_gen() {
  env "$1" "$w" trace gen --cards 61440 --days 365 --seed 9 --out big.swf >/dev/null 2>&1 &
  pid=$!
  i=0
  while [ ! -e "big.swf.tmp.$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 1200 ]; do
    sleep 0.05; i=$((i + 1))
  done
}
if env --default-signal=INT true 2>/dev/null; then
  echo old >big.swf
  for sig in INT:2 TERM:15 HUP:1; do
    num=${sig#*:} sig=${sig%:*}
    long_gen --default-signal=INT,TERM,HUP
    sleep 0.2
    if kill -s "$sig" "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null; rc=$?
      check "SIG$sig: died of it (status $rc)" [ $rc = $((128 + num)) ]
      left=$(find . -name '*.tmp*')
      check "SIG$sig: no temp file left ($left)" [ -z "$left" ]
      check "SIG$sig: previous output kept" [ "$(cat big.swf)" = old ]
    else
      wait "$pid"; echo "note: the run ended before SIG$sig; not checked"
    fi
    pid=
  done
  # an ignored SIGHUP (nohup) stays ignored: the run completes
  long_gen --ignore-signal=HUP
  kill -s HUP "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  pid=
  check "ignored SIGHUP: run completed (exit $rc)" [ $rc = 0 ] && [ "$(head -c 11 big.swf)" = "; Version: " ]
  rm -f big.swf
else
  echo "note: env --default-signal is missing (coreutils < 8.31): signal checks skipped"
fi

# ---- output paths are checked before any work -------------------------------------------
# Each run below would fail later for another reason (or take long): the output's error must
# come first, at once.
run timeout 10 "$w" trace gen --cards 61440 --days 3000 --out nodir/big.swf
err_is "trace gen --out nodir/...: refused at once" 2 "^error: cannot write 'nodir/big.swf': folder 'nodir' does not exist$"
run "$w" replay --cluster dgx-a100 --trace "$tests/bad/trace_swf_neg.swf" --out nodir/sub
err_is "replay --out nodir/sub: before the trace is read" 2 "^error: cannot create folder 'nodir/sub': folder 'nodir' does not exist$"
run "$w" replay --cluster dgx-a100 --trace "$tests/bad/trace_swf_neg.swf" --out new.swf
err_is "replay --out FILE: not a folder" 2 "^error: cannot write to 'new.swf': it is not a folder$"
mkdir -p rep2/jobs.csv
run "$w" replay --cluster dgx-a100 --trace "$tests/bad/trace_swf_neg.swf" --out rep2
err_is "replay --out DIR with DIR/jobs.csv a folder" 2 "^error: cannot write 'rep2/jobs.csv': it is a folder"
run "$w" train --cluster dgx-a100 --model gpt3-175b --cards 8 --seq 2048 --gbs 1536 --tp 8 --pp 1 \
  --timeline nodir/t.json
err_is "train --timeline nodir/...: before the step (which would not fit)" 2 "^error: cannot write 'nodir/t.json': folder 'nodir' does not exist$"
run "$w" cluster export dgx-a100:colour=blue --slurm-topology --out nodir/topo.conf
err_is "cluster export --out nodir/...: before the cluster is read" 2 "^error: cannot write 'nodir/topo.conf': folder 'nodir' does not exist$"
run "$w" trace gen --cards 64 --days 1 --out "$d/k"
err_is "--out a folder" 2 "it is a folder; give a file name$"

# ---- unwritable folders and files, as a user who is not root -------------------------------
mkdir ro && chmod 555 ro
echo keep >ro_file.swf && chmod 444 ro_file.swf
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
    as_user() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    chown nobody ro_file.swf . 2>/dev/null
  else
    as_user=
  fi
else
  as_user() { "$@"; }
fi
if command -v as_user >/dev/null 2>&1; then
  run as_user "$w" trace gen --cards 64 --days 1 --out ro/x.swf
  err_is "non-root, read-only folder" 2 "^error: cannot write 'ro/x.swf': cannot create files in folder 'ro' \(Permission denied\)$"
  run as_user "$w" trace gen --cards 64 --days 1 --out ro_file.swf
  err_is "non-root, read-only file" 2 "^error: cannot write 'ro_file.swf': Permission denied$"
  check "non-root, read-only file: kept" [ "$(cat ro_file.swf)" = keep ]
  run as_user "$w" replay --cluster dgx-a100 --trace "$tests/data/tiny.swf" --out ro/sub
  err_is "non-root, replay --out in a read-only folder" 2 "^error: cannot create folder 'ro/sub': Permission denied$"
  run as_user "$w" trace gen --cards 64 --days 1 --seed 2 --out ok.swf
  check "non-root, writable folder: written ($(head -1 "$d/err"))" cmp -s ok.swf "$d/ref"
else
  echo "note: root without setpriv: the non-root checks are skipped"
fi
if [ "$(id -u)" = 0 ]; then # root may replace a read-only file (as cp does); its mode is kept
  run gen --out ro_file.swf
  check "root, read-only file: replaced" cmp -s ro_file.swf "$d/ref"
  check "root, read-only file: mode kept" [ "$(stat -c %a ro_file.swf)" = 444 ]
fi

left=$(find "$d" -name '*.tmp*')
check "no temp file anywhere ($left)" [ -z "$left" ]
echo "outputs: $n checks, $([ $status = 0 ] && echo all passed || echo FAILED)"
exit $status
