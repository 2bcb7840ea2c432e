#!/bin/sh
# test.sh - builds everything and runs the whole test suite: once plain, once under
# AddressSanitizer + UndefinedBehaviorSanitizer, then `make distcheck`. Ends with one line
# "N passed, N failed[, N skipped]" summed from automake's test-suite.log files, the fuzzers
# (each fuzz target runs FUZZ_SECONDS, default 40, under ASan + UBSan; DTB_SKIP_FUZZ=1 skips),
# the stress and Redis tests built with ThreadSanitizer, format-check and distcheck (one test
# each).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
started=$(date +%s)
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

run_suite "" --enable-werror
run_suite "-san" --enable-werror --enable-sanitizers
# The stress test once more, built with ThreadSanitizer.
tsan_pass=0 tsan_fail=0
echo "== build-tsan: the stress test under ThreadSanitizer"
dir="$top/_build-tsan"
rm -rf "$dir"
mkdir -p "$dir"
if (cd "$dir" && ../configure -q --enable-werror --enable-tsan && make -j"$jobs" -s >/dev/null &&
    make -j"$jobs" -s tests/integ/test_stress tests/integ/test_redis tests/integ/test_redis_outage \
        >/dev/null &&
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./tests/integ/test_stress 8 1000); then
    tsan_pass=1
else
    tsan_fail=1
    status=1
fi
# the heap ledger's own threading (built into a program: under TSan nothing can replace malloc)
echo "== build-tsan: the heap ledger under ThreadSanitizer"
if (cd "$dir" && make -s tests/unit/ledger_stress >/dev/null &&
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./tests/unit/ledger_stress 8 1000); then
    tsan_pass=$((tsan_pass + 1))
else
    tsan_fail=$((tsan_fail + 1))
    status=1
fi
# and the Redis store with its writer thread (all its tests but the forked workers' ones, which
# are test_redis_fork's)
for prog in test_redis test_redis_outage; do
    echo "== build-tsan: the Redis store under ThreadSanitizer ($prog)"
    if [ -x "$dir/tests/integ/$prog" ] &&
        (cd "$dir" && TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./tests/integ/$prog \
            >"$dir/$prog.log" 2>&1); then
        grep '^[0-9]*%: Checks' "$dir/$prog.log"
        tsan_pass=$((tsan_pass + 1))
    else
        tail -n 40 "$dir/$prog.log" 2>/dev/null || true
        tsan_fail=$((tsan_fail + 1))
        status=1
    fi
done

fuzz_pass=0 fuzz_fail=0
if [ "${DTB_SKIP_FUZZ:-0}" != 1 ]; then
    echo "== fuzz: each target ${FUZZ_SECONDS:-40} s, then the saved cases"
    "$top/tests/fuzz/run.sh" "$top/_build" --seconds "${FUZZ_SECONDS:-40}" | tee "$top/_build/fuzz.log" || status=1
    "$top/tests/fuzz/run.sh" "$top/_build" --regression | tee -a "$top/_build/fuzz.log" || status=1
    fuzz_pass=$(grep -c ': no failure$\|: every saved case passes$' "$top/_build/fuzz.log" || true)
    fuzz_fail=$(grep -c ': FAILED\|: no saved cases$' "$top/_build/fuzz.log" || true)
    # both runs must have ended with their summary line (a build that failed prints none)
    [ "$(grep -c '^fuzz: [0-9]* passed, [0-9]* failed$' "$top/_build/fuzz.log")" = 2 ] ||
        fuzz_fail=$((fuzz_fail + 1))
fi
# format-check, distcheck and the process check each count as one test in the closing line,
# so that a failure there shows in it
other_pass=0 other_fail=0
echo "== format-check"
if (cd "$top/_build" && make -s format-check); then
    other_pass=$((other_pass + 1))
else
    other_fail=$((other_fail + 1))
fi
if [ "${DTB_SKIP_DISTCHECK:-0}" != 1 ]; then
    echo "== distcheck"
    if (cd "$top/_build" && make -s distcheck >"$top/_build/distcheck.log" 2>&1); then
        echo "distcheck: ok"
        other_pass=$((other_pass + 1))
    else
        tail -40 "$top/_build/distcheck.log"
        echo "distcheck: FAILED"
        other_fail=$((other_fail + 1))
    fi
fi

# Every server a test started must have been stopped by its PID.
left=$(ps -eo stat=,args= | awk -v top="$top" '$1 !~ /^Z/ && index($0, top "/_build") && /petshop|minimal|test_|redis-server|postgres/' || true)
if [ -n "$left" ]; then
    echo "== processes left running by the tests:"
    echo "$left"
    other_fail=$((other_fail + 1))
fi

pass=0 fail=0 skip=0
for l in $logs; do
    [ -f "$l" ] || { fail=$((fail + 1)); continue; }
    p=$(sed -n 's/^# PASS: *//p' "$l"); f=$(sed -n 's/^# FAIL: *//p' "$l")
    e=$(sed -n 's/^# ERROR: *//p' "$l"); x=$(sed -n 's/^# XPASS: *//p' "$l")
    s=$(sed -n 's/^# SKIP: *//p' "$l")
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0} + ${x:-0})); skip=$((skip + ${s:-0}))
done
pass=$((pass + fuzz_pass + tsan_pass + other_pass)); fail=$((fail + fuzz_fail + tsan_fail + other_fail))
# The end of each failed test's own log, so that a failure far up the output is explained here.
for l in $logs; do
    d=$(dirname "$l")
    for t in $(cd "$d" 2>/dev/null && grep -l '^:test-result: \(FAIL\|ERROR\|XPASS\)' \
        $(find . -name '*.trs') 2>/dev/null); do
        t=${t%.trs}
        echo "== failed: ${d#"$top"/}/${t#./} (the end of its log)"
        tail -n 30 "$d/$t.log" 2>/dev/null || true
    done
done
[ $fail -eq 0 ] || status=1
[ $pass -gt 0 ] || status=1
echo "== the whole run took $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
exit $status
