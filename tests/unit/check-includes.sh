#!/bin/sh
# check-includes.sh - the panels are built on the public headers alone. No file under panels/
# names a header of toolbar/, and every C file under panels/ compiles with include/ as the only
# project directory on the include path (besides the build's config.h and the libraries' own
# flags): a panel that reaches for the core's internals fails here. The reverse direction, the
# core calling into panels/, is check-layers.sh's.
set -eu
src="${TOP_SRCDIR:-..}"
b="${TOP_BUILDDIR:-.}"
cc="${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]((\.\./)*toolbar/|(internal|spans|counters|profiler|store|memhooks)\.h)' \
    "$src/panels" >"$tmp/named"; then
    echo "check-includes: panels/ names headers of toolbar/:"
    sed 's/^/  /' "$tmp/named"
    status=1
fi
n=0
for f in $(find "$src/panels" -name '*.c' | sort); do
    n=$((n + 1))
    # shellcheck disable=SC2086 # DEPS_CFLAGS is a list of flags
    if ! $cc -std=gnu11 -fsyntax-only -D_GNU_SOURCE -Wall -Werror -pthread -I"$src/include" \
        -I"$b" ${DEPS_CFLAGS:-} "$f" 2>"$tmp/err"; then
        echo "check-includes: ${f#"$src"/} does not compile on the public headers alone:"
        grep -m 5 'error' "$tmp/err" | sed 's/^/  /'
        status=1
    fi
done
if [ "$n" -eq 0 ]; then
    echo "check-includes: no C files under $src/panels"
    exit 1
fi
[ $status -eq 0 ] && echo "check-includes: $n files under panels/ build on include/ alone"
exit $status
