#!/bin/bash
# hostile.sh - hostile input against the petshop demo, every case ending with the app's page
# served, nothing executed and nothing lost: script and quote payloads in the path, query, form,
# cookies, headers, search text (which becomes a SQL parameter, a cache key, a template variable
# and a log line); oversized headers, URLs and bodies; invalid UTF-8; binary junk labelled
# text/html; the toolbar's URLs with path traversal, unknown or malformed ids and forged
# signatures; and a client the toolbar must not answer.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
tmp=$(mktemp -d)
name=hostile
pid=""
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cleanup() {
    [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
alive() { # the app still serves its pages: the dogs page, whole, with the toolbar
    [ "$(curl_ -o "$tmp/alive" -w '%{http_code}' "$base/dogs")" = 200 ] &&
        grep -q '<title>Dogs' "$tmp/alive" && grep -q '<dtb-toolbar id="dtb-root"' "$tmp/alive" &&
        [ "$(tail -c 14 "$tmp/alive")" = '</body></html>' ] ||
        fail "the app stopped serving its page after: $1"
}
# every panel of the last request, rendered: the payload must appear only escaped
all_fragments_escaped() { # what
    local id p
    id=$(header "$tmp/h" X-Debug-Toolbar-Id)
    [ ${#id} = 16 ] || fail "$1: no toolbar id"
    record "$id"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/rec.json" || fail "$1: record is not JSON"
    grep -q 'alert(666)' "$tmp/rec.json" || fail "$1: the payload was lost from the record"
    for p in $(python3 -c 'import json,sys; print(" ".join(n["id"] for n in json.load(open(sys.argv[1]))["nav"]))' "$tmp/rec.json"); do
        curl_ -o "$tmp/frag.html" "$base/_debug_toolbar/api/requests/$id/panels/$p"
        if grep -q '<script>alert(666)\|<img src=x' "$tmp/frag.html"; then
            fail "$1: panel $p shows the payload as markup"
        fi
    done
    # the record as the toolbar's script reads it (record plus nav): JSON, served as JSON (never
    # sniffed as markup), the same record, and the payload in it as plain data: intact in the
    # decoded strings, not HTML-escaped twice (the panels escape it when they render)
    curl_ -D "$tmp/nav.h" -o "$tmp/nav.json" "$base/_debug_toolbar/api/requests/$id"
    [ "$(header "$tmp/nav.h" Content-Type)" = application/json ] || fail "$1: the record is served as $(header "$tmp/nav.h" Content-Type)"
    [ "$(header "$tmp/nav.h" X-Content-Type-Options)" = nosniff ] || fail "$1: the record may be sniffed as markup"
    python3 - "$tmp/nav.json" "$tmp/rec.json" "$id" "$P" <<'PY' || fail "$1: the record's nav is wrong"
import json, sys
n, r, i, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
assert n["id"] == i, n["id"]
assert n == r, "the record changed between two reads"
nav = n["nav"]
assert isinstance(nav, list) and len(nav) >= 4, nav
for e in nav:
    assert all(isinstance(e[k], str) for k in ("id", "title", "subtitle")), e
    assert e["id"] in n["panels"], e
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
s = list(strings(n))
assert any(p in x for x in s), "the payload is not intact anywhere in the record"
assert not any("&lt;script&gt;alert(666)" in x for x in s), "the payload was HTML-escaped into the data"
PY
}
# asserts on the last record ($tmp/rec.json): python statements with r (the record), req and
# hdr (its request and headers panels), p (the payload) and enc (the payload URL-encoded)
placed() { # what, python
    python3 - "$tmp/rec.json" "$P" "$ENC" "$2" <<'PY' || fail "$1"
import json, sys
r, p, enc = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
req, hdr = r["panels"]["request"], r["panels"]["headers"]
nav = {e["id"]: e for e in r["nav"]}
exec(sys.argv[4])
PY
}

P='<script>alert(666)</script><img src=x onerror=alert(666)>"'"'"'&'
ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$P")
printf '{"enabled": true}\n' >"$tmp/on.json"
start_petshop "$tmp/on.json"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$base/nowhere/$ENC")
[ "$code" = 404 ] && grep -q '<dtb-toolbar' "$tmp/body" || fail "hostile path: $code"
all_fragments_escaped "path"
placed "the path is not in the record's path, url and request panel" '
assert r["path"] == r["url"] == req["path"] == req["url"] == "/nowhere/" + p, (r["path"], r["url"], req)
assert r["status"] == 404 and r["injected"] is True, r
sub = nav["request"]["subtitle"].rstrip("\u2026")
assert len(sub) > 30 and ("GET /nowhere/" + p).startswith(sub), sub
'
ok "a script in the path: 404 page served, every panel escaped"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$base/search?q=$ENC&x=$ENC")
[ "$code" = 200 ] || fail "hostile search answered $code"
grep -q '<script>alert(666)' "$tmp/body" && fail "the app itself printed the payload raw"
all_fragments_escaped "query"
placed "the query is not in the request panel as its two fields" '
assert req["query"] == [["q", p], ["x", p]], req["query"]
assert r["path"] == "/search" and req["form"] == [] and req["cookies"] == [], req
'
python3 - "$tmp/rec.json" "$P" <<'PY' || fail "the search text did not reach SQL, cache, template and log intact"
import json, sys
r, p = json.load(open(sys.argv[1]))["panels"], sys.argv[2]
q = [x for x in r["sql"]["queries"] if "LIKE" in x["sql"]]
assert q and q[0]["params"][0] == p, q
assert r["cache"]["calls"][0]["key"] == "search:" + p, r["cache"]["calls"]
assert any(t["context"].get("q") == p for t in r["templates"]["templates"]), r["templates"]
assert any(p in l["message"] for l in r["logging"]["records"]), r["logging"]
PY
ok "a script in the query: the SQL parameter, cache key, template variable and log line keep it, every panel escapes it"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -H "X-Evil: $P" -b "evil=$ENC; other=$ENC" \
    -A "$P" -e "$P" "$base/dogs")
[ "$code" = 200 ] || fail "hostile headers answered $code"
all_fragments_escaped "headers and cookies"
placed "headers, cookies, user agent and referer are not each in their place" '
h = hdr["request"]
for name in ("X-Evil", "User-Agent", "Referer"):
    assert [name, p] in h, (name, h)
assert ["Cookie", "********"] in h, h  # the Cookie header is redacted (README: redact)
assert not any(v == p for n, v in h if n not in ("X-Evil", "User-Agent", "Referer")), h
assert req["cookies"] == [["evil", enc], ["other", enc]], req["cookies"]  # sent raw, kept raw
assert req["query"] == [] and req["form"] == [], req
'
ok "scripts in headers, cookies, user agent and referer: page served, every panel escaped"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' --data-urlencode "user=$P" \
    --data-urlencode "password=$P" --data-urlencode "note=$P" "$base/login")
[ "$code" = 401 ] || fail "hostile form answered $code"
all_fragments_escaped "form"
placed "the form fields are not each in their place, the password redacted" '
assert req["form"] == [["user", p], ["password", "********"], ["note", p]], req["form"]
assert req["method"] == "POST" and req["query"] == [] and req["cookies"] == [], req
'
ok "scripts in form fields: page served, escaped, password redacted"

# ---- sizes and bytes -----------------------------------------------------------------------------
big=$(head -c 100000 /dev/zero | tr '\0' 'a')
# libmicrohttpd refuses a request that does not fit its connection memory (32 KB by default)
# itself, before the app or the toolbar sees it: 431 for a header, 414 for a URL, then closes
hcode=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/dogs" || true)
[ "$hcode" = 431 ] || fail "an oversized header answered $hcode, not 431"
[ "$(header "$tmp/h" Connection)" = close ] || fail "an oversized header left the connection open"
alive "an oversized header ($hcode)"
ucode=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' "$base/dogs?q=$big" || true)
[ "$ucode" = 414 ] || fail "an oversized URL answered $ucode, not 414"
[ "$(header "$tmp/h" Connection)" = close ] || fail "an oversized URL left the connection open"
alive "an oversized URL ($ucode)"
head -c 5000000 /dev/urandom | base64 -w0 | sed 's/^/user=x\&password=/' >"$tmp/big.form"
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' --data-binary "@$tmp/big.form" "$base/login")
[ "$code" = 401 ] || fail "a 5 MB form answered $code"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
[ "$(wc -c <"$tmp/rec.json")" -lt 2000000 ] || fail "a 5 MB form made a $(wc -c <"$tmp/rec.json")-byte record"
alive "a 5 MB body"
ok "oversized header ($hcode), URL ($ucode) and 5 MB body: answered, the app alive, the record bounded"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -H $'X-Bytes: \xff\xfe\xc3\x28' \
    -b $'c=\xff\xfe' "$base/cats/%FF%FE?q=%C3%28%FF")
[ "$code" = 404 ] || fail "invalid UTF-8 in the path answered $code"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/rec.json" || fail "invalid UTF-8 broke the record"
code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$base/search?q=%FF%FE%3Cscript%3E")
[ "$code" = 200 ] || fail "invalid UTF-8 search answered $code"
record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
ok "invalid UTF-8 in path, query, header and cookie: pages served, records stored as valid JSON"

curl_ -D "$tmp/h" -o "$tmp/junk" "$base/junk"
printf '\000\377\376<body>\211PNG\r\n\032\n\000</body>\303(' | cmp -s - "$tmp/junk" || fail "binary junk was changed"
ok "binary junk labelled text/html: served byte for byte"

# ---- the toolbar's own URLs ----------------------------------------------------------------------
for u in "/_debug_toolbar/static/../../../../etc/passwd" "/_debug_toolbar/static/%2e%2e/%2e%2e/etc/passwd" \
    "/_debug_toolbar/static/..%2f..%2fetc%2fpasswd" "/_debug_toolbar/static/toolbar.js/../../x" \
    "/_debug_toolbar/static/"; do
    code=$(curl_ --path-as-is -o "$tmp/t" -w '%{http_code}' "$base$u")
    grep -q 'root:' "$tmp/t" && fail "$u served a system file"
    [ "$code" = 404 ] || fail "$u answered $code"
done
for id in ffffffffffffffff "../../etc/passwd" "$(head -c 3000 /dev/zero | tr '\0' 'f')" "%00" "0123456789abcdeg"; do
    code=$(curl_ --path-as-is -o "$tmp/t" -w '%{http_code}' "$base/_debug_toolbar/api/requests/$id")
    [ "$code" = 404 ] || [ "$code" = 400 ] || fail "request id '${id:0:20}' answered $code"
done
curl_ -D "$tmp/h" -o /dev/null "$base/cats"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
hostile_sig=$(python3 -c 'import json,sys; print(json.dumps({"request": sys.argv[1], "query": 1, "sig": sys.argv[2]}))' "$id" "$P")
for body in "{\"request\": \"$id\", \"query\": 1, \"sig\": \"$(printf '%064d' 0)\"}" \
    "{\"request\": \"$id\", \"query\": 1}" "$hostile_sig"; do
    code=$(curl_ -o "$tmp/t" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$base/_debug_toolbar/panels/sql/select")
    [ "$code" = 403 ] || fail "a forged signature answered $code: $(cat "$tmp/t")"
done
for body in "not json" "{\"request\": \"$P\", \"query\": 1}" "{\"request\": \"$id\", \"query\": -1}" ""; do
    code=$(curl_ -o "$tmp/t" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$base/_debug_toolbar/panels/sql/select")
    [ "$code" = 400 ] || fail "a malformed action answered $code: $(cat "$tmp/t")"
done
code=$(curl_ -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$base/_debug_toolbar/panels/sql/drop-table")
[ "$code" = 404 ] || fail "an unknown action answered $code"
alive "the toolbar's URLs"
ok "toolbar URLs: traversal, unknown and malformed ids, forged signatures and malformed actions refused"
stop_petshop

# ---- a client the toolbar must not answer ------------------------------------------------------
printf '{"enabled": true, "hosts": ["10.0.0.0/8"]}\n' >"$tmp/other.json"
start_petshop "$tmp/other.json"
curl_ -D "$tmp/h" -o "$tmp/body" "$base/cats"
grep -q '<dtb-toolbar' "$tmp/body" && fail "toolbar shown to a client outside hosts"
[ -z "$(header "$tmp/h" X-Debug-Toolbar-Id)" ] || fail "toolbar headers for a client outside hosts"
code=$(curl_ -o "$tmp/t" -w '%{http_code}' "$base/_debug_toolbar/api/requests")
[ "$code" = 404 ] || fail "the toolbar's URLs answered $code to a client outside hosts"
code=$(curl_ -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$base/_debug_toolbar/panels/sql/select")
[ "$code" != 200 ] && [ "$code" != 403 ] || fail "an action from outside hosts answered $code"
stop_petshop
ok "a client outside hosts: plain pages, the toolbar's URLs are the app's own 404"
