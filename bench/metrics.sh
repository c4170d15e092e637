#!/usr/bin/env bash
# metrics.sh - /v1/metrics (issue 6): after N ctx_tree calls on this repository's src/, the size
# and latency of a Prometheus scrape and a JSON snapshot, and promtool's verdict on the text.
# Usage: bench/metrics.sh [calls, default 500]   (CTXD=path/to/ctxd, default build/ctxd)
source "$(dirname "$0")/lib.sh"
N=${1:-500}
ctxd_config "$REPO/src" ""
ctxd_serve
B="http://127.0.0.1:$CTXD_PORT"
t0=$(date +%s.%N)
for _ in $(seq 1 "$N"); do
    curl -s -o /dev/null -H "Authorization: Bearer $CTXD_TOKEN" -H 'Content-Type: application/json' \
        -d '{"name":"ctx_tree","arguments":{"depth":1}}' "$B/v1/tools/call"
done
t1=$(date +%s.%N)
echo "$N ctx_tree calls (a curl each): $(echo "$t1 - $t0" | bc) s"
curl -s -o "$CTXD_DIR/m.prom" -w 'prometheus: %{size_download} B in %{time_total} s\n' \
    -H "Authorization: Bearer $CTXD_TOKEN" "$B/v1/metrics?format=prometheus"
curl -s -o /dev/null -w 'json: %{size_download} B in %{time_total} s\n' \
    -H "Authorization: Bearer $CTXD_TOKEN" "$B/v1/metrics"
for _ in $(seq 1 200); do
    echo "url = \"$B/v1/metrics?format=prometheus\""
    echo "header = \"Authorization: Bearer $CTXD_TOKEN\""
    echo 'output = "/dev/null"'
done >"$CTXD_DIR/scrapes"
t0=$(date +%s.%N)
curl -s -K "$CTXD_DIR/scrapes"
t1=$(date +%s.%N)
echo "200 prometheus scrapes on one connection: $(echo "($t1 - $t0) * 1000 / 200" | bc -l | cut -c1-5) ms each"
if command -v promtool >/dev/null; then
    promtool check metrics <"$CTXD_DIR/m.prom" && echo "promtool check metrics: ok"
fi
grep -E '^ctxd_(tool_calls_total|http_requests_total|process_resident_memory_bytes)' "$CTXD_DIR/m.prom"
