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
alive() { # the app still serves its pages
    [ "$(curl_ -o /dev/null -w '%{http_code}' "$base/dogs")" = 200 ] || fail "the app stopped serving after: $1"
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
    curl_ -o "$tmp/nav.json" "$base/_debug_toolbar/api/requests/$id"
}

P='<script>alert(666)</script><img src=x onerror=alert(666)>"'"'"'&'
ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$P")
printf '{"enabled": true}\n' >"$tmp/on.json"
start_petshop "$tmp/on.json"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$base/nowhere/$ENC")
[ "$code" = 404 ] && grep -q '<dtb-toolbar' "$tmp/body" || fail "hostile path: $code"
all_fragments_escaped "path"
ok "a script in the path: 404 page served, every panel escaped"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$base/search?q=$ENC&x=$ENC")
[ "$code" = 200 ] || fail "hostile search answered $code"
grep -q '<script>alert(666)' "$tmp/body" && fail "the app itself printed the payload raw"
all_fragments_escaped "query"
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
ok "scripts in headers, cookies, user agent and referer: page served, every panel escaped"

code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' --data-urlencode "user=$P" \
    --data-urlencode "password=$P" --data-urlencode "note=$P" "$base/login")
[ "$code" = 401 ] || fail "hostile form answered $code"
all_fragments_escaped "form"
grep -q 'alert(666)' <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(r["panels"]["request"]["form"]))' "$tmp/rec.json") ||
    fail "the form fields were lost"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); f=dict(r["panels"]["request"]["form"]); assert f["password"]=="********", f' "$tmp/rec.json" ||
    fail "the password field is not redacted"
ok "scripts in form fields: page served, escaped, password redacted"

# ---- sizes and bytes -----------------------------------------------------------------------------
big=$(head -c 100000 /dev/zero | tr '\0' 'a')
hcode=$(curl_ -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/dogs" || true)
case "$hcode" in 2*|4*|000) ;; *) fail "an oversized header answered $hcode" ;; esac
alive "an oversized header ($hcode)"
ucode=$(curl_ -o /dev/null -w '%{http_code}' "$base/dogs?q=$big" || true)
case "$ucode" in 2*|4*|000) ;; *) fail "an oversized URL answered $ucode" ;; esac
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
    code=$(curl_ -o "$tmp/t" -w '%{http_code}' -X POST -d "$body" "$base/_debug_toolbar/sql/select")
    [ "$code" = 403 ] || fail "a forged signature answered $code: $(cat "$tmp/t")"
done
for body in "not json" "{\"request\": \"$P\", \"query\": 1}" "{\"request\": \"$id\", \"query\": -1}" ""; do
    code=$(curl_ -o "$tmp/t" -w '%{http_code}' -X POST -d "$body" "$base/_debug_toolbar/sql/select")
    [ "$code" = 400 ] || fail "a malformed action answered $code: $(cat "$tmp/t")"
done
code=$(curl_ -o /dev/null -w '%{http_code}' -X POST -d '{}' "$base/_debug_toolbar/sql/drop-table")
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
code=$(curl_ -o /dev/null -w '%{http_code}' -X POST -d '{}' "$base/_debug_toolbar/sql/select")
[ "$code" != 200 ] && [ "$code" != 403 ] || fail "an action from outside hosts answered $code"
stop_petshop
ok "a client outside hosts: plain pages, the toolbar's URLs are the app's own 404"
