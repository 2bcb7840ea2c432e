# lib.sh - helpers the shell integration tests share (sourced, not run). The sourcing script
# sets $tmp (a temporary folder) and $name (its own name for messages) first.
#   start_petshop CONFIG [petshop options]   starts the demo on an ephemeral loopback port;
#                                            sets $pid and $base (http://127.0.0.1:PORT)
#   stop_petshop                             SIGTERM, and it must exit cleanly
#   record ID                                waits for request ID's record: $tmp/rec.json
#   header FILE NAME                         a header's value from a curl -D dump
#   curl_ ...                                curl, quiet, no proxy, bounded in time

curl_() { curl -s --noproxy '*' --max-time 20 "$@"; }

fail() {
    echo "$name: FAIL: $*"
    [ -f "$tmp/err" ] && tail -n 20 "$tmp/err"
    exit 1
}

ok() { echo "$name: ok: $*"; }

header() {
    grep -i "^$2:" "$1" | head -n 1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'
}

start_petshop() {
    local config=$1
    shift
    : >"$tmp/out" # before the server starts: never read the previous server's address
    "$TOP_BUILDDIR/examples/petshop/petshop" --port 0 --db "$tmp/p.db" --config "$config" "$@" \
        >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's|^petshop: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/out")
        [ -n "$base" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "petshop did not start"
}

stop_petshop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || fail "petshop did not exit cleanly"
    pid=""
}

record() {
    local code
    for _ in $(seq 1 400); do
        code=$(curl_ -o "$tmp/rec.json" -w '%{http_code}' "$base/_debug_toolbar/api/requests/$1")
        [ "$code" = 200 ] && return 0
        sleep 0.05
    done
    fail "record $1 never stored"
}
