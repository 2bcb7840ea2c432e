#!/usr/bin/env bash
# bench/run.sh - the WORKLOAD macro-benchmark (/work/shared/WORKLOAD.md).
#
#   bench/run.sh [--duration S] [--rounds N] [--out FILE] [--pages "P ..."] [--modes "M ..."]
#                [--no-memory]
#                (defaults: 5 s, 3 rounds, bench/RESULTS.md; --out - writes no file; every page
#                and mode; --no-memory skips the 100,000-request memory check)
#
# For each page (/cats, /big, /api/cats; /gz/cats, the /cats page gzipped by the app, asked for
# with Accept-Encoding: gzip; /chunked/cats and /chunked/big, streamed by a content reader in
# chunks, size unknown; /report, CPU in named functions, for the profiler) and each round it
# runs the modes interleaved:
#   debugtoolbar petshop: a (built --disable-demo-toolbar), b (toolbar, {"enabled": false}),
#                         c (toolbar enabled for 127.0.0.1), r (as c, history in a Redis
#                         server this script starts on a Unix socket and stops by PID),
#                         m (as c, with the heap ledger libdebugtoolbar-malloc.so preloaded),
#                         p (as c, the profiler sampling every request at 1 kHz)
#   Django peer:          a (no debug_toolbar app/middleware), c (django-debug-toolbar on)
#                         (on /cats, /big and /api/cats: it has no gzip, chunked or report page)
# --modes takes petshop's letters; django's two run when the list has a and c.
# Each run: fresh server on 127.0.0.1 port 0, warm-up `wrk -t1 -c4 -d1s`, then
# `wrk -t1 -c4 -d${DURATION}s --latency`; peak RSS is VmHWM read before the server is killed.
# Then a memory check: petshop mode c, VmRSS after ~1,000 and after >= 100,000 /cats requests,
# and the in-process micro-benchmarks (`make bench`: SQL capture, injection, record building).
# Only ratios measured in the same run mean anything: the machine is shared and noisy.
set -eu

DURATION=5
ROUNDS=3
PAGES="/cats /big /api/cats /gz/cats /chunked/cats /chunked/big /report"
MODES="a b c r m p"
MEMORY=1
OUT=$(cd "$(dirname "$0")" && pwd)/RESULTS.md
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --pages) PAGES=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --no-memory) MEMORY=0; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--duration S] [--rounds N] [--out FILE] [--pages \"P ...\"] [--modes \"M ...\"] [--no-memory]" >&2; exit 2 ;;
    esac
done
case "$DURATION$ROUNDS" in *[!0-9]*) echo "run.sh: --duration and --rounds take integers" >&2; exit 2 ;; esac
for m in $MODES; do
    case "$m" in a | b | c | r | m | p) ;; *) echo "run.sh: unknown mode $m (a b c r m p)" >&2; exit 2 ;; esac
done
case " $MODES " in *" a "*) ;; *) echo "run.sh: --modes must include a (ratios are to it)" >&2; exit 2 ;; esac
for pg in $PAGES; do
    case "$pg" in /cats | /big | /api/cats | /gz/cats | /chunked/cats | /chunked/big | /report) ;;
    *) echo "run.sh: unknown page $pg" >&2; exit 2 ;; esac
