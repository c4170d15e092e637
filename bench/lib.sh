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
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start_ctxd ROOT [extra config members]: sets CTXD_PORT, CTXD_TOKEN, CTXD_PID, CTXD_DIR
start_ctxd() {
    local root=$1 extra=${2:-}
    CTXD_DIR=$(mktemp -d /tmp/ctxd-bench-XXXXXX)
    cat > "$CTXD_DIR/team.json" <<JSON
{"host": "127.0.0.1", "port": 0, "defaultWorkspaceId": "main", "dataDir": "data",
 "auditLogPath": "$CTXD_DIR/data/audit.log",
 "maxRps": 1000000, "rateBurst": 1000000, "keyRps": 1000000, "keyRateBurst": 1000000,
 "maxConcurrency": 256, "requestTimeoutMs": 120000, "searchBudgetMs": 120000,
 "maxOutputBytes": 1048576 ${extra:+, $extra},
 "workspaces": [{"id": "main", "root": "$root"}], "tokens": []}
JSON
    CTXD_TOKEN=$("$CTXD" team token create --config "$CTXD_DIR/team.json" --id bench --role admin 2>/dev/null)
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

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
