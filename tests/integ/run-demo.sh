#!/bin/bash
# run-demo.sh - the petshop demo, started as a user would (ephemeral loopback port, a fresh
# SQLite file), spoken to over HTTP with curl: the toolbar in its pages, not in its JSON, the
# toolbar's URLs, HEAD, redirects, 404, the disabled mode, a client that is not allowed, and
# a bad config that stops it with a message naming the key and line.
set -euo pipefail
: "${TOP_BUILDDIR:?}" "${TOP_SRCDIR:?}"
bin="$TOP_BUILDDIR/examples/petshop/petshop"
tmp=$(mktemp -d)
pid=""
stop() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        local rc=0
        wait "$pid" || rc=$?
        pid=""
        return $rc
    fi
}
cleanup() {
    stop || true
    rm -rf "$tmp"
}
trap cleanup EXIT
name=run-demo
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
start() { start_petshop "$@"; }
wait_record() { record "$@"; }

snippet_re='<dtb-toolbar id="dtb-root" data-id="\([0-9a-f]\{16\}\)"></dtb-toolbar><script src="/_debug_toolbar/static/toolbar.js?v=[0-9a-f]*" data-id="\1" async="async"></script>'

# ---- enabled ----------------------------------------------------------------------------------
printf '{"enabled": true}\n' >"$tmp/on.json"
start "$tmp/on.json"
code=$(curl_ -D "$tmp/h" -o "$tmp/cats.html" -w '%{http_code}' "$base/cats")
[ "$code" = 200 ] || fail "/cats answered $code"
case "$(header "$tmp/h" Content-Type)" in text/html*) ;; *) fail "/cats content type" ;; esac
[ "$(grep -o '<dtb-toolbar id="dtb-root"' "$tmp/cats.html" | wc -l)" = 1 ] || fail "/cats has not exactly one toolbar"
grep -q "</script></body></html>\$" "$tmp/cats.html" || fail "toolbar not right before </body>"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
[ ${#id} = 16 ] || fail "no X-Debug-Toolbar-Id"
[ -n "$(header "$tmp/h" Server-Timing)" ] || fail "no Server-Timing"
len=$(header "$tmp/h" Content-Length)
[ "$len" = "$(wc -c <"$tmp/cats.html")" ] || fail "Content-Length $len != body size"
page=$(sed "s|$snippet_re||" "$tmp/cats.html" | tr -d '\n' | wc -c)
[ "$page" -ge 19900 ] && [ "$page" -le 20100 ] || fail "/cats page is $page bytes, not 20000 +- 100"
ok "/cats: one toolbar before </body>, headers, Content-Length, page of $page bytes"

curl_ -D "$tmp/hh" -o /dev/null -I "$base/cats"
[ "$(header "$tmp/hh" Content-Length)" = "$len" ] || fail "HEAD Content-Length differs from GET"
ok "HEAD /cats: same Content-Length as GET"

curl_ -D "$tmp/hj" -o "$tmp/cats.json" "$base/api/cats"
grep -q dtb-toolbar "$tmp/cats.json" && fail "toolbar in JSON"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/cats.json")
[ "$n" = 10 ] || fail "/api/cats has $n items"
[ -n "$(header "$tmp/hj" X-Debug-Toolbar-Id)" ] || fail "JSON response has no X-Debug-Toolbar-Id"
ok "/api/cats: valid JSON, 10 items, no toolbar, id header"

curl_ -o "$tmp/big.html" "$base/big"
[ "$(grep -o '<dtb-toolbar id="dtb-root"' "$tmp/big.html" | wc -l)" = 1 ] || fail "/big has no toolbar"
ok "/big: toolbar injected"

code=$(curl_ -D "$tmp/hr" -o /dev/null -w '%{http_code}' "$base/old-cats")
[ "$code" = 302 ] && [ "$(header "$tmp/hr" Location)" = /cats ] || fail "/old-cats is not a 302 to /cats"
code=$(curl_ -o "$tmp/404.html" -w '%{http_code}' "$base/nowhere")
[ "$code" = 404 ] && grep -q '<dtb-toolbar' "$tmp/404.html" || fail "404 page"
ok "redirect and 404"

wait_record "$id"
python3 - "$tmp/rec.json" <<'PY' || fail "record JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["path"] == "/cats" and r["status"] == 200, r
for p in ("timer", "request", "headers", "config", "versions"):
    assert p in r["panels"], p
assert len(r["nav"]) >= 5
PY
curl_ -o "$tmp/list.json" "$base/_debug_toolbar/api/requests"
python3 - "$tmp/list.json" "$id" <<'PY' || fail "history list"
import json, sys
rows = json.load(open(sys.argv[1]))
assert any(r["id"] == sys.argv[2] and r["path"] == "/cats" for r in rows), rows
for r in rows:
    assert {"id", "method", "path", "status"} <= set(r), r
PY
code=$(curl_ -o "$tmp/timer.html" -w '%{http_code}' "$base/_debug_toolbar/api/requests/$id/panels/timer")
[ "$code" = 200 ] && grep -q '<table' "$tmp/timer.html" || fail "timer panel fragment"
code=$(curl_ -o "$tmp/nf.json" -w '%{http_code}' "$base/_debug_toolbar/api/requests/ffffffffffffffff")
[ "$code" = 404 ] && grep -q '"error"' "$tmp/nf.json" || fail "unknown id is not a 404 JSON error"
code=$(curl_ -D "$tmp/hs" -o /dev/null -w '%{http_code}' "$base/_debug_toolbar/static/toolbar.js")
[ "$code" = 200 ] && header "$tmp/hs" Content-Type | grep -q javascript || fail "toolbar.js"
ok "toolbar URLs: history, record, panel fragment, 404 JSON, static asset"
stop || fail "petshop did not exit cleanly on SIGTERM"
ok "stopped cleanly"

# ---- disabled ---------------------------------------------------------------------------------
printf '{"enabled": false}\n' >"$tmp/off.json"
start "$tmp/off.json"
curl_ -D "$tmp/h" -o "$tmp/cats.html" "$base/cats"
grep -q dtb-toolbar "$tmp/cats.html" && fail "toolbar while disabled"
[ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "id header while disabled"
code=$(curl_ -o /dev/null -w '%{http_code}' "$base/_debug_toolbar/api/requests")
[ "$code" = 404 ] || fail "toolbar URL answered $code while disabled"
stop
ok "disabled: plain pages, toolbar URLs are the app's 404"

# ---- client not allowed -----------------------------------------------------------------------
printf '{"enabled": true, "hosts": ["10.0.0.0/8"]}\n' >"$tmp/hosts.json"
start "$tmp/hosts.json"
curl_ -D "$tmp/h" -o "$tmp/cats.html" "$base/cats"
grep -q dtb-toolbar "$tmp/cats.html" && fail "toolbar for a client not allowed"
code=$(curl_ -o /dev/null -w '%{http_code}' "$base/_debug_toolbar/api/requests")
[ "$code" = 404 ] || fail "toolbar URL answered $code for a client not allowed"
stop
ok "client not allowed: nothing of the toolbar"

# ---- bad config -------------------------------------------------------------------------------
printf '{\n  "enabled": true,\n  "history_size": "ten"\n}\n' >"$tmp/bad.json"
rc=0
"$bin" --port 0 --db "$tmp/p.db" --config "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "bad config: exit status $rc, not 1"
grep -q "history_size" "$tmp/err" && grep -q ":3:" "$tmp/err" || fail "bad config message: $(cat "$tmp/err")"
ok "bad config: exit 1 with '$(cat "$tmp/err")'"
echo "run-demo: all checks passed"
