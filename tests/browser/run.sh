#!/bin/bash
# run.sh - browser tests: starts the demo twice on ephemeral loopback ports (toolbar on, toolbar
# off), installs playwright-core from npm into the build folder if needed, and runs
# toolbar.test.js in Debian's headless Chromium. Screenshots go to tests/browser/artifacts/ in
# the build folder. Without Chromium or Node it fails loudly (tools/test.sh installs them).
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "*** FAIL: the browser tests need /usr/bin/chromium, node and npm"
    echo "*** (apt-get install chromium nodejs npm); the toolbar UI is NOT tested"
    exit 1
fi
deps="$TOP_BUILDDIR/tests/browser/node"
if [ ! -d "$deps/node_modules/playwright-core" ]; then
    mkdir -p "$deps"
    npm install --prefix "$deps" --no-audit --no-fund --silent playwright-core@1 >/dev/null
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
# start NAME ENABLED: sets $url; run in this shell (not in $(...)) so that the PID is kept
start() {
    url=""
    : >"$tmp/$1.out" # before the server starts: sed below must find it, even if empty
    printf '{"enabled": %s, "app": {"database": {"pool_size": 5}}}\n' "$2" >"$tmp/$1.json"
    "$bin" --port 0 --db "$tmp/p.db" --config "$tmp/$1.json" >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pids+=($!)
    for _ in $(seq 1 100); do
        url=$(sed -n 's|^petshop: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/$1.out")
        [ -n "$url" ] && return 0
        sleep 0.1
    done
    cat "$tmp/$1.err" >&2
    return 1
}
start on true
on=$url
start off false
off=$url
DTB_URL_ON="$on" DTB_URL_OFF="$off" DTB_ARTIFACTS="$TOP_BUILDDIR/tests/browser/artifacts" \
    DTB_TEST_DATA="$TOP_SRCDIR/tests/data" NODE_PATH="$deps/node_modules" \
    timeout 300 node "$TOP_SRCDIR/tests/browser/toolbar.test.js"
