#!/bin/sh
# test.sh - builds everything and runs the whole test suite: once plain, once under
# AddressSanitizer + UndefinedBehaviorSanitizer, then `make distcheck`. Ends with one line
# "N passed, N failed[, N skipped]" summed from automake's test-suite.log files.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/deps.sh" --tests
cd "$top"
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
jobs=$(nproc)
status=0
logs=""

run_suite() { # name, configure args...
    name=$1
    shift
    dir="$top/_build$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "== build$name: configure $*"
    (cd "$dir" && ../configure -q "$@" && make -j"$jobs" -s) || { status=1; return; }
    echo "== build$name: make check"
    (cd "$dir" && make -j"$jobs" check) || status=1
    logs="$logs $dir/test-suite.log"
}

run_suite ""
run_suite "-san" --enable-sanitizers
if [ "${DTB_SKIP_DISTCHECK:-0}" != 1 ]; then
    echo "== distcheck"
    (cd "$top/_build" && make -s distcheck >"$top/_build/distcheck.log" 2>&1) || {
        tail -40 "$top/_build/distcheck.log"
        status=1
    }
    [ $status -eq 0 ] && echo "distcheck: ok"
fi

# Every server a test started must have been stopped by its PID.
left=$(ps -eo stat=,args= | awk -v top="$top" '$1 !~ /^Z/ && index($0, top "/_build") && /petshop|minimal|test_|redis-server|postgres/' || true)
if [ -n "$left" ]; then
    echo "== processes left running by the tests:"
    echo "$left"
    status=1
fi

pass=0 fail=0 skip=0
for l in $logs; do
    [ -f "$l" ] || { fail=$((fail + 1)); continue; }
    p=$(sed -n 's/^# PASS: *//p' "$l"); f=$(sed -n 's/^# FAIL: *//p' "$l")
    e=$(sed -n 's/^# ERROR: *//p' "$l"); x=$(sed -n 's/^# XPASS: *//p' "$l")
    s=$(sed -n 's/^# SKIP: *//p' "$l")
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0} + ${x:-0})); skip=$((skip + ${s:-0}))
done
[ $fail -eq 0 ] || status=1
[ $pass -gt 0 ] || status=1
if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
exit $status
