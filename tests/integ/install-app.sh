#!/bin/sh
# install-app.sh - `make install` into a temporary prefix, build examples/minimal/minimal.c
# against it with pkg-config exactly as the README says, run it, and see the toolbar in its
# page; the same with the libraries in the other order (libmicrohttpd before the toolbar: the
# explicit API relies on no symbol interposition); and the installed dtb-run, whose shim path
# must be where make install put it. Proves the installed files are complete.
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
others=$(pkg-config --libs libmicrohttpd jansson)

# serve_check NAME SED_EXPR URL_PREFIX WANT CMD...: starts CMD, waits for the line of its output
# from which SED_EXPR picks its address (appended to URL_PREFIX), checks that its page matches
# the case pattern WANT, and stops it
serve_check() {
    name=$1 expr=$2 prefix=$3 want=$4
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    found=""
    i=0
    while [ $i -lt 100 ] && [ -z "$found" ]; do
        found=$(sed -n "$expr" "$tmp/out")
        [ -n "$found" ] || sleep 0.1
        i=$((i + 1))
    done
    [ -n "$found" ] || { cat "$tmp/err"; echo "install-app: $name did not start"; exit 1; }
    body=$(curl -s --noproxy '*' "$prefix$found")
    # shellcheck disable=SC2254
    case "$body" in
    $want) echo "install-app: $name: toolbar injected" ;;
    *) echo "install-app: $name: no toolbar in: $body"; exit 1 ;;
    esac
    kill "$pid"
    wait "$pid" || { echo "install-app: $name did not exit cleanly"; exit 1; }
    pid=""
}
page='*<dtb-toolbar id="dtb-root"*</body></html>'
run_minimal() {
    serve_check "$1" 's/^minimal: serving on //p' "" "$page" \
        env LD_LIBRARY_PATH="$libdir" DTB_ENABLED=1 "$tmp/$1" 0
}

# as the README says, then with libmicrohttpd and jansson named before the toolbar
# shellcheck disable=SC2086
${CC:-cc} ${SAN_CFLAGS:-} -Wall -Wextra -Werror -Wno-unused-parameter "$TOP_SRCDIR/examples/minimal/minimal.c" \
    $cflags $libs -pthread -o "$tmp/minimal" || { echo "install-app: build failed"; exit 1; }
run_minimal minimal
# shellcheck disable=SC2086
${CC:-cc} ${SAN_CFLAGS:-} -Wall -Wextra -Werror -Wno-unused-parameter "$TOP_SRCDIR/examples/minimal/minimal.c" \
    $cflags $others $libs -pthread -o "$tmp/minimal-mhd-first" || {
    echo "install-app: build (other order) failed"; exit 1; }
run_minimal minimal-mhd-first

# the installed dtb-run: its shim path is where make install put the shim (under DESTDIR here,
# which the path must not contain), and it runs an unmodified program with the toolbar
runner=$(find "$root" -name dtb-run -type f | head -n 1)
[ -n "$runner" ] && [ -x "$runner" ] || { echo "install-app: dtb-run was not installed"; exit 1; }
shim=$(sed -n 's|^lib="${DTB_PRELOAD_LIB:-\(.*\)}"$|\1|p' "$runner")
case "$shim" in
/*/libdebugtoolbar-preload.so) ;;
*) echo "install-app: dtb-run names no installed shim: '$shim'"; exit 1 ;;
esac
[ -f "$root$shim" ] || { echo "install-app: dtb-run's shim $shim was not installed"; exit 1; }
app="$TOP_BUILDDIR/tests/preload/plain_app"
if [ -x "$app" ]; then
    python3 - "$tmp/pets.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                "INSERT INTO pet(name) VALUES ('cat'), ('dog');")
c.commit()
PY
    serve_check "the installed dtb-run" 's/^port //p' "http://127.0.0.1:" "*2 pets; pet 2 is dog$page" \
        env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        LD_LIBRARY_PATH="$libdir" DTB_PRELOAD_LIB="$root$shim" "$runner" --enable -- \
        "$app" "$tmp/pets.db" poll 0
fi
echo "install-app: ok"
