#!/bin/sh
# install-app.sh - `make install` into a temporary prefix, build examples/minimal/minimal.c
# against it with pkg-config exactly as the README says, run it, and see the toolbar in its
# page. Proves the installed headers, library and debugtoolbar.pc are complete.
set -eu
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
root="$tmp/root"
make -s -C "$TOP_BUILDDIR" install DESTDIR="$root" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"; echo "install-app: make install failed"; exit 1; }
pc=$(find "$root" -name debugtoolbar.pc | head -n 1)
[ -n "$pc" ] || { echo "install-app: debugtoolbar.pc was not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$root"
cflags=$(pkg-config --cflags debugtoolbar)
libs=$(pkg-config --libs debugtoolbar)
# shellcheck disable=SC2086
${CC:-cc} ${SAN_CFLAGS:-} -Wall -Wextra -Werror -Wno-unused-parameter "$TOP_SRCDIR/examples/minimal/minimal.c" \
    $cflags $libs -pthread -o "$tmp/minimal" || { echo "install-app: build failed"; exit 1; }
LD_LIBRARY_PATH="$libdir" DTB_ENABLED=1 "$tmp/minimal" 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=""
i=0
while [ $i -lt 100 ] && [ -z "$url" ]; do
    url=$(sed -n 's/^minimal: serving on //p' "$tmp/out")
    [ -n "$url" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$url" ] || { cat "$tmp/err"; echo "install-app: minimal did not start"; exit 1; }
body=$(curl -s --noproxy '*' "$url")
case "$body" in
*'<dtb-toolbar id="dtb-root"'*'</body></html>') echo "install-app: toolbar injected" ;;
*) echo "install-app: no toolbar in: $body"; exit 1 ;;
esac
kill "$pid"
wait "$pid" || { echo "install-app: minimal did not exit cleanly"; exit 1; }
pid=""
echo "install-app: ok"
