#!/bin/bash
# host-gate.sh - who gets the toolbar, against the petshop demo over HTTP: a page or a toolbar
# URL asked for under a name that is not this server's (DNS rebinding) is the app's own, without
# the toolbar; IP literals, localhost, *.localhost and allowed_hosts names get it; the SQL action
# refuses a text/plain or form body, another Origin and a cross-site Sec-Fetch-Site (the app's own
# answer, as for a client outside `hosts`), and runs for a same-origin JSON request; proxy headers from a peer that is not a trusted proxy get no
# toolbar (said once in the log), and behind a trusted proxy the address the headers name is
# what `hosts` is checked against.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
tmp=$(mktemp -d)
name=host-gate
pid=""
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cleanup() {
    [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
P=/_debug_toolbar

# has_toolbar WHAT [curl options] PATH: the page carries the toolbar (snippet and id header)
has_toolbar() {
    local what=$1 path=${*: -1}
    code=$(curl_ -D "$tmp/h" -o "$tmp/page" -w '%{http_code}' "${@:2:$#-2}" "$base$path")
    [ "$code" = 200 ] || fail "$what: $path answered $code"
    grep -q '<dtb-toolbar id="dtb-root"' "$tmp/page" || fail "$what: no toolbar in $path"
    id=$(header "$tmp/h" X-Debug-Toolbar-Id)
    [ ${#id} = 16 ] || fail "$what: no X-Debug-Toolbar-Id"
}
# no_toolbar WHAT [curl options] PATH: the page as the app sends it, nothing of the toolbar
no_toolbar() {
    local what=$1 path=${*: -1}
    code=$(curl_ -D "$tmp/h" -o "$tmp/page" -w '%{http_code}' "${@:2:$#-2}" "$base$path")
    [ "$code" = 200 ] || fail "$what: $path answered $code"
    grep -q 'dtb-toolbar\|_debug_toolbar' "$tmp/page" && fail "$what: the toolbar is in $path"
    [ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "$what: an X-Debug-Toolbar-Id header"
    [ -z "$(header "$tmp/h" Server-Timing)" ] || fail "$what: a Server-Timing header"
}
# app_404 WHAT [curl options] URL-PATH: exactly the app's own 404 page ($tmp/app404: /nowhere
# without the toolbar)
app_404() {
    local what=$1 path=${*: -1}
    code=$(curl_ -D "$tmp/h" -o "$tmp/t" -w '%{http_code}' "${@:2:$#-2}" "$base$path")
    [ "$code" = 404 ] || fail "$what: $path answered $code: $(head -c 200 "$tmp/t")"
    cmp -s "$tmp/t" "$tmp/app404" || fail "$what: $path is not the app's own 404: $(head -c 200 "$tmp/t")"
    [ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "$what: an X-Debug-Toolbar-Id header"
}
# toolbar_answers WHAT [curl options]: the history is served (JSON)
toolbar_answers() {
    local what=$1
    code=$(curl_ -D "$tmp/h" -o "$tmp/t" -w '%{http_code}' "${@:2}" "$base$P/api/requests")
    [ "$code" = 200 ] || fail "$what: the history answered $code"
    python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)' "$tmp/t" ||
        fail "$what: the history is not a JSON list"
}

# ---- Host --------------------------------------------------------------------------------------
printf '{"enabled": true, "allowed_hosts": ["dev.example.test", ".corp.test"]}\n' >"$tmp/on.json"
start_petshop "$tmp/on.json"
port=${base##*:}
curl_ -o "$tmp/app404" -H 'Host: attacker.example:8080' "$base/nowhere"
grep -q '<h1>Not found' "$tmp/app404" || fail "the app's 404 page is not what this test expects"
grep -q 'dtb-toolbar' "$tmp/app404" && fail "the toolbar is in the 404 page of a refused Host"

for h in "attacker.example:8080" "attacker.example" "localhost.attacker.example:$port" \
    "127.0.0.1.nip.io:$port" "xlocalhost:$port" "evil-corp.test" "corp.test.attacker.example" \
    "dev.example.test.attacker.example" "[::1" "[::1]x" "::1" "127.0.0.1:99999" "127.0.0.1:x" \
    "localhost:$port:1"; do
    app_404 "Host '$h'" -H "Host: $h" "$P/api/requests"
    app_404 "Host '$h', a record" -H "Host: $h" "$P/api/requests/0123456789abcdef"
    app_404 "Host '$h', an asset" -H "Host: $h" "$P/static/toolbar.js"
    no_toolbar "Host '$h'" -H "Host: $h" /cats
done
ok "a name that is not this server's (DNS rebinding): the app's own 404 for the toolbar's URLs, pages without the toolbar"

for h in "127.0.0.1:$port" "127.0.0.1" "[::1]:$port" "[::1]" "localhost:$port" "LocalHost" \
    "localhost.:$port" "foo.localhost:$port" "a.b.localhost" "dev.example.test:$port" \
    "DEV.Example.Test" "corp.test" "a.b.corp.test:80" "10.1.2.3:8080"; do
    has_toolbar "Host '$h'" -H "Host: $h" /cats
    toolbar_answers "Host '$h'" -H "Host: $h"
done
# HTTP/1.0 without a Host: no name that could have been rebound
has_toolbar "HTTP/1.0 without Host" --http1.0 -H 'Host:' /cats
toolbar_answers "HTTP/1.0 without Host" --http1.0 -H 'Host:'
ok "IP literals, localhost, *.localhost, allowed_hosts names (any port) and HTTP/1.0 without Host get the toolbar"
grep -q 'Host "attacker.example:8080".*allowed_hosts' "$tmp/err" || fail "the refused Host is not in the log"
[ "$(grep -c 'no toolbar for a request to Host' "$tmp/err")" = 1 ] || fail "the refused Host was not logged exactly once"
ok "the refused Host is said once in the log, naming allowed_hosts"

# ---- the SQL action ------------------------------------------------------------------------------
has_toolbar "a page with SQL" /cats
record "$id"
sig=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["panels"]["sql"]["queries"][1]["sig"])' "$tmp/rec.json")
body="{\"request\": \"$id\", \"query\": 1, \"sig\": \"$sig\"}"
origin="http://127.0.0.1:$port"
action() { # expected-status what [curl options]
    local want=$1 what=$2
    code=$(curl_ -D "$tmp/h" -o "$tmp/rows.json" -w '%{http_code}' -X POST "${@:3}" --data-binary "$body" \
        "$base$P/panels/sql/select")
    if [ "$want" = 200 ]; then
        [ "$code" = 200 ] && grep -q '"cat-1"' "$tmp/rows.json" || fail "$what: $code $(head -c 200 "$tmp/rows.json")"
    else
        [ "$code" = "$app_post_code" ] && cmp -s "$tmp/rows.json" "$tmp/app_post" ||
            fail "$what was not refused as the app's own answer: $code $(head -c 200 "$tmp/rows.json")"
        grep -q '"cat-1"' "$tmp/rows.json" && fail "$what: rows were sent"
    fi
    return 0
}
json='Content-Type: application/json'
# what the app itself answers a POST to a URL it does not have (the demo: 405, GET and HEAD only)
app_post_code=$(curl_ -o "$tmp/app_post" -w '%{http_code}' -X POST -H "$json" --data-binary "$body" "$base/nowhere")
[ "$app_post_code" = 405 ] || fail "the app answers a POST to /nowhere with $app_post_code"
action 200 "a same-origin JSON POST" -H "$json" -H "Origin: $origin" -H 'Sec-Fetch-Site: same-origin'
action 200 "a JSON POST without Origin and Sec-Fetch-Site" -H "$json"
action 200 "a JSON POST with a charset" -H 'Content-Type: Application/JSON; charset=utf-8' -H "Origin: $origin"
action 404 "a text/plain POST" -H 'Content-Type: text/plain' -H "Origin: $origin"
action 404 "a text/plain POST without Origin" -H 'Content-Type: text/plain'
action 404 "a form POST" -H 'Content-Type: application/x-www-form-urlencoded'
action 404 "a POST without Content-Type" -H 'Content-Type:'
action 404 "an application/jsonx POST" -H 'Content-Type: application/jsonx'
action 404 "a cross-origin JSON POST" -H "$json" -H 'Origin: http://attacker.example:8080'
action 404 "a JSON POST from another port" -H "$json" -H "Origin: http://127.0.0.1:1"
action 404 "a JSON POST from an opaque origin" -H "$json" -H 'Origin: null'
action 404 "a Sec-Fetch-Site: cross-site POST" -H "$json" -H 'Sec-Fetch-Site: cross-site'
action 404 "a Sec-Fetch-Site: same-site POST" -H "$json" -H 'Sec-Fetch-Site: same-site'
action 404 "a rebound same-origin JSON POST" -H "$json" -H 'Host: attacker.example:8080' \
    -H 'Origin: http://attacker.example:8080' -H 'Sec-Fetch-Site: same-origin'
code=$(curl_ -D "$tmp/h" -o "$tmp/t" -w '%{http_code}' -X OPTIONS -H 'Origin: http://attacker.example:8080' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' "$base$P/panels/sql/select")
[ "$code" = "$app_post_code" ] && cmp -s "$tmp/t" "$tmp/app_post" || fail "a cross-origin preflight answered $code"
grep -qi '^Access-Control-Allow' "$tmp/h" && fail "a cross-origin preflight was allowed"
action 200 "the same-origin JSON POST, once more" -H "$json" -H "Origin: $origin"
ok "the SQL action: same-origin JSON runs it; text/plain, form, other Origins, cross-site fetches and preflights get the app's own answer"
stop_petshop

# ---- proxy headers from a peer that is not a trusted proxy ------------------------------------
printf '{"enabled": true}\n' >"$tmp/plain.json"
start_petshop "$tmp/plain.json"
has_toolbar "a direct request" /cats
for fh in 'X-Forwarded-For: 127.0.0.1' 'Forwarded: for=127.0.0.1' 'X-Real-IP: 127.0.0.1' \
    'x-forwarded-for: 203.0.113.9'; do
    no_toolbar "'$fh' from a peer outside trusted_proxies" -H "$fh" /cats
    app_404 "'$fh' from a peer outside trusted_proxies" -H "$fh" "$P/api/requests"
done
grep -q 'no toolbar for a request from 127.0.0.1: it carries X-Forwarded-For.*"trusted_proxies"' "$tmp/err" ||
    fail "the untrusted proxy is not said in the log: $(cat "$tmp/err")"
[ "$(grep -c 'trusted_proxies' "$tmp/err")" = 1 ] || fail "the untrusted proxy was not logged exactly once"
ok "Forwarded, X-Forwarded-For or X-Real-IP from a peer outside trusted_proxies: no toolbar, said once in the log"
stop_petshop

# ---- behind a trusted proxy ----------------------------------------------------------------------
printf '{"enabled": true, "hosts": ["192.0.2.0/24"], "trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}\n' >"$tmp/proxy.json"
start_petshop "$tmp/proxy.json"
no_toolbar "the proxy's own request" /cats
app_404 "the proxy's own request" "$P/api/requests"
xff='X-Forwarded-For: 192.0.2.7'
has_toolbar "an allowed client behind the proxy" -H "$xff" /cats
toolbar_answers "an allowed client behind the proxy" -H "$xff"
for _ in $(seq 1 400); do
    code=$(curl_ -o "$tmp/rec.json" -w '%{http_code}' -H "$xff" "$base$P/api/requests/$id")
    [ "$code" = 200 ] && break
    sleep 0.05
done
[ "$code" = 200 ] || fail "the record behind the proxy was never stored ($code)"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["panels"]["request"]["client"]; assert c == "192.0.2.7", c' "$tmp/rec.json" ||
    fail "the record's client is not the address the proxy named"
for fh in 'X-Forwarded-For: 192.0.2.7, 127.0.0.1' 'X-Forwarded-For: 192.0.2.7,10.1.1.1, 127.0.0.1' \
    'X-Forwarded-For: 10.0.0.1, 192.0.2.250' 'X-Forwarded-For: [2001:db8::1]:1, 192.0.2.8:4711' \
    'Forwarded: for="192.0.2.8:4711";proto=http' 'Forwarded: for=198.51.100.1, For=192.0.2.9;by=10.0.0.2' \
    'Forwarded: proto=https;for="[::1]", for=192.0.2.10' 'X-Real-IP: 192.0.2.11'; do
    has_toolbar "'$fh' behind the proxy" -H "$fh" /cats
done
for fh in 'X-Forwarded-For: 198.51.100.1' 'X-Forwarded-For: 192.0.2.7, 198.51.100.1' \
    'X-Forwarded-For: 198.51.100.1, 127.0.0.1' 'X-Forwarded-For: 127.0.0.1' \
    'X-Forwarded-For: unknown' 'X-Forwarded-For: 192.0.2.7, junk' 'X-Forwarded-For:  , ' \
    'Forwarded: for=unknown' 'Forwarded: for=_hidden' 'Forwarded: by=192.0.2.7' \
    'Forwarded: for=192.0.2.7, for=198.51.100.1' 'X-Real-IP: 198.51.100.1' \
    'X-Real-IP: 192.0.2.7, 192.0.2.8'; do
    no_toolbar "'$fh' behind the proxy" -H "$fh" /cats
    app_404 "'$fh' behind the proxy" -H "$fh" "$P/api/requests"
done
# a header the proxy does not set is the client's own: it cannot widen what the proxy's allows
no_toolbar "a forged X-Real-IP beside the proxy's X-Forwarded-For" -H 'X-Real-IP: 192.0.2.7' \
    -H 'X-Forwarded-For: 198.51.100.1' /cats
no_toolbar "a forged Forwarded beside the proxy's X-Forwarded-For" -H 'Forwarded: for=192.0.2.7' \
    -H 'X-Forwarded-For: 198.51.100.1' /cats
# two X-Forwarded-For lines are one list: the client's forged line, then the proxy's
no_toolbar "a forged X-Forwarded-For line before the proxy's" -H 'X-Forwarded-For: 192.0.2.7' \
    -H 'X-Forwarded-For: 198.51.100.1' /cats
has_toolbar "two X-Forwarded-For lines naming an allowed client" -H 'X-Forwarded-For: 198.51.100.1' \
    -H 'X-Forwarded-For: 192.0.2.7' /cats
grep -q 'trusted_proxies' "$tmp/err" && fail "a trusted proxy was logged as untrusted"
ok "behind a trusted proxy: the rightmost untrusted address of X-Forwarded-For / Forwarded, or X-Real-IP, is checked against hosts"
stop_petshop
