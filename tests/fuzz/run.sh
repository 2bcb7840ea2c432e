#!/bin/bash
# run.sh - builds the fuzz targets with clang (libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs them.
#
#   tests/fuzz/run.sh BUILDDIR [--seconds N]      fuzz each target for N seconds (default 60)
#   tests/fuzz/run.sh BUILDDIR --regression       run each saved case once (tests/data/fuzz)
#   --timeout S                                   per-input time limit (default 2 s): an input
#                                                 slower than that is a failure (a quadratic
#                                                 path), saved like a crash
#
# BUILDDIR is a configured, built tree (for config.h and the embedded assets). Seeds are the
# saved cases plus the injector's test pages; what a run finds goes to BUILDDIR/fuzz/, and a
# crash fails the run (save the input under tests/data/fuzz/<target>/ as a regression case).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILDDIR [--seconds N | --regression]}" && pwd)
shift
seconds=60
timeout=2
regression=0
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --regression) regression=1; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 1; }
targets="fuzz_inject fuzz_config fuzz_action fuzz_jwt fuzz_timing fuzz_gate fuzz_dsn"
# the injector held to gumbo (HTML5, differential), when libgumbo is installed: its saved cases
# always run; fuzzing it is asked for with FUZZ_GUMBO=1, as gumbo 0.10 still shows divergences
# from today's HTML standard that the target does not recognise yet (parse5 is the judge there)
gumbo=0
pkg-config --exists gumbo && gumbo=1 && targets="$targets fuzz_inject_gumbo"
out="$build/fuzz"
mkdir -p "$out/obj" "$out/corpus" "$out/crashes"
pkgs="libmicrohttpd jansson libxml-2.0 sqlite3 nettle hiredis"
for p in libpq zlib libbrotlidec libbrotlienc libzstd libunwind libdw; do
    pkg-config --exists $p && pkgs="$pkgs $p"
done
cflags="-g -O1 -std=gnu11 -D_GNU_SOURCE -DHAVE_CONFIG_H -fsanitize=address,undefined -fno-sanitize-recover=all
 -I$build -I$top/include -I$top/toolbar -I$top/panels $(pkg-config --cflags $pkgs)"
[ $gumbo = 1 ] && cflags="$cflags $(pkg-config --cflags gumbo)"
libs="$(pkg-config --libs $pkgs) -lpthread"

# the core, once, instrumented for coverage (everything but the preload shim and the heap
# ledger, which replaces malloc and lives in a library of its own)
srcs=$(ls "$top"/toolbar/*.c "$top"/panels/*.c "$top"/panels/*/*.c | grep -v '/preload.c$\|/malloc.c$\|/malloc_hooks.c$')
objs=""
for s in $srcs "$build/toolbar/assets.c"; do
    o="$out/obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o"
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ]; then
        # shellcheck disable=SC2086
        clang $cflags -fsanitize=fuzzer-no-link -c "$s" -o "$o"
    fi
    objs="$objs $o"
done

pass=0 fail=0
for t in $targets; do
    # shellcheck disable=SC2086
    tlibs=$libs
    [ "$t" = fuzz_inject_gumbo ] && tlibs="$libs $(pkg-config --libs gumbo)"
    # shellcheck disable=SC2086
    clang $cflags -fsanitize=fuzzer "$top/tests/fuzz/$t.c" $objs $tlibs -o "$out/$t"
    saved="$top/tests/data/fuzz/$t"
    if [ $regression = 1 ]; then
        if [ -d "$saved" ] && "$out/$t" -runs=0 -timeout="$timeout" "$saved" >"$out/$t.log" 2>&1; then
            pass=$((pass + 1)); echo "fuzz: $t: every saved case passes"
        elif [ ! -d "$saved" ]; then
            echo "fuzz: $t: no saved cases"; fail=$((fail + 1))
        else
            fail=$((fail + 1)); echo "fuzz: $t: FAILED"; tail -n 30 "$out/$t.log"
        fi
        continue
    fi
    if [ "$t" = fuzz_inject_gumbo ] && [ "${FUZZ_GUMBO:-0}" != 1 ]; then
        echo "fuzz: $t: saved cases only (FUZZ_GUMBO=1 fuzzes it)"
        continue
    fi
    corpus="$out/corpus/$t"
    mkdir -p "$corpus"
    [ -d "$saved" ] && cp -f "$saved"/* "$corpus"/ 2>/dev/null || true
    if [ "$t" = fuzz_inject_gumbo ]; then
        i=0
        for f in "$top"/tests/data/inject/*/input.html; do
            i=$((i + 1))
            cp "$f" "$corpus/seed-$i"
        done
    fi
    if [ "$t" = fuzz_inject ]; then
        i=0
        for f in "$top"/tests/data/inject/*/input.html; do
            i=$((i + 1))
            { printf '\000'; cat "$f"; } >"$corpus/seed-html-$i"
            { printf '\001'; cat "$f"; } >"$corpus/seed-xhtml-$i"
        done
    fi
    if "$out/$t" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$out/crashes/$t-" -print_final_stats=1 "$corpus" >"$out/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
        pass=$((pass + 1)); echo "fuzz: $t: ${runs:-?} inputs in ${seconds} s, no failure"
    else
        fail=$((fail + 1)); echo "fuzz: $t: FAILED (inputs in $out/crashes/)"; tail -n 40 "$out/$t.log"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail = 0 ]
