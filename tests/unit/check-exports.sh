#!/bin/sh
# check-exports.sh - libdebugtoolbar.so exports exactly what the installed headers declare, in
# both directions: every exported symbol is a function declared in include/ (the one exception,
# dtb_preload_passthrough, is exported for the dtb-run shim and declared in toolbar/internal.h),
# and every function include/ declares (not a macro, not one of DTB_DISABLE's inline stubs) is
# exported.
set -eu
lib="${TOP_BUILDDIR:-.}/.libs/libdebugtoolbar.so"
inc="${TOP_SRCDIR:-.}/include"
if [ ! -f "$lib" ]; then
    echo "check-exports: $lib not built (static-only build?)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | grep -v '^_' | sort -u >"$tmp/exported"
# the headers without comments (the preprocessor, on the files alone: no includes, no macros),
# then every name called like a function: dtb_name(
for h in "$inc"/debugtoolbar.h "$inc"/debugtoolbar/*.h; do
    gcc -fpreprocessed -dD -E -P -x c "$h" 2>/dev/null
done | grep -v '^static inline\|^#' | grep -o '\bdtb_[a-z0-9_]*[[:space:]]*(' | tr -d '( \t' | sort -u >"$tmp/declared"
# names only the DTB_DISABLE stubs define (static inline, not in the library)
for h in "$inc"/debugtoolbar.h "$inc"/debugtoolbar/*.h; do
    gcc -fpreprocessed -dD -E -P -x c "$h" 2>/dev/null
done | grep '^static inline\|^#define' | grep -o '\bdtb_[a-z0-9_]*[[:space:]]*(' | tr -d '( \t' |
    sort -u >"$tmp/inline"
echo dtb_preload_passthrough >>"$tmp/declared"
sort -u -o "$tmp/declared" "$tmp/declared"
status=0
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
if [ -n "$extra" ]; then
    echo "check-exports: exported but not declared in include/:"
    echo "$extra"
    status=1
fi
# declared names that are not exported: only macros and the inline stubs may be missing
missing=$(comm -13 "$tmp/exported" "$tmp/declared" | comm -23 - "$tmp/inline")
if [ -n "$missing" ]; then
    echo "check-exports: declared in include/ but not exported:"
    echo "$missing"
    status=1
fi
[ "$status" -eq 0 ] || exit 1
echo "check-exports: ok ($(wc -l <"$tmp/exported") symbols, each declared; every declared function exported)"
