#!/bin/bash
# preload.sh - dtb-run: the toolbar in programs that were never built for it. An unmodified
# MHD + SQLite program (tests/preload/plain_app.c) in each of MHD's three threading modes: the
# toolbar injected, its SQL captured, its history served, one response object reused for every
# request, its own notify-completed callback and req_cls kept, response flags carried to the
# injected copy, JSON untouched, a file descriptor's page injected; with the toolbar off the pages are byte-identical to a run
# without dtb-run; preload.ports leaves another port alone. Then a real program from Debian's
# archive when it is installed (olad, from the ola package: its web UI is an MHD server).
set -euo pipefail
: "${TOP_BUILDDIR:?}"
app="$TOP_BUILDDIR/tests/preload/plain_app"
run="$TOP_BUILDDIR/tools/dtb-run"
export DTB_PRELOAD_LIB="$TOP_BUILDDIR/.libs/libdebugtoolbar-preload.so"
export LD_LIBRARY_PATH="$TOP_BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# an instrumented program under a preloaded instrumented shim: ASan need not come first
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
name=preload
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

python3 - "$tmp/pets.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                "INSERT INTO pet(name) VALUES ('cat'), ('dog'), ('owl');")
c.commit()
PY

start() { # [dtb-run args --] mode port [metrics port]: sets $base (and $mbase)
    : >"$tmp/out"
    "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    base="" mbase=""
    for _ in $(seq 1 100); do
        if grep -q '^port ' "$tmp/out"; then
            base="http://127.0.0.1:$(sed -n 's/^port //p' "$tmp/out")"
            if grep -q '^metrics ' "$tmp/out"; then
                mbase="http://127.0.0.1:$(sed -n 's/^metrics //p' "$tmp/out")"
            fi
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "the program did not start: $*"
}
stop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || fail "the program did not exit cleanly"
    pid=""
}
snippet='s|<dtb-toolbar id="dtb-root" data-id="\([0-9a-f]\{16\}\)"></dtb-toolbar><script src="/_debug_toolbar/static/toolbar.js?v=[0-9a-f]*" data-id="\1" async="async"></script>||'

# ---- the toolbar off: nothing changes --------------------------------------------------------
start "$app" "$tmp/pets.db" poll 0
for p in / /cached /legacy /json /fd /pipe /iovec; do curl_ -o "$tmp/plain$(echo $p | tr / _).out" "$base$p"; done
grep -q 'not a buffer' "$tmp/plain_fd.out" && cmp -s "$tmp/plain_fd.out" "$tmp/plain_pipe.out" &&
    cmp -s "$tmp/plain_fd.out" "$tmp/plain_iovec.out" || fail "the program's fd, pipe and iovec pages"
