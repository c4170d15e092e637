# lib.sh - shared pieces of the benchmarks: a throwaway ctxd on 127.0.0.1 with one token.
# Sourced, not run. Every server started here is stopped by the EXIT trap.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
CTXD=${CTXD:-$REPO/build/ctxd}
# outside the repository: its .gitignore would hide the corpus from rg and ctxd alike
CACHE=${CTXD_BENCH_CACHE:-/var/tmp/ctxd-bench}
mkdir -p "$CACHE"
PIDS=()
DIRS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    for d in "${DIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done
}
trap cleanup EXIT

# ctxd_config ROOT [extra config members]: a config in a new CTXD_DIR and a token (CTXD_TOKEN)
ctxd_config() {
    local root=$1 extra=${2:-}
    CTXD_DIR=$(mktemp -d /tmp/ctxd-bench-XXXXXX)
    DIRS+=("$CTXD_DIR")
    cat > "$CTXD_DIR/team.json" <<JSON
{"host": "127.0.0.1", "port": 0, "defaultWorkspaceId": "main", "dataDir": "data",
 "auditLogPath": "$CTXD_DIR/data/audit.log",
 "maxRps": 1000000, "rateBurst": 1000000, "keyRps": 1000000, "keyRateBurst": 1000000,
 "maxConcurrency": 256, "requestTimeoutMs": 120000, "searchBudgetMs": 120000,
 "maxOutputBytes": 1048576 ${extra:+, $extra},
 "workspaces": [{"id": "main", "root": "$root"}], "tokens": []}
JSON
    CTXD_TOKEN=$("$CTXD" team token create --config "$CTXD_DIR/team.json" --id bench --role admin 2>/dev/null)
}

# ctxd_serve: start the server of CTXD_DIR; sets CTXD_PORT, CTXD_PID
ctxd_serve() {
    : >"$CTXD_DIR/server.log"
    "$CTXD" serve --config "$CTXD_DIR/team.json" 2>"$CTXD_DIR/server.log" &
    CTXD_PID=$!
    PIDS+=("$CTXD_PID")
    for _ in $(seq 200); do
        CTXD_PORT=$(sed -n 's/^Team Server - 127.0.0.1:\([0-9]*\)$/\1/p' "$CTXD_DIR/server.log")
        [ -n "$CTXD_PORT" ] && return 0
        sleep 0.05
    done
    echo "ctxd did not start:" >&2
    cat "$CTXD_DIR/server.log" >&2
    exit 1
}

# start_ctxd ROOT [extra config members]: ctxd_config + ctxd_serve
start_ctxd() {
    ctxd_config "$@"
    ctxd_serve
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# kernel_tree: sets TREE to Debian's linux-source, extracted once into $CACHE
kernel_tree() {
    if ! ls /usr/src/linux-source-*.tar.xz >/dev/null 2>&1; then
        apt-get install -y -qq linux-source >/dev/null
    fi
    local tarball
    tarball=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n 1)
    TREE=$CACHE/$(basename "$tarball" .tar.xz)
    if [ ! -d "$TREE" ]; then
        echo "extracting $tarball (once) ..." >&2
        tar -C "$CACHE" -xJf "$tarball"
    fi
}
