#!/bin/sh
# check-layers.sh - the core does not reach into the panels. Every internal (dtbi_) function or
# variable that an object of toolbar/ uses and an object of panels/ defines must be one of the
# edges listed below: only the built-in panel table. A new edge fails this test; a panel that
# needs the core to call it uses a hook of struct dtb_panel_ops (call_enter and call_leave run
# around every handler call). Public dtb_ functions are the app's API and may
# be called from anywhere (the dtb-run shim attaches SQLite databases as an app would).
set -eu
b="${TOP_BUILDDIR:-.}"
if ! ls "$b"/panels/.libs/*.o >/dev/null 2>&1; then
    echo "check-layers: no objects under $b/panels/.libs (static-only build?)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/allowed" <<'EOF'
dtbi_builtin_panels
dtbi_builtin_panels_count
EOF
# allowed, and why:
#   dtbi_builtin_panels*       the built-in table (panels/builtin.c)
sort -u -o "$tmp/allowed" "$tmp/allowed"
find "$b/panels" -name '*.o' -path '*/.libs/*' -exec nm {} + 2>/dev/null |
    awk '$2 ~ /^[TDBRC]$/ {print $3}' | grep '^dtbi_' | sort -u >"$tmp/panels"
status=0
for o in "$b"/toolbar/.libs/libdtb_core_la-*.o; do
    edges=$(nm "$o" | awk '$1 == "U" {print $2}' | grep '^dtbi_' | sort -u |
        comm -12 - "$tmp/panels" | comm -23 - "$tmp/allowed")
    if [ -n "$edges" ]; then
        echo "check-layers: $(basename "$o" .o | sed 's/^libdtb_core_la-//').c calls into panels/:"
        echo "$edges" | sed 's/^/  /'
        status=1
    fi
done
[ $status -eq 0 ] && echo "check-layers: toolbar/ calls into panels/ only through the table and the listed hooks"
exit $status