done
[ "$DURATION" -ge 1 ] && [ "$ROUNDS" -ge 1 ] || { echo "run.sh: need duration, rounds >= 1" >&2; exit 2; }
if [ -n "$OUT" ]; then
    case "$OUT" in /* | -) ;; *) OUT="$PWD/$OUT" ;; esac
fi

SRC=$(cd "$(dirname "$0")/.." && pwd)
PEER="$SRC/bench/peers/django"
PY=/usr/bin/python3 # the Debian python that sees python3-django (not a pyenv shim)
WORK="$SRC/_bench"
mkdir -p "$WORK"
TMP=$(mktemp -d "$WORK/run.XXXXXX")
SERVER_PID=
REDIS_PID=

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "run.sh: $*" >&2; }

# ---- dependencies ---------------------------------------------------------------------------
"$SRC/tools/deps.sh" --bench

# ---- build: two build dirs, -O2 -------------------------------------------------------------
[ -x "$SRC/configure" ] || (cd "$SRC" && ./autogen.sh >/dev/null 2>&1)
build() { # dir [configure args]
    local dir=$1; shift
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ]; then
        (cd "$dir" && "$SRC/configure" -q "$@" CFLAGS="-O2")
    fi
    (cd "$dir" && make -j2 -s examples/petshop/petshop >/dev/null)
}
log "building (bare and toolbar) under $WORK"
build "$WORK/build-bare" --disable-demo-toolbar
build "$WORK/build-toolbar"
(cd "$WORK/build-toolbar" && make -j2 -s libdebugtoolbar-malloc.la >/dev/null)
LEDGER="$WORK/build-toolbar/.libs/libdebugtoolbar-malloc.so"
BIN_A="$WORK/build-bare/examples/petshop/petshop"
BIN_TB="$WORK/build-toolbar/examples/petshop/petshop"

# ---- data and configs -----------------------------------------------------------------------
DB="$TMP/petshop.db"
CONF_B="$TMP/off.json"
CONF_C="$TMP/on.json"
echo '{"enabled": false}' >"$CONF_B"
echo '{"enabled": true, "history_size": 25, "secret_key": "bench-not-secret"}' >"$CONF_C"
CONF_P="$TMP/profile.json"
echo '{"enabled": true, "history_size": 25, "secret_key": "bench-not-secret", "panel_options": {"profile": {"always": true}}}' >"$CONF_P"
CONF_R="$TMP/redis.json"
printf '{"enabled": true, "history_size": 25, "secret_key": "bench-not-secret", "store": "unix:%s"}\n' \
    "$TMP/redis.sock" >"$CONF_R"
redis-server --port 0 --unixsocket "$TMP/redis.sock" --save "" --appendonly no --dir "$TMP" \
    >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do
    redis-cli -s "$TMP/redis.sock" PING 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -s "$TMP/redis.sock" PING 2>/dev/null | grep -q PONG || { log "redis-server did not start"; exit 1; }

# ---- servers --------------------------------------------------------------------------------
URL=
# start_server IMPL MODE: sets SERVER_PID and URL (base, ending in /)
start_server() {
    local impl=$1 mode=$2 logf="$TMP/server.log" i
    : >"$logf"
    if [ "$impl" = petshop ]; then
        local bin=$BIN_TB conf=$CONF_C
        [ "$mode" = a ] && bin=$BIN_A
        [ "$mode" = b ] && conf=$CONF_B
        [ "$mode" = r ] && conf=$CONF_R
        [ "$mode" = p ] && conf=$CONF_P
        local preload=
        [ "$mode" = m ] && preload=$LEDGER
        env -u DTB_ENABLED -u DTB_CONFIG ${preload:+LD_PRELOAD=$preload} "$bin" --port 0 \
            --bind 127.0.0.1 --db "$DB" --config "$conf" --threads poll >"$logf" 2>&1 &
    else
        local tb=0
        [ "$mode" = c ] && tb=1
        PEER_DB="$DB" PEER_TOOLBAR=$tb "$PY" "$PEER/serve.py" 0 >"$logf" 2>&1 &
    fi
    SERVER_PID=$!
    URL=
    for i in $(seq 100); do # at most 10 s
        URL=$(sed -n 's|^.*: serving on \(http://[^ ]*/\)$|\1|p' "$logf" | head -n1)
        [ -n "$URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$impl mode $mode did not start:"; cat "$logf" >&2
    exit 1
}
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# wrk latency "1.23ms" / "850.00us" / "1.02s" -> ms
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); n = v + 0;
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.3f", n }'; }

# ---- sanity: the pages and the injection ----------------------------------------------------
check() { # impl mode expect-toolbar marker
    local impl=$1 mode=$2 want=$3 marker=$4 body="$TMP/body" n
    start_server "$impl" "$mode"
    n=$(curl -s -D "$TMP/hdr" -o "$body" -w '%{size_download}' "${URL}cats")
    # modes m and p must really run the ledger and the profiler: their panels say so
    local id want_json=
    [ "$mode" = m ] && want_json='"memory": *{[^}]*"ledger": *true'
    [ "$mode" = p ] && want_json='"profile": *{[^}]*"on": *true'
    if [ -n "$want_json" ]; then
        id=$(sed -n 's/^X-Debug-Toolbar-Id: *\([0-9a-f]*\).*/\1/ip' "$TMP/hdr")
        curl -s "${URL}_debug_toolbar/api/requests/$id" | tr -d '\n' | grep -q "$want_json" ||
            { log "$impl mode $mode: the record does not show it running ($want_json)"; exit 1; }
    fi
    if grep -q "$marker" "$body"; then got=1; else got=0; fi
    [ "$got" = "$want" ] || { log "$impl mode $mode: toolbar marker '$marker' present=$got, want $want"; exit 1; }
    curl -s "${URL}api/cats" | grep -q "$marker" && { log "$impl mode $mode: toolbar in /api/cats"; exit 1; }
    curl -sf -o /dev/null "${URL}big" || { log "$impl mode $mode: /big failed"; exit 1; }
    if [ "$impl" = petshop ] && [ "$want" = 1 ]; then # the gzip page: decoded, injected
        curl -s -H 'Accept-Encoding: gzip' "${URL}gz/cats" | grep -q "$marker" ||
            { log "$impl mode $mode: no toolbar in /gz/cats"; exit 1; }
    fi
    log "$impl mode $mode: /cats $n bytes, toolbar marker present=$got"
    stop_server
}
for m in $MODES; do
    want=1
    case "$m" in a | b) want=0 ;; esac
    check petshop "$m" "$want" 'dtb-root'
