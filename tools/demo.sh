#!/bin/sh
# demo.sh - builds the library and starts the petshop demo with the toolbar on.
# Usage: tools/demo.sh [petshop options, e.g. --port 8080]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/deps.sh"
cd "$top"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s examples/petshop/petshop
cd "$top"
exec "$top/_build/examples/petshop/petshop" "$@"