stop
start "$run" -- "$app" "$tmp/pets.db" poll 0
for p in / /cached /legacy /json /fd /pipe /iovec; do
    curl_ -D "$tmp/h" -o "$tmp/off.out" "$base$p"
    cmp -s "$tmp/off.out" "$tmp/plain$(echo $p | tr / _).out" || fail "$p differs under dtb-run with the toolbar off"
    [ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "$p: toolbar header while off"
done
stop
ok "toolbar off: every page byte-identical to the program run alone"

# ---- the toolbar on, in each threading mode ---------------------------------------------------
for mode in poll pool conn; do
    start "$run" --enable -- "$app" "$tmp/pets.db" "$mode" 0
    curl_ -D "$tmp/h" -o "$tmp/page.html" "$base/"
    grep -q '<p>3 pets; pet 2 is dog</p>' "$tmp/page.html" || fail "$mode: the page itself"
    [ "$(grep -o '<dtb-toolbar id="dtb-root"' "$tmp/page.html" | wc -l)" = 1 ] || fail "$mode: no toolbar in /"
    grep -q '</script></body></html>$' "$tmp/page.html" || fail "$mode: toolbar not before </body>"
    [ "$(header "$tmp/h" Content-Length)" = "$(wc -c <"$tmp/page.html")" ] || fail "$mode: Content-Length"
    id=$(header "$tmp/h" X-Debug-Toolbar-Id)
    record "$id"
    python3 - "$tmp/rec.json" <<'PY' || fail "$mode: the record of /"
import json, sys
r = json.load(open(sys.argv[1]))
q = r["panels"]["sql"]["queries"]
assert [x["sql"] for x in q] == ["SELECT count(*) FROM pet", "SELECT name FROM pet WHERE id = ?"], q
assert q[1]["params"] == [2] and q[1]["rows"] == 1 and q[1]["engine"] == "sqlite", q[1]
PY
    curl_ "$base/_debug_toolbar/api/requests" | grep -q "\"$id\"" || fail "$mode: not in the history"
    ids=""
    for i in 1 2 3; do
        curl_ -D "$tmp/h" -o "$tmp/cached.html" "$base/cached"
        [ "$(grep -c '<dtb-toolbar' "$tmp/cached.html")" = 1 ] || fail "$mode: /cached #$i has no toolbar"
        sed "$snippet" "$tmp/cached.html" | cmp -s - "$tmp/plain_cached.out" || fail "$mode: /cached #$i is not the page plus the toolbar"
        ids="$ids $(header "$tmp/h" X-Debug-Toolbar-Id)"
    done
    [ "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" = 3 ] || fail "$mode: the reused response got the same id twice"
    curl_ -o "$tmp/j" "$base/json"
    cmp -s "$tmp/j" "$tmp/plain_json.out" || fail "$mode: JSON changed"
    # a file descriptor's page is read and injected, a pipe's as it streams by; an iovec's body,
    # which the toolbar cannot see, passes through untouched
    for p in /fd /pipe; do
        curl_ -o "$tmp/u.out" "$base$p"
        [ "$(grep -c '<dtb-toolbar' "$tmp/u.out")" = 1 ] || fail "$mode: $p has no toolbar"
        sed "$snippet" "$tmp/u.out" | cmp -s - "$tmp/plain$(echo $p | tr / _).out" ||
            fail "$mode: $p is not the page plus the toolbar"
    done
    curl_ -o "$tmp/u.out" "$base/iovec"
    cmp -s "$tmp/u.out" "$tmp/plain_iovec.out" || fail "$mode: /iovec changed"
    # the one response object queued on eight connections at once: each gets its own copy
    cpids=()
    for i in 1 2 3 4 5 6 7 8; do
        curl_ -D "$tmp/ch$i" -o "$tmp/cc$i.html" "$base/cached" &
        cpids+=($!)
    done
    for p in "${cpids[@]}"; do wait "$p" || fail "$mode: a concurrent /cached failed"; done
    for i in 1 2 3 4 5 6 7 8; do
        [ "$(grep -c '<dtb-toolbar' "$tmp/cc$i.html")" = 1 ] || fail "$mode: concurrent /cached #$i has no toolbar"
        sed "$snippet" "$tmp/cc$i.html" | cmp -s - "$tmp/plain_cached.out" || fail "$mode: concurrent /cached #$i is not the page plus the toolbar"
        header "$tmp/ch$i" X-Debug-Toolbar-Id
    done >"$tmp/cids"
    [ "$(sort -u "$tmp/cids" | wc -l)" = 8 ] || fail "$mode: concurrent /cached ids: $(cat "$tmp/cids")"
    curl_ -v -o "$tmp/legacy.html" "$base/legacy" 2>"$tmp/v"
    grep -q '^< HTTP/1.0 200' "$tmp/v" || fail "$mode: MHD_RF_HTTP_1_0_SERVER lost on the injected copy"
    grep -q '<dtb-toolbar' "$tmp/legacy.html" || fail "$mode: /legacy has no toolbar"
    # its own callbacks, in their order: URI-log first (its pointer reaches the handler's first
    # call), the handler, notify-completed last (with the handler's req_cls); 17 requests
    # (/, /cached x 3, /json, /legacy, /fd, /pipe, /iovec, /cached x 8) then /stats
    for _ in $(seq 1 50); do
        curl_ -o "$tmp/stats" "$base/stats"
        grep -q '"completions": 17,' "$tmp/stats" && break
        sleep 0.1
    done
    python3 - "$tmp/stats" <<'PY' || fail "$mode: the program's own callbacks: $(cat "$tmp/stats")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["completions"] == 17 and s["req_cls_mismatches"] == 0, s
assert s["first_after_uri_log"] == s["completions"] + 1 and s["uri_logs"] >= s["first_after_uri_log"], s
PY
    stop
    ok "$mode: injected, SQL captured with params, history, a reused response injected per request (also on 8 connections at once), flags kept, JSON, an fd's and a pipe's page injected, an iovec body untouched, own URI-log and completion callbacks and req_cls kept in order"
done

# ---- one page in every form a program may serve it --------------------------------------------
reach="$TOP_BUILDDIR/tests/preload/reach_app"
mkdir -p "$tmp/reach"
# the page as the program serves it alone, and the bodies that must pass through untouched
start "$reach" "$tmp/reach" 0
codings=$(sed -n 's/^codings *//p' "$tmp/out")
curl_ -o "$tmp/ref.html" "$base/page"
for p in truncated bomb nosniff; do curl_ -o "$tmp/raw-$p" "$base/page/$p"; done
stop
check_page() { # FILE: the page plus exactly one toolbar, right before the real </body>
    python3 - "$1" "$tmp/ref.html" <<'PY'
import re, sys
got, ref = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
snip = re.compile(rb'<dtb-toolbar id="dtb-root" data-id="([0-9a-f]{16})"></dtb-toolbar><script src="/_debug_toolbar/static/toolbar.js\?v=[0-9a-f]*" data-id="\1" async="async"></script>')
hits = list(snip.finditer(got))
assert len(hits) == 1, "%d toolbars" % len(hits)
assert hits[0].start() == ref.rindex(b"</body>"), "toolbar at %d, </body> at %d" % (hits[0].start(), ref.rindex(b"</body>"))
assert snip.sub(b"", got) == ref, "the page's own bytes changed"
PY
}
reason_of() { # HEADERS-FILE: the skip reason in the request's record
    record "$(header "$1" X-Debug-Toolbar-Id)"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["skip_reason"])' "$tmp/rec.json"
}
start "$run" --enable -- "$reach" "$tmp/reach" 0 0
base2="http://127.0.0.1:$(sed -n 's/^port2 //p' "$tmp/out")"
[ -n "$codings" ] || echo "*** SKIP part: built without zlib, libbrotli and libzstd: encoded pages NOT tested"
for c in $codings; do
    curl_ -H "Accept-Encoding: $c" -D "$tmp/h" -o "$tmp/enc.html" "$base/page/$c"
    check_page "$tmp/enc.html" || fail "$c: the decoded page with the toolbar"
    [ -z "$(header "$tmp/h" Content-Encoding)" ] || fail "$c: still says Content-Encoding"
    [ "$(header "$tmp/h" Content-Length)" = "$(wc -c <"$tmp/enc.html")" ] || fail "$c: Content-Length"
    [ "$(grep -ci '^Vary:.*Accept-Encoding' "$tmp/h")" = 1 ] || fail "$c: Vary: Accept-Encoding not there once"
    # identity refused: re-encoded in the program's coding
    curl_ -H "Accept-Encoding: $c, identity;q=0" -D "$tmp/h" -o "$tmp/enc.raw" "$base/page/$c"
    [ "$(header "$tmp/h" Content-Encoding)" = "$c" ] || fail "$c: identity refused, but sent as $(header "$tmp/h" Content-Encoding)"
    [ "$(header "$tmp/h" Content-Length)" = "$(wc -c <"$tmp/enc.raw")" ] || fail "$c: re-encoded Content-Length"
    "$reach" --decode "$c" <"$tmp/enc.raw" >"$tmp/enc.html" || fail "$c: the re-encoded body does not decode"
    check_page "$tmp/enc.html" || fail "$c: the re-encoded page"