done
DJANGO=0
case " $MODES " in *" c "*) DJANGO=1 ;; esac
if [ "$DJANGO" = 1 ]; then
    check django a 0 'djDebug'
    check django c 1 'djDebug'
fi

# ---- the runs -------------------------------------------------------------------------------
RES="$TMP/results.tsv" # page impl mode round rps p50ms p99ms hwm_kb errors
: >"$RES"
runs=()
total=0
for page in $PAGES; do
    for m in $MODES; do total=$((total + ROUNDS)); done
    case "$page" in /gz/* | /chunked/* | /report) ;; *) [ "$DJANGO" = 1 ] && total=$((total + 2 * ROUNDS)) ;; esac
done
k=0
for page in $PAGES; do
    ims=""
    for m in $MODES; do ims="$ims petshop:$m"; done
    case "$page" in /gz/* | /chunked/* | /report) ;; *) [ "$DJANGO" = 1 ] && ims="$ims django:a django:c" ;; esac
    hdr=()
    case "$page" in /gz/*) hdr=(-H "Accept-Encoding: gzip") ;; esac
    for r in $(seq "$ROUNDS"); do
        for im in $ims; do
            impl=${im%%:*}; mode=${im#*:}
            k=$((k + 1))
            start_server "$impl" "$mode"
            u="${URL%/}$page"
            wrk -t1 -c4 -d1s "${hdr[@]}" "$u" >/dev/null
            wrk -t1 -c4 -d"${DURATION}s" --latency "${hdr[@]}" "$u" >"$TMP/wrk.out"
            hwm=$(status_kb "$SERVER_PID" VmHWM)
            stop_server
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk.out")
            p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.out")")
            p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.out")")
            # wsgiref answers HTTP/1.0 and closes after each response (no keep-alive): wrk
            # counts every such close as a socket "read" error, so those are not errors there.
            err=$(awk -v impl="$impl" '/Non-2xx or 3xx responses:/ { n += $NF }
                /Socket errors:/ { gsub(/,/, ""); n += $4 + $8 + $10; if (impl != "django") n += $6 }
                END { print n + 0 }' "$TMP/wrk.out")
            [ "$err" = 0 ] || log "warning: $impl $mode $page: $err errors/non-2xx"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$page" "$impl" "$mode" "$r" "$rps" "$p50" "$p99" "$hwm" "$err" >>"$RES"
            log "[$k/$total] $page round $r $impl $mode: $rps req/s p50 ${p50}ms p99 ${p99}ms VmHWM ${hwm} kB"
        done
    done
done

# ---- memory: RSS after 1,000 vs >= 100,000 requests to /cats, petshop mode c -----------------
# A wrk Lua script stops its thread after N responses (exact count for the first 1,000).
cat >"$TMP/stop.lua" <<'EOF'
local n = 0
local limit = tonumber(os.getenv("STOP_AFTER") or "1000")
function response(status, headers, body)
    n = n + 1
    if n >= limit then wrk.thread:stop() end
end
EOF
RSS1=0 RSS2=0 served=0
if [ "$MEMORY" = 1 ]; then
start_server petshop c
u="${URL}cats"
STOP_AFTER=1000 wrk -t1 -c1 -d60s -s "$TMP/stop.lua" "$u" >"$TMP/wrk.out"
served=$(awk '/ requests in / { print $1 }' "$TMP/wrk.out")
RSS1=$(status_kb "$SERVER_PID" VmRSS)
start=$(date +%s)
while [ "$served" -lt 100000 ]; do # bounded by count and by 300 s
    if [ $(( $(date +%s) - start )) -ge 300 ]; then
        log "warning: memory loop gave up after 300 s at $served requests"
        break
    fi
    wrk -t2 -c8 -d5s "$u" >"$TMP/wrk.out"
    n=$(awk '/ requests in / { print $1 }' "$TMP/wrk.out")
    served=$((served + ${n:-0}))
    [ "${n:-0}" -gt 0 ] || { log "warning: memory loop: wrk served nothing"; break; }
done
RSS2=$(status_kb "$SERVER_PID" VmRSS)
stop_server
log "memory: VmRSS $RSS1 kB after 1000, $RSS2 kB after $served"
fi

# ---- in-process micro-benchmarks (make bench) ----------------------------------------------------
log "micro-benchmarks (make bench)"
(cd "$WORK/build-toolbar" && make -s bench 2>/dev/null | grep -v '^make\|^  CC') >"$TMP/micro.out" 2>&1 ||
    log "warning: make bench failed"

# ---- report ---------------------------------------------------------------------------------
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }
ENV_INFO="date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')
machine: $(uname -srm); $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $(. /etc/os-release && echo "$PRETTY_NAME")
versions: gcc $(gcc -dumpfullversion 2>/dev/null); libmicrohttpd $(pkgver libmicrohttpd12); sqlite3 $(pkgver libsqlite3-0); jansson $(pkgver libjansson4); libxml2 $(pkgver libxml2); wrk $(pkgver wrk); python3 $(pkgver python3); Django $(pkgver python3-django); django-debug-toolbar $(pkgver python3-django-debug-toolbar)"
export ENV_INFO
[ "$OUT" = - ] && OUT=
"$PY" - "$RES" "$RSS1" "$RSS2" "$served" "$DURATION" "$ROUNDS" "${OUT:-}" <<'EOF'
import os
import statistics as st
import sys

res, rss1, rss2, served, duration, rounds, out = sys.argv[1:8]
env_info = os.environ.get("ENV_INFO", "")
rows = {}
for line in open(res):
    page, impl, mode, rnd, rps, p50, p99, hwm, err = line.rstrip("\n").split("\t")
    rows[(page, impl, mode, int(rnd))] = (float(rps or 0), float(p50 or 0), float(p99 or 0),
                                          int(hwm or 0), int(err or 0))
rounds = int(rounds)
med = st.median
head = ["page", "impl", "mode", "req/s", "p50 ms", "p99 ms", "peak RSS MB", "req/s vs a (min–max)"]
table = []
pages = list(dict.fromkeys(k[0] for k in rows))
for page in pages:
    for impl, key in (("debugtoolbar", "petshop"), ("django", "django")):
        modes = [m for m in "abcrmp" if (page, key, m, 1) in rows]
        for m in modes:
            rs = [rows[(page, key, m, r)] for r in range(1, rounds + 1)]
            rps = med(x[0] for x in rs)
            p50 = med(x[1] for x in rs)
            p99 = med(x[2] for x in rs)
            hwm = max(x[3] for x in rs) / 1024
            errs = sum(x[4] for x in rs)
            if m == "a":
                ratio = "—"
            else:
                rat = []
                for r in range(1, rounds + 1):
                    a = rows[(page, key, "a", r)][0]
                    rat.append(rows[(page, key, m, r)][0] / a if a else float("nan"))
                ratio = "%s/a %.3f (%.3f–%.3f)" % (m, med(rat), min(rat), max(rat))
            table.append([page, impl, m, "%.0f" % rps + (" (%d err)" % errs if errs else ""),
                          "%.2f" % p50, "%.2f" % p99, "%.1f" % hwm, ratio])

widths = [max(len(str(r[i])) for r in [head] + table) for i in range(len(head))]
lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + table]
rss1, rss2 = int(rss1), int(rss2)
mem = ("memory (debugtoolbar mode c, /cats): VmRSS %.1f MB after 1,000 requests, %.1f MB after "
       "%s requests, difference %+.1f MB" % (rss1 / 1024, rss2 / 1024, served, (rss2 - rss1) / 1024)
       if int(served) > 0 else "memory: not measured (--no-memory)")
note = ("wrk -t1 -c4 -d%ss --latency on 127.0.0.1, %d round(s); values are medians of rounds, "
        "peak RSS is the max VmHWM; ratios: median of per-round ratios (min–max). "
        "debugtoolbar: petshop --threads poll, keep-alive; modes a bare, b linked but off, c on, "
        "r on with the history in Redis (Unix socket), m on with the heap ledger preloaded, p on "
        "with the profiler sampling every request. /gz/cats: the /cats page gzipped by the app, "
        "asked for with Accept-Encoding: gzip (the toolbar decodes, injects and sends it "
        "decoded); /chunked/cats, /chunked/big: those pages from a content reader, size unknown "
        "(chunked); /report: CPU in named functions (an edit distance over the animals' names). "
        "django: wsgiref, one process, one "
        "thread, HTTP/1.0 with a new connection per request." % (duration, rounds))
print()
print(env_info)
print()
print("\n".join(lines))
micro = open(res.replace("results.tsv", "micro.out")).read().rstrip()
print()
print(mem)
print(note)
print()
print(micro)
if out:
    with open(out, "w") as f:
        f.write("# WORKLOAD macro-benchmark\n\n%s\n\n" % "  \n".join(env_info.split("\n")))
        f.write("%s\n\n" % note)
        f.write("| " + " | ".join(head) + " |\n")
        f.write("|" + "|".join("---" for _ in head) + "|\n")
        for r in table:
            f.write("| " + " | ".join(str(c) for c in r) + " |\n")
        f.write("\n%s\n\n```\n%s\n```\n" % (mem, micro))
EOF
