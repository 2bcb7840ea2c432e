#!/bin/sh
# pg-run.sh - starts a real PostgreSQL server for the PostgreSQL tests: initdb into a temporary
# folder, listening on a Unix socket only, then runs tests/integ/test_pg against it and stops
# the server by its PID. Without PostgreSQL installed it says so loudly and skips (exit 77).
set -eu
: "${TOP_BUILDDIR:?}"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "*** SKIP: PostgreSQL is not installed (apt-get install postgresql); the PostgreSQL"
    echo "*** capture and actions are NOT tested"
    exit 77
fi
tmp=$(mktemp -d /tmp/dtb-pg-XXXXXX)
chmod 755 "$tmp"
pid=""
as_db() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
cleanup() {
    if [ -n "$pid" ]; then
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$tmp"
fi
as_db "$bindir/initdb" -D "$tmp/data" -A trust -U postgres >"$tmp/initdb.log" 2>&1 || {
    cat "$tmp/initdb.log"
    exit 1
}
as_db "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
    -o "-k $tmp -c listen_addresses='' -p 5432" start >/dev/null || {
    cat "$tmp/server.log"
    exit 1
}
pid=$(head -n 1 "$tmp/data/postmaster.pid")
as_db "$bindir/createdb" -h "$tmp" -p 5432 -U postgres dtbtest
echo "pg-run: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $tmp (pid $pid)"
DTB_PG_PID="$pid" PGHOST="$tmp" PGPORT=5432 PGUSER=postgres PGDATABASE=dtbtest \
    "$TOP_BUILDDIR/tests/integ/test_pg"
