#!/bin/bash
# state-demo.sh - the state panels on the petshop demo, over HTTP: the page cache (a miss and a
# set, then a hit), templates with their context, logging, routes, the HTML check on a page
# with mistakes, sessions in memory and in a real redis-server (started here on a Unix socket,
# stopped by PID) with the store's TTL, Redis killed mid-run (pages still served, the panel
# says why) and back, hostile session data shown escaped, and intercept_redirects on and off.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
tmp=$(mktemp -d)
name=state-demo
pid=""
rpid=""
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cleanup() {
    [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    [ -n "$rpid" ] && { kill -TERM "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
start() { start_petshop "$@"; }
stop() { stop_petshop; }

# get URL [curl args...]: fetches into $tmp/body (headers $tmp/h), waits for the record in
# $tmp/rec.json; prints the HTTP status
get() {
    local url=$1 code id
    shift
    code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$@" "$url")
    id=$(grep -i '^X-Debug-Toolbar-Id:' "$tmp/h" | cut -d' ' -f2 | tr -d '\r')
    [ ${#id} = 16 ] || fail "$url: no X-Debug-Toolbar-Id"
    echo "$id" >"$tmp/id"
    for _ in $(seq 1 400); do
        [ "$(curl_ -o "$tmp/rec.json" -w '%{http_code}' "$base/_debug_toolbar/api/requests/$id")" = 200 ] &&
            { echo "$code"; return 0; }
        sleep 0.05
    done
    fail "$url: record $id never stored"
}
fragment() { # panel -> $tmp/frag.html, fails unless 200
    local code
    code=$(curl_ -o "$tmp/frag.html" -w '%{http_code}' \
        "$base/_debug_toolbar/api/requests/$(cat "$tmp/id")/panels/$1")
    [ "$code" = 200 ] || fail "panel $1 fragment answered $code"
}
check() { # python assertions on the record, bound as r (and p = r["panels"])
    python3 - "$tmp/rec.json" "$1" <<'PY' || fail "record check failed: $1"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["panels"]
exec(sys.argv[2])
PY
}
no_raw_script() { # the fragment shows hostile text escaped, never as markup
    grep -q '<script' "$tmp/frag.html" && fail "$1: raw <script> in the fragment"
    grep -q '&lt;script&gt;' "$tmp/frag.html" || fail "$1: the hostile text is not shown escaped"
}

# ---- memory sessions, cache, templates, logging, routes, HTML check ------------------------------
cat >"$tmp/mem.json" <<'JSON'
{"enabled": true, "app": {"cache": {"default_timeout": 300, "index_timeout": 50},
 "session": {"store": "memory", "ttl": 3600}}}
JSON
start "$tmp/mem.json"

[ "$(get "$base/")" = 200 ] || fail "/ status"
check '
c = p["cache"]
assert [(x["op"], x["key"], x["hit"]) for x in c["calls"]] == [("get", "view:/", False), ("set", "view:/", None)], c
assert c["calls"][1]["timeout"] == 50 and c["misses"] == 1 and c["hits"] == 0, c
names = [t["name"] for t in p["templates"]["templates"]]
assert names == ["layout.html", "index.html"], names
ctx = p["templates"]["templates"][1]["context"]
assert ctx == {"cats": 1000, "dogs": 1000}, ctx
assert p["templates"]["templates"][1]["duration_ns"] > 0
logs = p["logging"]["records"]
assert any(l["message"] == "cache miss for view:/" and l["level_name"] == "info" and "cache.c" in l["site"] for l in logs), logs
assert p["routes"]["routes"][p["routes"]["matched"]]["name"] == "index"
assert p["session"]["after"]["id"] is None and not p["session"]["modified"]
h = p["htmlcheck"]
assert h["errors"] == [] and h["lints"] == [], h
'
fragment cache
grep -q 'miss' "$tmp/frag.html" || fail "cache fragment"
[ "$(get "$base/")" = 200 ] || fail "/ status (2)"
check '
c = p["cache"]
assert [(x["op"], x["hit"]) for x in c["calls"]] == [("get", True)] and c["hit_ratio"] == 1.0, c
assert [t["name"] for t in p["templates"]["templates"]] == ["layout.html"]
'
ok "page cache: a miss and a set (timeout 50 s), then a hit; templates with their context; logging"

get "$base/cats/7" >/dev/null
check '
ro = p["routes"]
m = ro["routes"][ro["matched"]]
assert m["name"] == "cat" and m["pattern"] == "/cats/<int:id>" and ro["args"] == {"id": "7"}, ro
assert ro["matched_by"] == "pattern"
assert p["templates"]["templates"][1]["context"]["cat"]["name"] == "cat-7"
'
fragment routes
grep -q 'dtb-current' "$tmp/frag.html" || fail "routes fragment does not mark the matched route"
get "$base/nowhere" >/dev/null
check 'assert p["routes"]["matched"] == -1, p["routes"]'
ok "routes: /cats/7 matched cat with id 7, /nowhere matches none"

get "$base/broken" >/dev/null
check '
h = p["htmlcheck"]
msgs = [e["message"] for e in h["errors"]]
assert any("mismatch" in m for m in msgs), msgs
assert "unknown entity &nosuch;" in msgs, msgs
assert "<span> opened on line 14 is never closed: its end tag is missing" in msgs, msgs
assert sum("never closed" in m for m in msgs) == 1, msgs
assert all(e["line"] > 0 and e["column"] > 0 for e in h["errors"]), h["errors"]
ent = [e for e in h["errors"] if e["message"] == "unknown entity &nosuch;"][0]
assert (ent["line"], ent["column"]) == (8, 56), ent
rules = sorted(set(l["rule"] for l in h["lints"]))
assert rules == ["duplicate-id", "form-enctype", "html-lang", "img-alt", "label-for", "title"], rules
'
grep -qi 'tag mismatch' "$tmp/err" && fail "libxml2 printed its errors to stderr"
fragment htmlcheck
grep -q 'label-for' "$tmp/frag.html" || fail "htmlcheck fragment"
ok "HTML check: parse errors with lines, every lint, nothing on stderr"

hostile='<script>alert("s")</script>'"'"'&'
code=$(get "$base/login" -c "$tmp/jar" --data-urlencode "user=$hostile" -d password=petshop)
[ "$code" = 303 ] || fail "login answered $code"
grep -qi '^Set-Cookie: petshop_session=[0-9a-f]\{32\};' "$tmp/h" || fail "no session cookie"
sid=$(grep -i '^Set-Cookie:' "$tmp/h" | sed 's/.*petshop_session=\([0-9a-f]*\);.*/\1/')
HOSTILE="$hostile" SID="$sid" check '
import os
s = p["session"]
assert s["modified"] and s["new_id"], s
a = s["after"]
assert a["data"]["user"] == os.environ["HOSTILE"], a
assert a["ttl"] == 3600 and a["store"] == "memory" and a["cookie"] == "petshop_session", a
assert os.environ["SID"] not in json.dumps(r), "the full session id is stored"
assert a["id"].startswith(os.environ["SID"][:4]) and a["id"].endswith(os.environ["SID"][-4:])
assert [c["key"] for c in s["changes"] if c["change"] == "added"] == ["user", "logged_in_at", "visits"], s["changes"]
assert any("logged in" in l["message"] for l in p["logging"]["records"])
'
fragment session
no_raw_script "session"
fragment logging
no_raw_script "logging"
get "$base/dogs" -b "$tmp/jar" >/dev/null
check '
s = p["session"]
assert s["modified"] and not s["new_id"], s
assert [(c["key"], c["before"], c["after"]) for c in s["changes"]] == [("visits", 0, 1)], s["changes"]
t = p["templates"]["templates"]
assert t[0]["context"]["user"].startswith("<script>") and len(t[1]["context"]["dogs"]) == 20, t
assert any(l["message"] == "1 query for 20 dogs" and l["level_name"] == "debug" for l in p["logging"]["records"])
'
fragment templates
no_raw_script "templates"
grep -q 'Signed in as <strong>&lt;script&gt;' "$tmp/body" || fail "the page does not show the user escaped"
code=$(get "$base/login" --data-urlencode "user=$hostile" -d password=wrong)
[ "$code" = 401 ] || fail "a wrong password answered $code"
check 'assert any(l["level_name"] == "warning" and "failed login" in l["message"] for l in p["logging"]["records"])'
fragment logging
no_raw_script "logging (failed login)"
grep -q 'dtb-log-filter' "$tmp/frag.html" || fail "no level filter in the logging panel"
code=$(get "$base/logout" -b "$tmp/jar" -X POST)
[ "$code" = 303 ] && grep -qi '^Set-Cookie: petshop_session=;.*Max-Age=0' "$tmp/h" || fail "logout"
check 's = p["session"]; assert s["modified"] and s["after"]["id"] is None and s["after"]["data"] == {}, s'
ok "memory session: login (new id, masked, TTL 3600, changes), visits counted, hostile name escaped, logout"
stop

# ---- intercept_redirects -------------------------------------------------------------------------
printf '{"enabled": true, "intercept_redirects": true}\n' >"$tmp/ir.json"
start "$tmp/ir.json"
code=$(curl_ -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -H 'Accept: text/html' "$base/old-cats")
[ "$code" = 200 ] || fail "intercepted redirect answered $code"
grep -q 'href="/cats"' "$tmp/body" && grep -q '302' "$tmp/body" && grep -q '<dtb-toolbar' "$tmp/body" ||
    fail "the intercept page lacks the Location link, the status or the toolbar"
code=$(curl_ -o /dev/null -w '%{http_code}' -H 'Accept: application/json' "$base/old-cats")
[ "$code" = 302 ] || fail "a non-HTML client got $code, not the redirect"
# a login answers with a redirect that sets the session cookie: the page keeps the cookie
code=$(get "$base/login" -H 'Accept: text/html' -c "$tmp/jar-ir" -d user=carol -d password=petshop)
[ "$code" = 200 ] || fail "intercepted login answered $code"
grep -qi '^Set-Cookie: petshop_session=[0-9a-f]' "$tmp/h" || fail "the intercept page dropped Set-Cookie"
if grep -qi '^Location:' "$tmp/h"; then fail "the intercept page kept Location"; fi
grep -q 'href="/"' "$tmp/body" || fail "the intercept page lacks the link to /"
code=$(get "$base/dogs" -b "$tmp/jar-ir")
[ "$code" = 200 ] || fail "/dogs after an intercepted login answered $code"
check 'b = p["session"]["before"]; assert b["data"]["user"] == "carol", b'
stop
start "$tmp/mem.json"
code=$(curl_ -D "$tmp/h" -o /dev/null -w '%{http_code}' -H 'Accept: text/html' "$base/old-cats")
[ "$code" = 302 ] || fail "intercept off: $code"
stop
ok "intercept_redirects: on shows a page with the status, the link, the toolbar and the app's cookies; off passes the 302"

# ---- Redis sessions ------------------------------------------------------------------------------
if ! grep -q '^#define HAVE_HIREDIS 1' "$TOP_BUILDDIR/config.h"; then
    echo "*** SKIP: this build has no Redis support (configure found no hiredis, or --without-redis);"
    echo "*** Redis sessions are NOT tested"
    exit 77
fi
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "*** SKIP: redis-server/redis-cli are not installed; Redis sessions are NOT tested"
    exit 77
fi
sock="$tmp/redis.sock"
redis_start() {
    redis-server --port 0 --unixsocket "$sock" --save "" --appendonly no --dir "$tmp" \
        >"$tmp/redis.log" 2>&1 &
    rpid=$!
    for _ in $(seq 1 100); do
        redis-cli -s "$sock" PING 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    fail "redis-server did not start"
}
redis_start
cat >"$tmp/redis.json" <<JSON
{"enabled": true, "app": {"session": {"store": "unix:$sock", "ttl": 600, "timeout_ms": 5000}}}
JSON
start "$tmp/redis.json"
code=$(get "$base/login" -c "$tmp/jar2" -d user=alice -d password=petshop)
[ "$code" = 303 ] || fail "login with Redis answered $code"
sid=$(grep -i '^Set-Cookie:' "$tmp/h" | sed 's/.*petshop_session=\([0-9a-f]*\);.*/\1/')
ttl=$(redis-cli -s "$sock" TTL "petshop:session:$sid")
[ "$ttl" -gt 590 ] && [ "$ttl" -le 600 ] || fail "Redis TTL of the session is $ttl"
SOCK="$sock" check '
import os
a = p["session"]["after"]
assert a["store"] == "unix:" + os.environ["SOCK"] and 590 < a["ttl"] <= 600 and a["data"]["user"] == "alice", a
'
get "$base/dogs" -b "$tmp/jar2" >/dev/null
check 'b = p["session"]["before"]; assert b["data"]["user"] == "alice" and 0 < b["ttl"] <= 600, b'
ok "Redis session: stored with TTL $ttl, the panel shows the store's TTL"

kill -TERM "$rpid"
wait "$rpid" 2>/dev/null || true
rpid=""
code=$(get "$base/dogs" -b "$tmp/jar2")
[ "$code" = 200 ] || fail "with Redis down /dogs answered $code"
grep -q '<h1>Dogs</h1>' "$tmp/body" || fail "with Redis down the page was not served"
check '
a = p["session"]["after"]
assert "Redis" in a["error"], a
assert any(l["level_name"] == "error" and "session store failed" in l["message"] for l in p["logging"]["records"])
'
fragment session
grep -q 'session store failed' "$tmp/frag.html" || fail "the session panel does not say the store failed"
kill -0 "$pid" || fail "petshop died when Redis went away"
ok "Redis down: the page is served, the Session panel says why"

redis_start
sleep 1.1 # the demo retries at most once a second
code=$(get "$base/login" -c "$tmp/jar3" -d user=bob -d password=petshop)
[ "$code" = 303 ] || fail "login after Redis came back answered $code"
check 'a = p["session"]["after"]; assert a["error"] is None and a["data"]["user"] == "bob", a'
stop
ok "Redis back: sessions work again"
