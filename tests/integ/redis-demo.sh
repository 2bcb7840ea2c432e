#!/bin/bash
# redis-demo.sh - two petshop processes on two ports share one real redis-server (started
# here on a Unix socket, stopped by PID): a request served by the first is listed and rendered
# by the second, and its signed SQL action works there too.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
if ! grep -q '^#define HAVE_HIREDIS 1' "$TOP_BUILDDIR/config.h"; then
    echo "*** SKIP: this build has no Redis support (configure found no hiredis, or --without-redis);"
    echo "*** the shared history is NOT tested"
    exit 77
fi
if ! command -v redis-server >/dev/null 2>&1; then
    echo "*** SKIP: redis-server is not installed; the shared history is NOT tested"
    exit 77
fi
bin="$TOP_BUILDDIR/examples/petshop/petshop"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "redis-demo: FAIL: $*"
    exit 1
}
curl_() { curl -s --noproxy '*' --max-time 20 "$@"; }

redis-server --port 0 --unixsocket "$tmp/redis.sock" --save "" --appendonly no \
    --dir "$tmp" >/dev/null &
pids+=($!)
# ready when it answers (the socket file appears a moment before it accepts connections)
up=no
for _ in $(seq 1 100); do
    redis-cli -s "$tmp/redis.sock" PING 2>/dev/null | grep -q PONG && { up=yes; break; }
    sleep 0.05
done
[ $up = yes ] || fail "redis-server did not start"

cat >"$tmp/shared.json" <<JSON
{"enabled": true, "store": "unix:$tmp/redis.sock", "secret_key": "same-key-in-every-process",
 "store_prefix": "petshop", "store_timeout_ms": 5000}
JSON
# start NAME: sets $url; run in this shell (not in $(...)) so that the PID is kept for cleanup
start() {
    url=""
    : >"$tmp/$1.out" # before the server starts: sed below must find it, even if empty
    "$bin" --port 0 --db "$tmp/p.db" --config "$tmp/shared.json" >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pids+=($!)
    for _ in $(seq 1 100); do
        url=$(sed -n 's|^petshop: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/$1.out")
        [ -n "$url" ] && return 0
        sleep 0.1
    done
    cat "$tmp/$1.err"
    fail "petshop $1 did not start"
}
start a
a=$url
start b
b=$url

id=$(curl_ -D - -o /dev/null "$a/cats" | grep -i '^X-Debug-Toolbar-Id:' | cut -d' ' -f2 | tr -d '\r')
[ ${#id} = 16 ] || fail "no request id from the first process"
code=000
for _ in $(seq 1 400); do
    code=$(curl_ -o "$tmp/rec.json" -w '%{http_code}' "$b/_debug_toolbar/api/requests/$id")
    [ "$code" = 200 ] && break
    sleep 0.05
done
[ "$code" = 200 ] || fail "the second process cannot read the first one's record ($code)"
curl_ "$b/_debug_toolbar/api/requests" | grep -q "\"$id\"" || fail "not in the second's history"
code=$(curl_ -o "$tmp/sql.html" -w '%{http_code}' "$b/_debug_toolbar/api/requests/$id/panels/sql")
[ "$code" = 200 ] && grep -q 'N+1' "$tmp/sql.html" || fail "the second process cannot render the SQL panel"
sig=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["panels"]["sql"]["queries"][1]["sig"])' "$tmp/rec.json")
body="{\"request\": \"$id\", \"query\": 1, \"sig\": \"$sig\"}"
# an action runs only on a database this process opened itself, never on a path read from the
# store: before the second process has opened the shop's database it does not know the key
code=$(curl_ -o "$tmp/rows.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$b/_debug_toolbar/panels/sql/select")
[ "$code" = 404 ] && grep -q 'unknown database' "$tmp/rows.json" || fail "an action on a database the second process never opened: $code $(cat "$tmp/rows.json")"
# once one of its pages has opened it (its connection attached), the same signed action runs there
curl_ -o /dev/null "$b/cats" || fail "the second process does not serve /cats"
code=$(curl_ -o "$tmp/rows.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$b/_debug_toolbar/panels/sql/select")
[ "$code" = 200 ] && grep -q '"cat-1"' "$tmp/rows.json" || fail "signed re-run in the second process: $code $(cat "$tmp/rows.json")"
echo "redis-demo: a request served by one process is listed, rendered and re-run by another"