done
case " $codings " in *" gzip "*)
    curl_ -H "Accept-Encoding: GZip ; q=1, *;q=0" -D "$tmp/h" -o "$tmp/enc.raw" "$base/page/gzip"
    [ "$(header "$tmp/h" Content-Encoding)" = gzip ] || fail "gzip: *;q=0 refuses identity too"
    curl_ -H "Accept-Encoding: gzip, *;q=0, identity;q=0.5" -D "$tmp/h" -o "$tmp/enc.html" "$base/page/gzip"
    [ -z "$(header "$tmp/h" Content-Encoding)" ] && check_page "$tmp/enc.html" || fail "gzip: identity named beside *;q=0"
    # an injected page: the program's validators and cache policy do not describe it
    curl_ -H "Accept-Encoding: gzip" -D "$tmp/h" -o "$tmp/enc.html" "$base/page/gzip"
    [ -z "$(header "$tmp/h" ETag)$(header "$tmp/h" Last-Modified)" ] || fail "gzip: ETag or Last-Modified kept"
    [ "$(grep -ci '^Cache-Control:' "$tmp/h")" = 1 ] && [ "$(header "$tmp/h" Cache-Control)" = no-store ] ||
        fail "gzip: Cache-Control is not only no-store: $(grep -i '^Cache-Control:' "$tmp/h" | tr -d '\r')"
    for p in truncated bomb; do
        curl_ -H "Accept-Encoding: gzip" -D "$tmp/h" -o "$tmp/u.out" "$base/page/$p"
        cmp -s "$tmp/u.out" "$tmp/raw-$p" || fail "$p: changed"
        [ "$(header "$tmp/h" Content-Encoding)" = gzip ] || fail "$p: lost its Content-Encoding"
        [ -z "$(header "$tmp/h" X-Debug-Toolbar-Skip)" ] || fail "$p: says why to a client that did not navigate"
        r=$(reason_of "$tmp/h")
        case $p in
        truncated) [ "$r" = "encoded body does not decode" ] || fail "$p: reason $r" ;;
        bomb) [ "$r" = "decoded body over the size cap" ] || fail "$p: reason $r" ;;
        esac
        # a browser navigation is told why, in a header and in the history
        curl_ -H "Accept-Encoding: gzip" -H "Accept: text/html,*/*;q=0.8" -D "$tmp/h" -o "$tmp/u.out" "$base/page/$p"
        cmp -s "$tmp/u.out" "$tmp/raw-$p" || fail "$p: changed for a navigation"
        [ "$(header "$tmp/h" X-Debug-Toolbar-Skip)" = "$r" ] || fail "$p: X-Debug-Toolbar-Skip: $(header "$tmp/h" X-Debug-Toolbar-Skip)"
        id=$(header "$tmp/h" X-Debug-Toolbar-Id)
        record "$id"
        curl_ "$base/_debug_toolbar/api/requests" | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["id"] == sys.argv[1]]
