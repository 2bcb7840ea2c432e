#!/bin/sh
# deps.sh - installs the Debian packages the build, the demo and the tests need, when missing.
# Usage: tools/deps.sh [--tests | --bench]
set -eu
pkgs="gcc make autoconf automake libtool pkg-config libmicrohttpd-dev libxml2-dev
libjansson-dev libsqlite3-dev nettle-dev libpq-dev libhiredis-dev
zlib1g-dev libbrotli-dev libzstd-dev libdw-dev libunwind-dev"
if [ "${1:-}" = "--tests" ]; then
    pkgs="$pkgs check libcurl4-openssl-dev curl python3 postgresql redis-server chromium ola
    clang libclang-rt-14-dev libgumbo-dev clang-format"
fi
if [ "${1:-}" = "--bench" ]; then
    pkgs="$pkgs libcurl4-openssl-dev curl python3 wrk python3-django python3-django-debug-toolbar
    redis-server"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ "${1:-}" = "--tests" ]; then
    # Node may come from elsewhere than Debian (then its npm too): ask for the commands.
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
