#!/usr/bin/env bash
# setup.sh - install what ctxd needs on Debian 12 and build it (build/ = release,
# build-asan/ = ASan+UBSan). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config meson ninja-build git ca-certificates
      libmicrohttpd-dev libjansson-dev libssl-dev libpcre2-dev
      libcriterion-dev libcurl4-openssl-dev ripgrep clang-format clang-tidy)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[ -d build ] || meson setup build --buildtype=release -Db_ndebug=false >&2
[ -d build-asan ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=undefined -Db_lundef=false >&2
ninja -C build >&2
ninja -C build-asan >&2
echo "setup: built build/ctxd ($(build/ctxd --version))" >&2
