#!/bin/sh
# install-app.sh - `make install` into a temporary prefix, build examples/minimal/minimal.c
# against it with pkg-config exactly as the README says, run it, and see the toolbar in its
# page; the same with the libraries in the other order (libmicrohttpd before the toolbar: the
# explicit API relies on no symbol interposition); the installed dtb-run, whose shim path
# must be where make install put it; and examples/panel/hits.c, a third-party panel built
# against the installed headers alone: its settings (a bad one stops the toolbar with the key
# and line), its field and mark in History, its script, its signed action. Proves the
# installed files are complete.
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

# start_app NAME SED_EXPR CMD...: starts CMD in the background ($pid) and waits for the line of
# its output from which SED_EXPR picks its address ($found)
start_app() {
    name=$1 expr=$2
    shift 2
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
}

# stop_app NAME: stops what start_app started; it must exit cleanly
stop_app() {
    kill "$pid"
    wait "$pid" || { echo "install-app: $1 did not exit cleanly"; exit 1; }
    pid=""
}

# serve_check NAME SED_EXPR URL_PREFIX WANT CMD...: starts CMD, checks that the page at its
# address (appended to URL_PREFIX) matches the case pattern WANT, and stops it
serve_check() {
    name=$1 expr=$2 prefix=$3 want=$4
    shift 4
    start_app "$name" "$expr" "$@"
    body=$(curl -s --noproxy '*' "$prefix$found")
    # shellcheck disable=SC2254
    case "$body" in
    $want) echo "install-app: $name: toolbar injected" ;;
    *) echo "install-app: $name: no toolbar in: $body"; exit 1 ;;
    esac
    stop_app "$name"
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
# a third-party panel, against the installed headers only
# shellcheck disable=SC2086
${CC:-cc} ${SAN_CFLAGS:-} -Wall -Wextra -Werror "$TOP_SRCDIR/examples/panel/hits.c" \
    $cflags $others $libs -pthread -o "$tmp/hits" || { echo "install-app: hits.c did not build"; exit 1; }
cat >"$tmp/hits-bad.json" <<'EOF'
{
  "enabled": true,
  "panel_options": {
    "hits": {"warn_after": 0}
  }
}
EOF
if env LD_LIBRARY_PATH="$libdir" DTB_CONFIG="$tmp/hits-bad.json" "$tmp/hits" 0 >"$tmp/out" 2>"$tmp/err"; then
    echo "install-app: hits started with a bad setting"; exit 1
fi
grep -q "hits-bad.json:4:.*panel_options.hits.warn_after.*1 to 1000000" "$tmp/err" || {
    cat "$tmp/err"; echo "install-app: hits: the bad setting's error names no key and line"; exit 1; }
echo "install-app: hits: a bad setting stops it: $(cat "$tmp/err")"
cat >"$tmp/hits.json" <<'EOF'
{"enabled": true, "panel_options": {"hits": {"warn_after": 2, "label": "visits"}}}
EOF
start_app hits 's|^hits: serving on \(.*\)/$|\1|p' \
    env LD_LIBRARY_PATH="$libdir" DTB_CONFIG="$tmp/hits.json" "$tmp/hits" 0
base=$found
curl -s --noproxy '*' -o /dev/null "$base/"
id=$(curl -s --noproxy '*' -D - -o "$tmp/page.html" "$base/" | tr -d '\r' |
    sed -n 's/^[Xx]-[Dd]ebug-[Tt]oolbar-[Ii]d: //p')
[ -n "$id" ] || { echo "install-app: hits: no request id"; exit 1; }
grep -q '<dtb-toolbar id="dtb-root"' "$tmp/page.html" || { echo "install-app: hits: no toolbar"; exit 1; }
i=0
until curl -s --noproxy '*' -f -o "$tmp/rec.json" "$base/_debug_toolbar/api/requests/$id"; do
    i=$((i + 1))
    [ $i -lt 50 ] || { echo "install-app: hits: no record"; exit 1; }
    sleep 0.1
done
curl -s --noproxy '*' -o "$tmp/list.json" "$base/_debug_toolbar/api/requests"
python3 - "$tmp/rec.json" "$tmp/list.json" "$id" >"$tmp/body.json" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
hits = rec["panels"]["hits"]
assert hits["count"] == 2 and hits["label"] == "visits", hits
nav = [n for n in rec["nav"] if n["id"] == "hits"]
assert nav and nav[0]["subtitle"] == "2 visits" and nav[0]["script"] == "panel-hits.js", rec["nav"]
assert nav[0]["style"] == "panel-hits.css", rec["nav"]
rows = json.load(open(sys.argv[2]))
rows = rows["requests"] if isinstance(rows, dict) else rows
line = [r for r in rows if r["id"] == sys.argv[3]]
assert line and line[0]["hits"] == 2, line
assert any(m["panel"] == "hits" and m["text"] == "hot" for m in line[0].get("marks", [])), line
print(json.dumps({"path": hits["path"], "sig": hits["sig"]}))
PY
js=$(curl -s --noproxy '*' -D "$tmp/js.h" "$base/_debug_toolbar/static/panel-hits.js")
case "$js" in
*'debugToolbarModules["panel-hits.js"]'*) ;;
*) echo "install-app: hits: its script is not served: $js"; exit 1 ;;
esac
grep -qi '^content-type: text/javascript' "$tmp/js.h" || { echo "install-app: hits: script type"; exit 1; }
css=$(curl -s --noproxy '*' -D "$tmp/css.h" "$base/_debug_toolbar/static/panel-hits.css")
case "$css" in
*'.hits-reset'*) ;;
*) echo "install-app: hits: its stylesheet is not served: $css"; exit 1 ;;
esac
grep -qi '^content-type: text/css' "$tmp/css.h" || { echo "install-app: hits: stylesheet type"; exit 1; }
post() { # body: prints the answer and the status
    curl -s --noproxy '*' -w ' %{http_code}' -H 'Content-Type: application/json' \
        --data-binary "$1" "$base/_debug_toolbar/panels/hits/reset"
}
answer=$(post "$(cat "$tmp/body.json")")
case "$answer" in
*'"before": 2'*' 200' | *'"before":2'*' 200') ;;
*) echo "install-app: hits: reset answered: $answer"; exit 1 ;;
esac
sig=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sig"])' "$tmp/body.json")
forged=$(post '{"path": "/other", "sig": "'"$sig"'"}')
case "$forged" in
*' 403') ;;
*) echo "install-app: hits: a signature for another path was taken: $forged"; exit 1 ;;
esac
echo "install-app: hits: its field and mark in History, its script, its reset action (a forged one refused)"
stop_app hits
echo "install-app: ok"
