#!/bin/bash
# memory-preload.sh - dtb-run --memory: the heap ledger in a program that was never built for
# it (tests/preload/leaky_app.c), in each of MHD's three threading modes: /leak's record says
# exactly 2 blocks of 24 bytes were left, at leak_two, and the Memory panel shows them and that
# the route left bytes behind on each of its last requests; a page
# built from many small allocations that are all freed leaves nothing; without --memory the
# panel says the ledger is not loaded. In a sanitizer build (the sanitizer owns malloc) the
# ledger must refuse to run, saying why.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
app="$TOP_BUILDDIR/tests/preload/leaky_app"
run="$TOP_BUILDDIR/tools/dtb-run"
export DTB_PRELOAD_LIB="$TOP_BUILDDIR/.libs/libdebugtoolbar-preload.so"
export DTB_MALLOC_LIB="$TOP_BUILDDIR/.libs/libdebugtoolbar-malloc.so"
export LD_LIBRARY_PATH="$TOP_BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
name=memory-preload
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ -n "${SAN_CFLAGS:-}" ]; then
    set +e
    "$run" --enable --memory -- "$app" poll >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ $rc = 1 ] && grep -q 'libdebugtoolbar-malloc: refusing to run: .*Sanitizer, which owns malloc' "$tmp/err" ||
        fail "under a sanitizer the ledger must refuse: exit $rc, $(head -c 300 "$tmp/err")"
    ok "sanitizer build: the ledger refuses with a clear message: $(head -n 1 "$tmp/err")"
    echo "*** SKIP part: the ledger's records need a build without sanitizers (the plain build runs them)"
    exit 0
fi

start() { # dtb-run args... : sets $base
    : >"$tmp/out"
    "$run" "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    base=""
    for _ in $(seq 1 100); do
        if grep -q '^port ' "$tmp/out"; then
            base="http://127.0.0.1:$(sed -n 's/^port //p' "$tmp/out")"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "the program did not start: $*"
}
stop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || fail "the program did not exit cleanly"
    pid=""
}

for mode in poll pool conn; do
    start --enable --memory -- "$app" "$mode"
    for round in 1 2 3; do
        curl_ -D "$tmp/h" -o "$tmp/page.html" "$base/leak"
        grep -q '<dtb-toolbar' "$tmp/page.html" || fail "$mode: no toolbar in /leak"
        id=$(header "$tmp/h" X-Debug-Toolbar-Id)
        record "$id"
        python3 - "$tmp/rec.json" "$round" <<'PY' || fail "$mode: /leak's record, round $round: $(head -c 1500 "$tmp/rec.json")"
import json, sys
m = json.load(open(sys.argv[1]))["panels"]["memory"]
assert m["ledger"] is True, m
assert m["live_blocks"] == 2 and m["live_bytes"] == 48, m
# the page, handed to libmicrohttpd (MUST_FREE) and freed once sent, is no leak candidate
assert m["handed_blocks"] == 1 and m["handed_bytes"] >= 1270, m
g = m["live"]
assert len(g) == 1 and g[0]["function"] == "leak_two" and g[0]["count"] == 2 and g[0]["size"] == 24, g
assert m["allocs"] >= 66 and m["frees"] >= 64, m
assert m["toolbar_allocs"] > 0, m
assert m["leak_streak"] == int(sys.argv[2]) and m["leak_streak_bytes"] == 48 * int(sys.argv[2]), m
PY
    done
    curl_ -o "$tmp/panel.html" "$base/_debug_toolbar/api/requests/$id/panels/memory"
    # History marks the route: the third /leak's line says it leaks, the memory panel's mark
    curl_ "$base/_debug_toolbar/api/requests" | python3 -c '
import json, sys
rows = {r["id"]: r for r in json.load(sys.stdin)}
m = rows[sys.argv[1]].get("marks")
assert m == [{"panel": "memory", "text": "leaks", "level": "warn", "title": "The last 3 requests to this route each left bytes behind (144 bytes in all)"}], m
firsts = [r for r in rows.values() if r["path"] == "/leak" and r["id"] != sys.argv[1]]
assert any("marks" not in r for r in firsts), firsts  # the first of them: no streak yet
' "$id" || fail "$mode: the history does not mark the leaking route"
    grep -q '<code>leak_two</code>' "$tmp/panel.html" || fail "$mode: the panel does not name leak_two"
    grep -q 'Blocks left live at the end' "$tmp/panel.html" || fail "$mode: the panel's live list"
    grep -q '<th>Left live at the end</th><td class="dtb-num">2</td><td>48 B</td>' "$tmp/panel.html" ||
        fail "$mode: the panel's summary row of blocks left live"
    grep -q '<th>Response bodies handed to libmicrohttpd</th><td class="dtb-num">1</td>' "$tmp/panel.html" ||
        fail "$mode: the panel's row of response bodies handed over"
    grep -q 'The last 3 requests to this route each left bytes behind' "$tmp/panel.html" ||
        fail "$mode: the panel does not say the route leaks every time"
    curl_ -D "$tmp/h" -o "$tmp/page.html" "$base/"
    record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
    python3 - "$tmp/rec.json" <<'PY' || fail "$mode: /'s record: $(head -c 1500 "$tmp/rec.json")"
import json, sys
m = json.load(open(sys.argv[1]))["panels"]["memory"]
assert m["live_blocks"] == 0 and m["live"] == [] and m["leak_streak"] == 0, m
own = sum(s["count"] for s in m["sites_by_count"] if s["function"] == "build_page")
assert own == 65, m["sites_by_count"]
PY
    stop
    ok "$mode: /leak leaves exactly 2 blocks of 24 bytes at leak_two (3 times), / leaves nothing, the panel names the site"
done

start --enable -- "$app" poll
curl_ -D "$tmp/h" -o "$tmp/page.html" "$base/leak"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["panels"]["memory"]; assert m == {"ledger": False}, m' "$tmp/rec.json" ||
    fail "without --memory: $(head -c 500 "$tmp/rec.json")"
curl_ -o "$tmp/panel.html" "$base/_debug_toolbar/api/requests/$id/panels/memory"
grep -q 'dtb-run --memory' "$tmp/panel.html" || fail "without --memory the panel does not say how to load the ledger"
stop
ok "without --memory the panel says how to load the ledger"
