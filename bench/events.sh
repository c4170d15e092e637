#!/usr/bin/env bash
# events.sh - event delivery under load (issue 6, EVENTS): 200 SSE subscribers on /v1/events
#   (13 credentials, 4 channels: the caps are 16 streams per credential and 64 per channel)
#   while tool calls run at 50/s for DUR seconds, spread over the 4 channels. Each event's
#   delivery latency is the receive time minus the emit time in its payload (`timestamp`, ms).
# Goal: p99 < 100 ms. Also: server CPU (user+sys over the run) and RSS (at the end, and peak).
# Usage: bench/events.sh [seconds, default 20] [subscribers, default 200] [calls/s, default 50]
source "$(dirname "$0")/lib.sh"
DUR=${1:-20}
SUBS=${2:-200}
RATE=${3:-50}
NTOK=13

WS=$(mktemp -d /tmp/ctxd-bench-ws-XXXXXX)
DIRS+=("$WS")
echo "hello" > "$WS/README.md"
ctxd_config "$WS"
TOKENS=()
for i in $(seq 1 $NTOK); do
    TOKENS+=("$("$CTXD" team token create --config "$CTXD_DIR/team.json" --id "sub$i" --role admin 2>/dev/null)")
done
ctxd_serve
sleep 1

cat > "$CTXD_DIR/bench.py" <<'PY'
import asyncio, os, re, sys, time, datetime, json, http.client, multiprocessing

port = int(sys.argv[1]); dur = float(sys.argv[2]); nsubs = int(sys.argv[3]); rate = float(sys.argv[4])
tokens = sys.argv[5].split(","); caller = sys.argv[6]
TS = re.compile(rb'"timestamp":"([^"]+)"')
lat = []
started = 0
counts = [0] * nsubs
parse_cache = {}

def ts_ms(s):
    v = parse_cache.get(s)
    if v is None:
        d = datetime.datetime.strptime(s.decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        v = d.timestamp() * 1000.0
        if len(parse_cache) > 100000:
            parse_cache.clear()
        parse_cache[s] = v
    return v

async def sub(i, go, stop):
    global started
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(("GET /v1/events?channelId=c%d&kind=tool_call_recorded HTTP/1.0\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer %s\r\n\r\n" % (i % 4, tokens[i % len(tokens)])).encode())
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        print("subscriber %d refused: %s" % (i, head.split(b"\r\n")[0].decode()), file=sys.stderr)
        sys.exit(1)
    started += 1
    buf = b""
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(r.read(65536), 0.5)
        except asyncio.TimeoutError:
            continue
        if not chunk:
            break
        now = time.time() * 1000.0
        buf += chunk
        while b"\n\n" in buf:
            blk, buf = buf.split(b"\n\n", 1)
            m = TS.search(blk)
            if m and go.is_set():
                lat.append(now - ts_ms(m.group(1)))
                counts[i] += 1
    w.close()

def driver(port, token, dur, rate, out):
    c = http.client.HTTPConnection("127.0.0.1", port)
    n = ok = 0
    t0 = time.time()
    while time.time() - t0 < dur:
        body = json.dumps({"name": "ctx_read", "arguments": {"path": "README.md"}, "channelId": "c%d" % (n % 4)})
        c.request("POST", "/v1/tools/call", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        resp = c.getresponse(); resp.read()
        ok += resp.status == 200
        n += 1
        nxt = t0 + n / rate
        d = nxt - time.time()
        if d > 0:
            time.sleep(d)
    out.put((n, ok, time.time() - t0))

async def main():
    go, stop = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(sub(i, go, stop)) for i in range(nsubs)]
    t0 = time.time()
    while started < nsubs and time.time() - t0 < 30:
        await asyncio.sleep(0.05)
    if started < nsubs:
        print("only %d of %d subscribers connected" % (started, nsubs), file=sys.stderr); sys.exit(1)
    go.set()
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=driver, args=(port, caller, dur, rate, q)); p.start()
    while p.is_alive():
        await asyncio.sleep(0.1)
    n, ok, took = q.get()
    await asyncio.sleep(1.0)  # the last deliveries
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    lat.sort()
    pct = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else float("nan")
    expected = ok * (nsubs // 4)
    print("calls: %d (%d ok) in %.1f s = %.1f/s; deliveries: %d (expected about %d)" % (n, ok, took, n / took, len(lat), expected))
    print("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f" % (pct(0.5), pct(0.9), pct(0.99), lat[-1] if lat else float("nan")))
    print("RESULT p99_ms=%.1f" % pct(0.99))

asyncio.run(main())
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
RSS0=$(rss_kb "$CTXD_PID")
T0=$(cpu_ticks "$CTXD_PID")
S0=$(date +%s.%N)
OUT=$(python3 "$CTXD_DIR/bench.py" "$CTXD_PORT" "$DUR" "$SUBS" "$RATE" "$(IFS=,; echo "${TOKENS[*]}")" "$CTXD_TOKEN")
S1=$(date +%s.%N)
T1=$(cpu_ticks "$CTXD_PID")
RSS1=$(rss_kb "$CTXD_PID")
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$CTXD_PID/status")
echo "$OUT" | grep -v '^RESULT'
awk -v t="$((T1 - T0))" -v hz="$HZ" -v s0="$S0" -v s1="$S1" \
    'BEGIN { printf "server CPU: %.2f s over %.1f s = %.0f%% of one core\n", t / hz, s1 - s0, 100 * t / hz / (s1 - s0) }'
echo "server RSS: ${RSS0} kB before, ${RSS1} kB after, peak ${HWM} kB"
P99=$(echo "$OUT" | sed -n 's/^RESULT p99_ms=//p')
awk -v p="$P99" 'BEGIN { if (p + 0 < 100) print "goal p99 < 100 ms: met"; else print "goal p99 < 100 ms: NOT met" }'
