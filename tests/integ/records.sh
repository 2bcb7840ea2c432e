#!/bin/bash
# records.sh - what the petshop demo records about hostile requests stays bounded, redacted and
# whole: a form of 250,000 fields (1 MB) does not grow the process by more than 20 MB, its record
# keeps record_max_pairs fields and says how many more there were, and the app keeps serving
# while the history is read; secret-named values (normalised names, the widened defaults,
# session cookies, a token in a Referer's query, a 200-character name) appear neither in the
# stored record nor in any rendered panel; one invalid UTF-8 byte in a header or a query
# argument becomes U+FFFD and every other header, argument and cookie is still recorded.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
tmp=$(mktemp -d)
name=records
pid=""
lister=""
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cleanup() {
    [ -n "$lister" ] && { kill -TERM "$lister" 2>/dev/null || true; wait "$lister" 2>/dev/null || true; }
    [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"; }
# every panel of request $1, rendered, into $tmp/panels.html
render_all() {
    local p
    : >"$tmp/panels.html"
    for p in $(python3 -c 'import json,sys; print(" ".join(n["id"] for n in json.load(open(sys.argv[1]))["nav"]))' "$tmp/rec.json"); do
        curl_ "$base/_debug_toolbar/api/requests/$1/panels/$p" >>"$tmp/panels.html" || fail "panel $p of $1"
    done
    [ -s "$tmp/panels.html" ] || fail "no panel of $1 rendered"
}

printf '{"enabled": true}\n' >"$tmp/on.json"
# AddressSanitizer's quarantine holds freed memory back from the system: keep it small, so that
# what is measured is what the process keeps
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=4"
start_petshop "$tmp/on.json"

# ---- a form of 250,000 fields --------------------------------------------------------------------
for u in /cats /dogs /login /search?q=cat; do curl_ -o /dev/null "$base$u"; done # warm up
python3 -c 'import sys; sys.stdout.write("a=1&" * 250000)' >"$tmp/bomb.form"
before=$(rss_kb)
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' --data-binary "@$tmp/bomb.form" "$base/login")
[ "$code" = 401 ] || fail "the 250,000-field form answered $code"
bomb=$(header "$tmp/h" X-Debug-Toolbar-Id)
[ ${#bomb} = 16 ] || fail "no toolbar id for the form"
after=$(rss_kb)
# the history read builds the record: the app's pages are served meanwhile
(for _ in 1 2 3; do curl_ -o /dev/null "$base/_debug_toolbar/api/requests"; done) &
lister=$!
code=$(curl_ -D "$tmp/h" -o "$tmp/cats" -w '%{http_code}' "$base/cats")
[ "$code" = 200 ] && grep -q '<title>Cats' "$tmp/cats" && grep -q '<dtb-toolbar id="dtb-root"' "$tmp/cats" ||
    fail "/cats after the form answered $code"
wait "$lister" || fail "the history list failed"
lister=""
record "$bomb"
read_kb=$(rss_kb)
growth=$((after - before))
read_growth=$((read_kb - before))
echo "$name: RSS ${before} kB before the form, ${after} kB after it, ${read_kb} kB after the history read"
[ "$growth" -lt 20480 ] || fail "a 1 MB form of 250,000 fields grew the process by $growth kB"
[ "$read_growth" -lt 20480 ] || fail "reading its record grew the process by $read_growth kB"
python3 - "$tmp/rec.json" <<'PY' || fail "the form's record does not say what was not recorded"
import json, sys
r = json.load(open(sys.argv[1]))
req = r["panels"]["request"]
assert len(req["form"]) == 500 and req["form"][0] == ["a", "1"], len(req["form"])
assert req["omitted"]["form"] == 249500, req["omitted"]
assert req["omitted"]["query"] == 0 and req["omitted"]["cookies"] == 0, req["omitted"]
assert r["truncated"] == [], r["truncated"]
PY
render_all "$bomb"
grep -q '249500 more not recorded' "$tmp/panels.html" || fail "the Request panel does not show the fields not recorded"
ok "250,000 form fields: +$growth kB, +$read_growth kB after the history read, 500 recorded and 249500 counted; /cats served meanwhile"

# ---- redaction by rule ---------------------------------------------------------------------------
long=X-$(head -c 190 /dev/zero | tr '\0' 'a')-Secret # 200 characters
q='api-key=S3cr-q1&pwd=S3cr-q2&passphrase=S3cr-q3&private_key=S3cr-q4&jwt=S3cr-q5&monkey=banana&keyword=kw&side=left'
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' -H 'X-API-Key: S3cr-h1' -H "$long: S3cr-h2" \
    -H 'Referer: http://127.0.0.1/cats?token=S3cr-h3&page=2' -H 'X-Original-URL: /cb#access_token=S3cr-h4&state=st' \
    -b 'PHPSESSID=S3cr-c1; sid=S3cr-c2; connect.sid=S3cr-c3; theme=dark' "$base/cats?$q")
[ "$code" = 200 ] || fail "the request with secrets answered $code"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
render_all "$id"
grep -o 'S3cr-[a-z0-9]*' "$tmp/rec.json" && fail "a secret is in the stored record"
grep -o 'S3cr-[a-z0-9]*' "$tmp/panels.html" && fail "a secret is in a rendered panel"
python3 - "$tmp/rec.json" "$long" <<'PY' || fail "the redacted record lost what is not secret"
import json, sys
r, long = json.load(open(sys.argv[1])), sys.argv[2]
req, hdr = r["panels"]["request"], dict(r["panels"]["headers"]["request"])
R = "********"
assert req["query"] == [["api-key", R], ["pwd", R], ["passphrase", R], ["private_key", R], ["jwt", R],
                        ["monkey", "banana"], ["keyword", "kw"], ["side", "left"]], req["query"]
assert req["cookies"] == [["PHPSESSID", R], ["sid", R], ["connect.sid", R], ["theme", "dark"]], req["cookies"]
assert hdr["X-API-Key"] == R and hdr[long] == R, hdr
assert hdr["Referer"] == "http://127.0.0.1/cats?token=" + R + "&page=2", hdr["Referer"]
assert hdr["X-Original-URL"] == "/cb#access_token=" + R + "&state=st", hdr["X-Original-URL"]
PY
grep -q 'banana' "$tmp/panels.html" && grep -q 'page=2' "$tmp/panels.html" || fail "the panels lost what is not secret"
# a form: the password field and its look-alikes
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' -d 'user=bob&password=S3cr-f1&pwd=S3cr-f2&Pass-Phrase=S3cr-f3&note=hi' "$base/login")
[ "$code" = 401 ] || fail "the login with secrets answered $code"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
render_all "$id"
grep -o 'S3cr-[a-z0-9]*' "$tmp/rec.json" "$tmp/panels.html" && fail "a form secret is shown"
grep -q '"note","hi"' "$tmp/rec.json" || fail "the form lost a plain field"
ok "X-API-Key, ?api-key, pwd, passphrase, private_key, jwt, PHPSESSID, sid, connect.sid, a Referer's token, a 200-character name: redacted in the record and every panel"

# ---- invalid UTF-8 -------------------------------------------------------------------------------
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' -H $'X-Bad: \xff' -H 'X-After: kept' \
    -b 'c1=one; c2=two' "$base/cats?a=%ff&b=2&c=%C3%A9")
[ "$code" = 200 ] || fail "invalid UTF-8 answered $code"
id=$(header "$tmp/h" X-Debug-Toolbar-Id)
record "$id"
python3 - "$tmp/rec.json" <<'PY' || fail "invalid UTF-8 lost the rest of the record"
import json, sys
r = json.load(open(sys.argv[1]))
req, hdr = r["panels"]["request"], r["panels"]["headers"]["request"]
assert ["X-Bad", "\ufffd"] in hdr and ["X-After", "kept"] in hdr, hdr
assert req["query"] == [["a", "\ufffd"], ["b", "2"], ["c", "\u00e9"]], req["query"]
assert req["cookies"] == [["c1", "one"], ["c2", "two"]], req["cookies"]
assert r["degraded"] is False, r
PY
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' --data-binary $'user=\xff\xfe&note=after' "$base/login")
[ "$code" = 401 ] || fail "an invalid UTF-8 form answered $code"
record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
python3 - "$tmp/rec.json" <<'PY' || fail "an invalid UTF-8 form field was not repaired"
import json, sys
req = json.load(open(sys.argv[1]))["panels"]["request"]
assert req["form"] == [["user", "\ufffd\ufffd"], ["note", "after"]], req["form"]
PY
ok "X-Bad: \\xff, ?a=%ff and a form's \\xff\\xfe: U+FFFD, every other header, argument, cookie and field recorded"
stop_petshop

# ---- record_max_pairs from the environment --------------------------------------------------------
DTB_RECORD_MAX_PAIRS=2 start_petshop "$tmp/on.json"
curl_ -D "$tmp/h" -o /dev/null "$base/cats?a=1&b=2&c=3&d=4"
record "$(header "$tmp/h" X-Debug-Toolbar-Id)"
python3 - "$tmp/rec.json" <<'PY' || fail "DTB_RECORD_MAX_PAIRS=2 is not applied"
import json, sys
r = json.load(open(sys.argv[1]))["panels"]
assert r["request"]["query"] == [["a", "1"], ["b", "2"]] and r["request"]["omitted"]["query"] == 2, r["request"]
assert len(r["headers"]["request"]) == 2 and r["headers"]["omitted"]["request"] >= 1, r["headers"]
PY
stop_petshop
ok "DTB_RECORD_MAX_PAIRS=2: two pairs of each kind, the rest counted"
