#!/usr/bin/env bash
# keys.sh - the cost per request of key validation and the rate-limit checks, in-process:
#   auth only (an API key: shape, checksum, SHA-256, its row read from SQLite, constant-time
#   compare; and a config token) versus auth plus the global, key and tenant buckets (with the
#   tier lookup), N requests per round, best of R rounds, both in the same run.
# Goal (issue 5): key validation and bucket check add under 20 us per request.
# Usage: bench/keys.sh [requests per round, default 200000] [rounds, default 3]
source "$(dirname "$0")/lib.sh"
N=${1:-200000}
ROUNDS=${2:-3}
BUILD=$(dirname "$CTXD")
ninja -C "$BUILD" bench_keys >/dev/null
echo "bench_keys $N $ROUNDS ($(nproc) cores, shared)"
OUT=$(timeout 600 "$BUILD/bench_keys" "$N" "$ROUNDS")
echo "$OUT"
echo
echo "$OUT" | awk '/^API key/ {
    for (i = 1; i <= NF; i++) if ($i == "us/request,") { if (!off) off = $(i-1); else on = $(i-1) }
    printf "API key: validation + buckets %.2f us per request (goal < 20 us: %s), buckets alone %.2f us (%.0f%% of the total)\n",
           on, on < 20 ? "met" : "NOT met", on - off, (on - off) * 100 / on }'