assert rows and rows[0]["why_not"] == sys.argv[2], rows' "$id" "$r" || fail "$p: the history does not say why"
    done
    ;;
esac
# a file descriptor at an offset: read with pread, the program's file offset left where it was
for i in 1 2 3; do
    curl_ -D "$tmp/h" -o "$tmp/u.html" "$base/page/fd"
    check_page "$tmp/u.html" || fail "fd #$i: the page with the toolbar"
    [ "$(header "$tmp/h" Content-Length)" = "$(wc -c <"$tmp/u.html")" ] || fail "fd: Content-Length"
done
for _ in $(seq 1 50); do
    curl_ -o "$tmp/stats" "$base/stats"
    grep -q '"fd_done": 3,' "$tmp/stats" && break
    sleep 0.1
done
grep -q '"fd_done": 3, "fd_moved": 0,' "$tmp/stats" || fail "fd: the program's file offset: $(cat "$tmp/stats")"
# streams: a pipe, and content readers (known size; chunked, 1 byte and random sizes a call),
# the toolbar put in as they stream by
for p in pipe cb-known cb-1 cb-random; do
    curl_ -D "$tmp/h" -o "$tmp/u.html" "$base/page/$p"
    check_page "$tmp/u.html" || fail "$p: the streamed page with the toolbar"
    if [ "$p" = cb-known ]; then
        [ "$(header "$tmp/h" Content-Length)" = "$(wc -c <"$tmp/u.html")" ] || fail "$p: Content-Length"
    else
        [ "$(header "$tmp/h" Transfer-Encoding)" = chunked ] || fail "$p: not chunked"
    fi
done
# the program's free callback ran once for each reader, always with its own closure
for _ in $(seq 1 50); do
    curl_ -o "$tmp/stats" "$base/stats"
    grep -q '"cb_freed": 3,' "$tmp/stats" && break
    sleep 0.1
