#!/bin/sh
# check-exports.sh - the shared library exports dtb_ symbols only, and every function the
# public headers declare is exported.
set -eu
lib="${TOP_BUILDDIR:-.}/.libs/libdebugtoolbar.so"
if [ ! -f "$lib" ]; then
    echo "check-exports: $lib not built (static-only build?)"
    exit 77
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^dtb_' | grep -v '^_' || true)
if [ -n "$bad" ]; then
    echo "check-exports: unexpected exported symbols:"
    echo "$bad"
    exit 1
fi
missing=0
for f in $(grep -ho '\bdtb_[a-z0-9_]*(' "${TOP_SRCDIR:-.}"/include/debugtoolbar.h "${TOP_SRCDIR:-.}"/include/debugtoolbar/panel.h | tr -d '(' | sort -u); do
    if ! nm -D --defined-only "$lib" | awk '{print $3}' | grep -qx "$f"; then
        echo "check-exports: $f is declared but not exported"
        missing=1
    fi
done
[ "$missing" -eq 0 ]
echo "check-exports: ok ($(nm -D --defined-only "$lib" | grep -c ' T dtb_') functions)"
