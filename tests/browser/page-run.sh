#!/bin/bash
# page-run.sh - browser tests of the toolbar's own page (<url_prefix>/): starts the demo on an
# ephemeral loopback port with the toolbar on and editor links configured, and once more with
# "hosts" that do not include this client; installs playwright-core from npm into the build
# folder if needed (as run.sh does) and runs page.test.js in Debian's headless Chromium.
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "*** FAIL: the browser tests need /usr/bin/chromium, node and npm"
    echo "*** (apt-get install chromium nodejs npm); the toolbar's page is NOT tested"
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
# start NAME CONFIG: sets $url; run in this shell (not in $(...)) so that the PID is kept
start() {
    url=""
    : >"$tmp/$1.out" # before the server starts: sed below must find it, even if empty
    printf '%s\n' "$2" >"$tmp/$1.json"
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
# the demo's call sites are relative to the build folder (__FILE__ in a VPATH build):
# source_root resolves them, and editor_paths maps the source tree elsewhere
src=$(cd "$TOP_SRCDIR" && pwd -P)
build=$(cd "$TOP_BUILDDIR" && pwd -P)
start on "{\"enabled\": true, \"editor\": \"vscode://file/{file}:{line}\",
  \"editor_paths\": [{\"from\": \"$src/examples\", \"to\": \"/home/me/src/examples\"}],
  \"source_root\": \"$build\", \"app\": {\"database\": {\"pool_size\": 5}}}"
on=$url
grep -q "open $on/_debug_toolbar/ to see its requests" "$tmp/on.err" || {
    echo "*** FAIL: the start-up log does not name the toolbar's page:"
    cat "$tmp/on.err"
    exit 1
}
start outside '{"enabled": true, "hosts": ["10.0.0.0/8"]}'
outside=$url
DTB_URL_ON="$on" DTB_URL_OUTSIDE="$outside" DTB_ARTIFACTS="$TOP_BUILDDIR/tests/browser/artifacts" \
    NODE_PATH="$deps/node_modules" timeout 300 node "$TOP_SRCDIR/tests/browser/page.test.js"
