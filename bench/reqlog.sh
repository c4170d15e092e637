#!/usr/bin/env bash
# reqlog.sh - request-log writes never block a request (issue 5): two servers on the same
#   workspace, one with "requestLog": true (every request queues a request_log row for the
#   store's batched writer) and one with "requestLog": false, each driven by the same bounded
#   load: C keep-alive clients (wrk), closed loop, calling ctx_read of a 4 KB file for DUR
#   seconds, rounds alternating between the two servers. Then one more round on the logging
#   server while another process holds the database's write lock for most of it (the writer
#   cannot commit; requests must not notice). Prints p50/p99 latency and requests/s per round,
#   the medians and the on/off ratio, then checks that the logging server's database holds one
#   row per request and the other none.
# Goal: p99 with logging on within noise of logging off (ratio ~1.0), also while locked.
# Usage: bench/reqlog.sh [seconds per round, default 5] [clients, default 2] [rounds, default 3]
source "$(dirname "$0")/lib.sh"
DUR=${1:-5}
CLIENTS=${2:-2}
ROUNDS=${3:-3}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null

WS=$(mktemp -d /tmp/ctxd-bench-ws-XXXXXX)
DIRS+=("$WS")
head -c 3072 /dev/urandom | base64 -w 76 | head -c 4096 >"$WS/file.txt"

start_ctxd "$WS" '"requestLog": true'
ON_DIR=$CTXD_DIR ON_PORT=$CTXD_PORT ON_PID=$CTXD_PID ON_TOKEN=$CTXD_TOKEN
start_ctxd "$WS" '"requestLog": false'
OFF_DIR=$CTXD_DIR OFF_PORT=$CTXD_PORT OFF_PID=$CTXD_PID OFF_TOKEN=$CTXD_TOKEN

write_lua() { # file token
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '{"name":"ctx_read","arguments":{"path":"file.txt","mode":"full"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
write_lua "$ON_DIR/read.lua" "$ON_TOKEN"
write_lua "$OFF_DIR/read.lua" "$OFF_TOKEN"
for p in "$ON_PORT:$ON_TOKEN" "$OFF_PORT:$OFF_TOKEN"; do
    curl -sf -H "Authorization: Bearer ${p#*:}" -H 'Content-Type: application/json' \
        -d '{"name":"ctx_read","arguments":{"path":"file.txt","mode":"full"}}' \
        "http://127.0.0.1:${p%%:*}/v1/tools/call" | grep -q '"isError":false'
done

to_us() { # wrk's "1.23ms" / "456.00us" / "1.01s" -> microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000;
                           else if (v ~ /s$/) m = 1000000; else m = 1; printf "%.0f", n * m }'
}

run() { # port dir -> "p50_us p99_us rps requests"
    local out
    out=$(wrk -t"$CLIENTS" -c"$CLIENTS" -d"${DUR}s" --latency -s "$2/read.lua" \
        "http://127.0.0.1:$1/v1/tools/call")
    if echo "$out" | grep -q 'Non-2xx'; then
        echo "$out" >&2
        exit 1
    fi
    echo "$(to_us "$(echo "$out" | awk '$1=="50%" {print $2}')")" \
        "$(to_us "$(echo "$out" | awk '$1=="99%" {print $2}')")" \
        "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
        "$(echo "$out" | awk '/requests in/ {print $1}')"
}

echo "ctx_read of a 4 KB file, ${DUR} s per round, $CLIENTS keep-alive clients, $ROUNDS rounds" \
    "($(nproc) cores, shared)"
printf '%-6s %-12s %9s %9s %9s\n' round requestLog p50_us p99_us req/s
ON_P50=() ON_P99=() OFF_P50=() OFF_P99=() ON_REQS=0
for r in $(seq "$ROUNDS"); do
    # alternate which goes first, so a drift in the machine's load hits both alike
    order="on off"
    [ $((r % 2)) -eq 0 ] && order="off on"
    for which in $order; do
        if [ "$which" = on ]; then
            read -r p50 p99 rps reqs < <(run "$ON_PORT" "$ON_DIR")
            ON_P50+=("$p50") ON_P99+=("$p99") ON_REQS=$((ON_REQS + reqs))
        else
            read -r p50 p99 rps reqs < <(run "$OFF_PORT" "$OFF_DIR")
            OFF_P50+=("$p50") OFF_P99+=("$p99")
        fi
        printf '%-6s %-12s %9s %9s %9s\n' "$r" "$which" "$p50" "$p99" "$rps"
    done
done

# the locked round: a writer elsewhere holds the lock for most of the round (less than the
# store's 5 s busy timeout, and less than the queue's 65,536 rows at this rate)
LOCK_S=$((DUR > 4 ? 3 : DUR - 1))
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")' "$ON_DIR/data/ctxd.db" "$LOCK_S" &
LOCKER=$!
sleep 0.2
read -r L50 L99 LRPS LREQS < <(run "$ON_PORT" "$ON_DIR")
wait "$LOCKER"
ON_REQS=$((ON_REQS + LREQS))
printf '%-6s %-12s %9s %9s %9s   (database write-locked for %s s of it)\n' locked on "$L50" \
    "$L99" "$LRPS" "$LOCK_S"

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
M_ON50=$(median "${ON_P50[@]}") M_ON99=$(median "${ON_P99[@]}")
M_OFF50=$(median "${OFF_P50[@]}") M_OFF99=$(median "${OFF_P99[@]}")
echo
echo "median  requestLog on:  p50 ${M_ON50} us  p99 ${M_ON99} us"
echo "median  requestLog off: p50 ${M_OFF50} us  p99 ${M_OFF99} us"
awk -v a="$M_ON50" -v b="$M_OFF50" -v c="$M_ON99" -v d="$M_OFF99" \
    'BEGIN { printf "ratio on/off: p50 %.2f  p99 %.2f\n", a / b, c / d }'
awk -v c="$L99" -v d="$M_OFF99" 'BEGIN { printf "ratio locked/off: p99 %.2f\n", c / d }'

# the rows: stop both servers (the close commits what the writer still had pending)
kill "$ON_PID" "$OFF_PID"
wait "$ON_PID" "$OFF_PID" 2>/dev/null || true
count() { python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM request_log").fetchone()[0])' "$1"; }
ON_ROWS=$(count "$ON_DIR/data/ctxd.db")
OFF_ROWS=$(count "$OFF_DIR/data/ctxd.db")
# wrk counts the calls it completed; the warm-up call is one more
echo "request_log rows: on $ON_ROWS (wrk completed $ON_REQS + 1 warm-up), off $OFF_ROWS"
[ "$OFF_ROWS" -eq 0 ] || { echo "requestLog false wrote rows" >&2; exit 1; }
[ "$ON_ROWS" -ge $((ON_REQS + 1)) ] || { echo "rows missing" >&2; exit 1; }