done
grep -q '"cb_freed": 3, "cb_bad": 0}' "$tmp/stats" || fail "callbacks: $(cat "$tmp/stats")"
curl_ -D "$tmp/h" -o "$tmp/u.html" "$base/page/untyped"
check_page "$tmp/u.html" || fail "untyped: the page with the toolbar"
[ -z "$(header "$tmp/h" Content-Type)" ] || fail "untyped: a Content-Type appeared"
curl_ -H "Sec-Fetch-Dest: document" -D "$tmp/h" -o "$tmp/u.out" "$base/page/nosniff"
cmp -s "$tmp/u.out" "$tmp/raw-nosniff" || fail "nosniff: changed"
[ "$(reason_of "$tmp/h")" = "no Content-Type and nosniff" ] || fail "nosniff: reason $(reason_of "$tmp/h")"
[ "$(header "$tmp/h" X-Debug-Toolbar-Skip)" = "no Content-Type and nosniff" ] || fail "nosniff: no X-Debug-Toolbar-Skip"
# which daemon: each record names the listening address that served it
curl_ -D "$tmp/h" -o /dev/null "$base/page"
id1=$(header "$tmp/h" X-Debug-Toolbar-Id)
curl_ -D "$tmp/h" -o /dev/null "$base2/page"
id2=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id2"
curl_ "$base/_debug_toolbar/api/requests" | python3 -c '
import json, sys
d = {r["id"]: r.get("daemon") for r in json.load(sys.stdin)}
assert d[sys.argv[1]] == sys.argv[3] and d[sys.argv[2]] == sys.argv[4], d' "$id1" "$id2" "${base#http://}" "${base2#http://}" ||
    fail "the records do not name their daemons"
stop
ok "one page as $codings (decoded, or re-encoded when identity is refused), from an fd at an offset (the program's offset unmoved), untyped, from a pipe and content readers (known size; chunked, 1 byte and random sizes a call; the free callback once, with its closure): one toolbar before the real </body>, the page's bytes otherwise identical; truncated gzip, a 1 GiB gzip bomb and nosniff untouched with their reasons (in X-Debug-Toolbar-Skip and the history for a navigation); injected pages no-store without validators; two daemons told apart"

