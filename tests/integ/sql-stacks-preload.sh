#!/bin/bash
# sql-stacks-preload.sh - SQL call sites without macros: an unmodified MHD + SQLite program
# (tests/preload/plain_app.c, which never heard of the toolbar) under dtb-run with
# panel_options.sql.stacks on; each query's call site must be the program's own function and
# line (the first frame outside SQLite and the toolbar, named from the program's debug info),
# with its callers as a short stack, shown in the SQL panel; with stacks off there is none.
# The sampling profiler (wall-clock mode) on the same program names its handler from its own
# symbols.
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
app="$TOP_BUILDDIR/tests/preload/plain_app"
run="$TOP_BUILDDIR/tools/dtb-run"
export DTB_PRELOAD_LIB="$TOP_BUILDDIR/.libs/libdebugtoolbar-preload.so"
export LD_LIBRARY_PATH="$TOP_BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
if ! grep -q '^#define HAVE_PROFILER 1' "$TOP_BUILDDIR/config.h"; then
    echo "sql-stacks-preload: built without libunwind and libdw: nothing to test"
    exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
name=sql-stacks-preload
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

python3 - "$tmp/pets.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                "INSERT INTO pet(name) VALUES ('cat'), ('dog'), ('owl');")
c.commit()
PY
# the lines of the program's two sqlite3_step calls
lines=$(grep -n 'sqlite3_step(st)' "$TOP_SRCDIR/tests/preload/plain_app.c" | cut -d: -f1 | tr '\n' ' ')

start() { # config: sets $base
    printf '%s\n' "$1" >"$tmp/c.json"
    : >"$tmp/out"
    "$run" --config "$tmp/c.json" --enable -- "$app" "$tmp/pets.db" pool 0 >"$tmp/out" 2>"$tmp/err" &
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
    fail "the program did not start"
}
stop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || fail "the program did not exit cleanly"
    pid=""
}

start '{"panel_options": {"sql": {"stacks": true, "stack_depth": 3}}}'
curl_ -D "$tmp/h" -o "$tmp/page.html" "$base/"
grep -q '<p>3 pets; pet 2 is dog</p>' "$tmp/page.html" || fail "the page itself"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
python3 - "$tmp/rec.json" $lines <<'PY' || fail "the call sites of the program's queries"
import json, re, sys
r = json.load(open(sys.argv[1]))
lines = [int(x) for x in sys.argv[2:]]
q = r["panels"]["sql"]["queries"]
assert [x["sql"] for x in q] == ["SELECT count(*) FROM pet", "SELECT name FROM pet WHERE id = ?"], q
for i, x in enumerate(q):
    m = re.fullmatch(r"(.*plain_app\.c):(\d+) \(handler\)", x.get("call_site", ""))
    assert m, x
    # the line of the call (the compiler may place a return address on the next statement)
    assert abs(int(m.group(2)) - lines[i]) <= 1, (x["call_site"], lines)
    st = x["stack"]
    assert 1 <= len(st) <= 3 and st[0] == x["call_site"], st
    assert not any("sqlite3" in f or "dtb" in f or "toolbar/" in f for f in st), st
PY
curl_ -o "$tmp/sql.html" "$base/_debug_toolbar/api/requests/$id/panels/sql"
grep -q 'plain_app.c:[0-9]* (handler)' "$tmp/sql.html" || fail "the SQL panel does not show the call site"
stop
ok "stacks on: each query's call site is the program's handler, at its line"

# the sampling profiler on the same program: its frames named from its own symbols
start '{"panel_options": {"profile": {"mode": "wall", "rate_hz": 2000}}}'
found=""
for _ in 1 2 3 4 5; do
    curl_ -D "$tmp/h" -o /dev/null "$base/?dtb-profile=1"
    record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
    if python3 - "$tmp/rec.json" <<'PY'; then
import json, sys
p = json.load(open(sys.argv[1]))["panels"]["profile"]
assert p["on"] and p["samples"] > 0, p
assert any(f["name"] == "handler" and f.get("module") == "plain_app" for f in p["frames"])
PY
        found=1
        break
    fi
done
[ -n "$found" ] || fail "no profile names the program's handler from its symbols"
stop
ok "profiled under dtb-run: the program's handler, by its own symbol"

start '{}'
curl_ -D "$tmp/h" -o /dev/null "$base/"
record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
python3 - "$tmp/rec.json" <<'PY' || fail "stacks off"
import json, sys
q = json.load(open(sys.argv[1]))["panels"]["sql"]["queries"]
assert len(q) == 2 and all(x.get("call_site") is None and "stack" not in x for x in q), q
PY
stop
ok "stacks off: no call site without the macro"

printf '{"panel_options": {"sql": {"stacks": "yes"}}}\n' >"$tmp/bad.json"
if "$run" --config "$tmp/bad.json" --enable -- "$app" "$tmp/pets.db" poll 0 >"$tmp/out" 2>"$tmp/err" & then
    pid=$!
fi
for _ in $(seq 1 50); do
    grep -q 'panel_options.sql.stacks' "$tmp/err" && break
    sleep 0.1
done
grep -q "panel_options.sql.stacks.*expected true or false" "$tmp/err" || fail "a bad stacks value is not named: $(cat "$tmp/err")"
ok "a bad value names its key"
