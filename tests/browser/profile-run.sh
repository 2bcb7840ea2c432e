#!/bin/bash
# profile-run.sh - the Profile panel in a real browser: starts the demo on an ephemeral
# loopback port with the toolbar on, installs playwright-core from npm into the build folder if
# needed (as run.sh does), and speedscope (whose package carries its file-format schema) with
# the ajv JSON-schema validator, and runs profile.test.js in Debian's headless Chromium.
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "*** FAIL: the browser tests need /usr/bin/chromium, node and npm"
    echo "*** (apt-get install chromium nodejs npm); the Profile panel is NOT tested"
    exit 1
fi
deps="$TOP_BUILDDIR/tests/browser/node"
if [ ! -d "$deps/node_modules/playwright-core" ]; then
    mkdir -p "$deps"
    npm install --prefix "$deps" --no-audit --no-fund --silent playwright-core@1 >/dev/null
fi
schema="$deps/schema" # a folder of its own: run.sh may be installing into $deps meanwhile
if [ ! -d "$schema/node_modules/speedscope" ] || [ ! -d "$schema/node_modules/ajv" ]; then
    mkdir -p "$schema"
    npm install --prefix "$schema" --no-audit --no-fund --silent speedscope@1 ajv@8 >/dev/null
fi
bin="$TOP_BUILDDIR/examples/petshop/petshop"
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
: >"$tmp/out" # before the server starts: sed below must find it, even if empty
printf '{"enabled": true, "app": {"database": {"pool_size": 5}}}\n' >"$tmp/c.json"
"$bin" --port 0 --db "$tmp/p.db" --config "$tmp/c.json" >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's|^petshop: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/out")
    [ -n "$url" ] && break
    sleep 0.1
done
if [ -z "$url" ]; then
    cat "$tmp/err" >&2
    exit 1
fi
DTB_URL_ON="$url" DTB_ARTIFACTS="$TOP_BUILDDIR/tests/browser/artifacts" \
    SPEEDSCOPE_SCHEMA="$schema/node_modules/speedscope/dist/release/file-format-schema.json" \
    NODE_PATH="$deps/node_modules:$schema/node_modules" timeout 300 node "$TOP_SRCDIR/tests/browser/profile.test.js"
