#!/usr/bin/env bash
# http.sh - request throughput and latency with wrk on 127.0.0.1, 64 connections:
#   ctxd GET /health, ctxd POST /v1/tools/call ctx_read of a 4 KB file (authenticated,
#   rate-limited, audited), and nginx (Debian's, started here) serving the same file.
# Goal: ctx_read >= 50% of nginx's requests/s, ctx_read p99 < 5 ms.
# Then RSS: idle after start (goal <= 20 MB) and after >= 100k requests (goal within 10%).
# Usage: bench/http.sh [seconds per run, default 10]
source "$(dirname "$0")/lib.sh"
DUR=${1:-10}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v nginx >/dev/null || apt-get install -y -qq nginx-light >/dev/null

WS=$(mktemp -d /tmp/ctxd-bench-ws-XXXXXX)
DIRS+=("$WS")
head -c 4096 /dev/urandom | base64 -w 76 | head -c 4096 > "$WS/file.txt"
chmod 755 "$WS"; chmod 644 "$WS/file.txt" # nginx workers run as www-data

# nginx on its own port, in the foreground of a background job
NGX=$(mktemp -d /tmp/ctxd-bench-nginx-XXXXXX)
DIRS+=("$NGX")
NGX_PORT=$((20000 + RANDOM % 20000))
cat > "$NGX/nginx.conf" <<CONF
worker_processes auto;
pid $NGX/nginx.pid;
error_log $NGX/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    server { listen 127.0.0.1:$NGX_PORT; root $WS; }
}
CONF
nginx -c "$NGX/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

start_ctxd "$WS"
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$NGX_PORT/file.txt" && break; sleep 0.05; done
sleep 1
IDLE_KB=$(rss_kb "$CTXD_PID")

cat > "$CTXD_DIR/read.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"name":"ctx_read","arguments":{"path":"file.txt","mode":"full"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $CTXD_TOKEN"
LUA

# sanity: the call works and returns the file
curl -sf -H "Authorization: Bearer $CTXD_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"ctx_read","arguments":{"path":"file.txt","mode":"full"}}' \
    "http://127.0.0.1:$CTXD_PORT/v1/tools/call" | jq -e '.result.isError == false' >/dev/null
curl -sf "http://127.0.0.1:$NGX_PORT/file.txt" | cmp - "$WS/file.txt"

run_wrk() { # label url [script]
    local out
    out=$(wrk -t2 -c64 -d"${DUR}s" --latency ${3:+-s "$3"} "$2")
    local rps p99 reqs
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    local non2xx
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-28s %12s req/s   p99 %-9s requests %-9s non-2xx %s\n' "$1" "$rps" "$p99" "$reqs" "${non2xx:-0}"
    eval "${4:-_}_rps=$rps; ${4:-_}_p99=$p99; ${4:-_}_reqs=$reqs"
}
echo "wrk -t2 -c64 -d${DUR}s on 127.0.0.1 ($(nproc) cores, shared with the servers)"
run_wrk "nginx GET /file.txt (4 KB)" "http://127.0.0.1:$NGX_PORT/file.txt" "" ngx
run_wrk "ctxd GET /health" "http://127.0.0.1:$CTXD_PORT/health" "" health
run_wrk "ctxd ctx_read (4 KB)" "http://127.0.0.1:$CTXD_PORT/v1/tools/call" "$CTXD_DIR/read.lua" read

total=$((health_reqs + read_reqs))
while [ "$total" -lt 100000 ]; do
    run_wrk "ctxd ctx_read (more load)" "http://127.0.0.1:$CTXD_PORT/v1/tools/call" "$CTXD_DIR/read.lua" more
    total=$((total + more_reqs))
done
sleep 6 # idle again: the server returns freed heap after 5 s without requests
LOADED_KB=$(rss_kb "$CTXD_PID")
echo
awk -v r="$read_rps" -v n="$ngx_rps" 'BEGIN {printf "ctx_read / nginx requests/s: %.2f (goal >= 0.50)\n", r/n}'
echo "ctx_read p99: $read_p99 (goal < 5ms)"
awk -v i="$IDLE_KB" -v l="$LOADED_KB" -v t="$total" 'BEGIN {
    printf "RSS idle: %.1f MB (goal <= 20 MB); after %d requests: %.1f MB (%+.1f%%, goal within 10%%)\n",
           i/1024, t, l/1024, (l-i)*100/i }'
