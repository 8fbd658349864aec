#!/bin/sh
# expect_exit.sh CODE REGEX CMD ARGS... — passes when CMD exits CODE and its stderr's first
# line matches REGEX (an extended regex), and nothing is printed on stdout.
code=$1 regex=$2
shift 2
out=$("$@" 2>/tmp/wk_expect_$$.err)
rc=$?
first=$(head -n 1 /tmp/wk_expect_$$.err)
rm -f /tmp/wk_expect_$$.err
if [ "$rc" != "$code" ]; then echo "exit $rc, expected $code; stderr: $first"; exit 1; fi
if ! printf '%s\n' "$first" | grep -Eq -- "$regex"; then
  echo "stderr first line: $first"; echo "expected match: $regex"; exit 1
fi
if [ -n "$out" ]; then echo "unexpected stdout: $out"; exit 1; fi
exit 0
