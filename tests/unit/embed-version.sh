#!/bin/bash
# embed-version.sh - tools/embed's versions (ETags, and the ?v= of asset URLs): an asset's
# changes when it changes, and also when only another asset does (toolbar.js loads common.js
# and profile.js with its own version, so a new common.js must be a new toolbar.js URL too);
# the same files give the same versions, wherever they are.
set -euo pipefail
: "${TOP_BUILDDIR:?}"
embed="$TOP_BUILDDIR/tools/embed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/a" "$tmp/b" "$tmp/c"
printf 'one();\n' >"$tmp/a/toolbar.js"
printf 'shared(1);\n' >"$tmp/a/common.js"
cp "$tmp/a/toolbar.js" "$tmp/b/toolbar.js"
printf 'shared(2);\n' >"$tmp/b/common.js" # only the other asset differs
cp "$tmp/a/toolbar.js" "$tmp/a/common.js" "$tmp/c/"
# version NAME FILE...: the ETag embed gives asset NAME
version() {
    local name=$1
    shift
    "$embed" "$@" | sed -n "s|^    {\"$name\", \"[^\"]*\", asset_[0-9]*, [0-9]*, \"\\\\\"\([0-9a-f]*\)\\\\\"\"},\$|\1|p"
}
va=$(version toolbar.js "$tmp/a/toolbar.js" "$tmp/a/common.js")
vb=$(version toolbar.js "$tmp/b/toolbar.js" "$tmp/b/common.js")
vc=$(version toolbar.js "$tmp/c/toolbar.js" "$tmp/c/common.js")
ca=$(version common.js "$tmp/a/toolbar.js" "$tmp/a/common.js")
fail() {
    echo "*** FAIL: $*"
    exit 1
}
[[ "$va" =~ ^[0-9a-f]{16}$ ]] || fail "no version for toolbar.js: '$va'"
[[ "$ca" =~ ^[0-9a-f]{16}$ ]] || fail "no version for common.js: '$ca'"
[ "$va" != "$vb" ] || fail "toolbar.js kept its version ($va) when common.js changed"
[ "$va" = "$vc" ] || fail "the same files, elsewhere, gave another version ($va, $vc)"
[ "$va" != "$ca" ] || fail "two assets share a version ($va)"
echo "ok: versions $va (toolbar.js), $vb (after common.js changed), $ca (common.js)"
