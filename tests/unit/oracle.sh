#!/bin/bash
# oracle.sh - runs oracle.js (the injector's cases held to parse5, a WHATWG-conformant HTML5
# parser) with node; installs parse5 from npm into the build folder if needed, as the browser
# tests install playwright-core. Without node or npm it fails loudly.
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "*** FAIL: the HTML5 oracle needs node and npm (apt-get install nodejs npm)"
    exit 1
fi
deps="$TOP_BUILDDIR/tests/unit/node"
if [ ! -d "$deps/node_modules/parse5" ]; then
    mkdir -p "$deps"
    npm install --prefix "$deps" --no-audit --no-fund --silent parse5@7 >/dev/null
fi
NODE_PATH="$deps/node_modules" timeout 120 node "$TOP_SRCDIR/tests/unit/oracle.js"