# ---- preload.ports and preload.bind ---------------------------------------------------------
p1=$(free_port)
p2=$(free_port)
printf '{"enabled": true, "preload": {"ports": [%s], "bind": "127.0.0.1"}}\n' "$p1" >"$tmp/ports.json"
start "$run" --config "$tmp/ports.json" -- "$app" "$tmp/pets.db" poll "$p1" "$p2"
curl_ -o "$tmp/a.html" "$base/"
grep -q '<dtb-toolbar' "$tmp/a.html" || fail "the named port has no toolbar"
curl_ -D "$tmp/h" -o "$tmp/m.html" "$mbase/metrics"
grep -q '<dtb-toolbar' "$tmp/m.html" && fail "the other port got the toolbar"
[ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "the other port got the toolbar's headers"
curl_ -o "$tmp/tb.out" "$mbase/_debug_toolbar/api/requests"
grep -q 'pets; pet 2' "$tmp/tb.out" || fail "the toolbar's URLs answer on the other port: $(head -c 200 "$tmp/tb.out")"
stop
ok "preload.ports: the toolbar on port $p1 only"

printf '{"enabled": true, "preload": {"ports": "8080"}}\n' >"$tmp/bad.json"
set +e
"$run" --config "$tmp/bad.json" -- "$app" "$tmp/pets.db" poll 0 >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "bad.json:1:.*preload.ports" "$tmp/err" || fail "a bad config: exit $rc, $(cat "$tmp/err")"
ok "a bad config stops the program with the key and line: $(head -n 1 "$tmp/err")"

# ---- a program that links the library itself: not wrapped twice ------------------------------
petshop="$TOP_BUILDDIR/examples/petshop/petshop"
# (a demo built with the toolbar is a libtool wrapper over .libs/petshop; a bare one is not)
if [ -x "$TOP_BUILDDIR/examples/petshop/.libs/petshop" ]; then
    printf '{"enabled": true}\n' >"$tmp/petshop.json"
    : >"$tmp/out"
    "$run" --enable -- "$petshop" --port 0 --db "$tmp/p.db" --config "$tmp/petshop.json" \
        >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    base=""
    for _ in $(seq 1 100); do
        base=$(sed -n 's|^petshop: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/out")
        [ -n "$base" ] && break
        sleep 0.1
    done
    [ -n "$base" ] || fail "petshop did not start under dtb-run"
    curl_ -D "$tmp/h" -o "$tmp/cats.html" "$base/cats"
    [ "$(grep -o '<dtb-toolbar' "$tmp/cats.html" | wc -l)" = 1 ] || fail "petshop under dtb-run: not exactly one toolbar"
    [ "$(grep -ci '^X-Debug-Toolbar-Id:' "$tmp/h")" = 1 ] || fail "petshop under dtb-run: toolbar headers twice"
    record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["panels"]["sql"]["count"] == 11, r["panels"]["sql"]["count"]' "$tmp/rec.json" ||
        fail "petshop under dtb-run: its queries are not recorded exactly once"
    stop
    ok "a program that uses the library itself is wrapped once: one toolbar, 11 queries recorded once"
fi

# ---- a program from Debian's archive ------------------------------------------------------------
if [ -n "${SAN_CFLAGS:-}" ]; then
    echo "*** SKIP part: sanitizer build: olad is not instrumented, so the instrumented shim cannot be preloaded into it; the plain build runs this part"
    exit 0
fi
if ! command -v olad >/dev/null 2>&1; then
    echo "*** SKIP part: olad (Debian package ola) is not installed; dtb-run on a Debian program NOT tested"
    exit 0
fi
# olad refuses to run as root; its plugins are all disabled so that it opens no network port
# other than its web UI (on 127.0.0.1 through preload.bind) and its RPC port (loopback)
mkdir -p "$tmp/ola"
for p in artnet dummy e131 espnet ftdidmx gpio karate kinet milinst opendmx openpixelcontrol osc \
    pathport renard sandnet shownet spi stageprofi uartdmx usbdmx usbpro; do
    echo "enabled = false" >"$tmp/ola/ola-$p.conf"
done
chmod -R a+rwX "$tmp/ola"
as=()
[ "$(id -u)" = 0 ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --) # same PID
web=$(free_port)
rpc=$(free_port)
printf '{"enabled": true, "preload": {"bind": "127.0.0.1"}}\n' >"$tmp/ola.json"
chmod 644 "$tmp/ola.json"
# nobody must reach dtb-run and the shim: a build under a private folder (mode 0700, as
# mktemp -d makes) hides them from it
if [ ${#as[@]} -gt 0 ] && ! "${as[@]}" test -x "$run"; then
    echo "*** SKIP part: user nobody cannot reach $run (a folder above it is private); olad under dtb-run NOT tested"
    exit 0
fi
"${as[@]}" env DTB_PRELOAD_LIB="$DTB_PRELOAD_LIB" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" \
    ASAN_OPTIONS="$ASAN_OPTIONS" "$run" --config "$tmp/ola.json" -- \
    olad -c "$tmp/ola" -p "$web" -r "$rpc" --no-register-with-dns-sd --no-http-quit \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
base="http://127.0.0.1:$web"
for _ in $(seq 1 100); do
    curl_ -o /dev/null "$base/" && break
    kill -0 "$pid" 2>/dev/null || fail "olad did not start"
    sleep 0.1
done
curl_ -D "$tmp/h" -o "$tmp/ola.html" "$base/ola.html"
grep -q '<dtb-toolbar' "$tmp/ola.html" || fail "olad's ola.html has no toolbar"
grep -qi 'ola' "$tmp/ola.html" || fail "olad's page itself is gone"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
curl_ -o "$tmp/plugins.json" "$base/json/universe_plugin_list"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/plugins.json" || fail "olad's JSON API broke"
grep -q '<dtb-toolbar' "$tmp/plugins.json" && fail "toolbar in olad's JSON"
ss -ltn 2>/dev/null | grep -q "0.0.0.0:$web " && fail "olad's web UI listens beyond loopback"
kill -TERM "$pid"
wait "$pid" || true # olad's own exit status on SIGTERM
pid=""
ok "olad (Debian's ola) under dtb-run: its pages get the toolbar, its JSON API works"
