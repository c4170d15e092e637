#!/usr/bin/env bash
# index.sh - the code index against Universal Ctags, on the same machine in the same run.
#
#  1. throughput: `ctxd index` (tree-sitter, all cores) vs `ctags -R` (definitions only, one core)
#     on the Linux kernel tree (Debian's linux-source): wall seconds, files/s, MB/s, peak RSS, and
#     the ratio ctags/ctxd (goal: >= 1, i.e. ctxd at least as fast; kernel < 300 s, RSS < 2 GB);
#  2. recall: ctags' function/class/struct definitions (by name, file, start line) that ctxd also
#     has, on a kernel subtree and on the CPython standard library (goal >= 95%);
#  3. re-index after a one-file change through the server's watcher (goal < 200 ms wall);
#  4. symbol and callers queries through /v1/tools/call on the kernel index: p50/p99 (goal p99 < 10 ms).
#
# usage: bench/index.sh [TREE]   (default: the kernel tree; a smaller tree makes a quick run)
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
command -v ctags >/dev/null || apt-get install -y -qq universal-ctags >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
if [ -n "${1:-}" ]; then TREE=$(cd "$1" && pwd); else kernel_tree; fi
STDLIB=$($PY -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
SUBTREES=${SUBTREES:-kernel mm fs/ext4 drivers/net/ethernet/intel include/linux}
OUT=$(mktemp -d /tmp/ctxd-bench-index-XXXXXX)
DIRS+=("$OUT")
trap 'exit 1' INT TERM
tree_bytes() { find "$1" -type f \( -name '*.c' -o -name '*.h' -o -name '*.py' -o -name '*.rs' -o -name '*.S' \
    -o -name '*.sh' -o -name '*.pl' -o -name '*.py' -o -name '*.js' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

echo "== 1. full index throughput on $TREE"
nfiles=$(find "$TREE" -type f | wc -l)
mb=$(tree_bytes "$TREE" | awk '{printf "%.1f", $1/1048576}')
echo "tree: $nfiles files, $mb MB of source"
sync
/usr/bin/time -f '%e %M' -o "$OUT/ctags.time" ctags --options=NONE -R -f "$OUT/tags" "$TREE" 2>/dev/null || true
read -r t_ctags rss_ctags <"$OUT/ctags.time"
ctxd_config "$TREE" '"watch": true'
/usr/bin/time -f '%e %M' -o "$OUT/ctxd.time" "$CTXD" index --config "$CTXD_DIR/team.json" >"$OUT/ctxd.out" 2>"$OUT/ctxd.err" ||
    { echo "ctxd index failed:"; tail -5 "$OUT/ctxd.err"; exit 1; }
read -r t_ctxd rss_ctxd <"$OUT/ctxd.time"
DB=$(ls "$CTXD_DIR"/data/index/*/main.db)
printf '%-8s %9s %10s %9s %10s\n' tool seconds files/s MB/s peakRSS_MB
for t in ctags ctxd; do
    s=$([ $t = ctags ] && echo "$t_ctags" || echo "$t_ctxd")
    r=$([ $t = ctags ] && echo "$rss_ctags" || echo "$rss_ctxd")
    printf '%-8s %9.1f %10.0f %9.1f %10.0f\n' $t "$s" "$(echo "$nfiles $s" | awk '{print $1/$2}')" \
        "$(echo "$mb $s" | awk '{print $1/$2}')" "$((r / 1024))"
done
tail -n 1 "$OUT/ctxd.out"
echo "throughput ratio ctxd/ctags (files/s): $(echo "$t_ctags $t_ctxd" | awk '{printf "%.2f", $1/$2}') (goal >= 1.0)"
echo "index size: $(du -m "$DB" | cut -f1) MB"

echo "== 2. recall against ctags (function, class, struct; by name, file, start line)"
recall() { # label root db prefix...
    local label=$1 root=$2 db=$3
    shift 3
    (cd "$root" && ctags --options=NONE -R --output-format=json --fields=+nK -f - "$@" 2>/dev/null) >"$OUT/$label.json"
    $PY - "$OUT/$label.json" "$db" "$label" <<'PY'
import json, sqlite3, sys
tags, db, label = sys.argv[1], sys.argv[2], sys.argv[3]
want = {"function": "function", "method": "function", "member": None, "class": "class",
        "struct": "struct", "union": "struct"}
ct = {}
for line in open(tags, encoding="utf-8", errors="replace"):
    try:
        t = json.loads(line)
    except ValueError:
        continue
    if t.get("_type") != "tag":
        continue
    k = t.get("kind")
    lang = t.get("language", "")
    # Python's methods are ctags' "member"; C's "member" are struct fields (counted apart)
    group = want.get(k) if not (k == "member" and lang == "Python") else "function"
    # ctags names anonymous structs and unions __anonXXXX: nothing anyone can look up
    if group is None or t["name"].startswith("__anon"):
        continue
    path = t["path"][2:] if t["path"].startswith("./") else t["path"]
    ct.setdefault(group, set()).add((t["name"], path, t["line"]))
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
have = set(con.execute("SELECT s.name, f.path, s.start_line FROM symbols s JOIN files f ON f.id = s.file_id"))
tot = found = 0
for g in sorted(ct):
    s = ct[g]
    hit = len(s & have)
    tot += len(s); found += hit
    print("%-8s %-9s ctags %7d  ctxd found %7d  recall %.1f%%" % (label, g, len(s), hit, 100.0 * hit / max(1, len(s))))
print("%-8s all       ctags %7d  ctxd found %7d  recall %.1f%% (goal >= 95%%)" % (label, tot, found, 100.0 * found / max(1, tot)))
PY
}
# shellcheck disable=SC2086
recall kernel "$TREE" "$DB" $SUBTREES
main_dir=$CTXD_DIR main_token=$CTXD_TOKEN
ctxd_config "$STDLIB"
"$CTXD" index --config "$CTXD_DIR/team.json" >/dev/null 2>&1
recall cpython "$STDLIB" "$(ls "$CTXD_DIR"/data/index/*/main.db)" .
CTXD_DIR=$main_dir CTXD_TOKEN=$main_token

echo "== 3. re-index after a one-file change (watcher), and 4. query latency"
ctxd_serve
api() { curl -s -H "Authorization: Bearer $CTXD_TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$1" "http://127.0.0.1:$CTXD_PORT/v1/tools/call"; }
# wait until the server has the index (it checks it at start)
for _ in $(seq 600); do
    api '{"name":"ctx_index","arguments":{"action":"status"}}' | grep -q 'index: ready' && break
    sleep 0.5
done
victim=$(cd "$TREE" && find . -name '*.c' -size +20k | sort | sed -n 100p)
cp "$TREE/$victim" "$OUT/victim.bak"
restore() { cp "$OUT/victim.bak" "$TREE/$victim"; }
trap 'restore; cleanup' EXIT
lat=()
for i in 1 2 3 4 5; do
    name="ctxd_bench_probe_${RANDOM}_$i"
    s=$(date +%s%N)
    printf '\nint %s(void) { return %d; }\n' "$name" "$i" >>"$TREE/$victim"
    ok=0
    for _ in $(seq 2000); do
        if api "{\"name\":\"ctx_search\",\"arguments\":{\"action\":\"symbol\",\"name\":\"$name\"}}" |
            grep -q "$name@L"; then
            ok=1
            break
        fi
    done
    e=$(date +%s%N)
    [ $ok = 1 ] && lat+=($(((e - s) / 1000000))) || echo "probe $i: not seen"
done
restore
echo "re-index latency (write -> symbol visible), ms: ${lat[*]:-none} (goal < 200)"

$PY - "$DB" "$CTXD_PORT" "$CTXD_TOKEN" <<'PY'
import http.client, json, random, sqlite3, sys, time
db, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
names = [r[0] for r in con.execute(
    "SELECT name FROM symbols WHERE kind IN ('fn','method') GROUP BY name ORDER BY random() LIMIT 400")]
callees = [r[0] for r in con.execute(
    "SELECT callee FROM calls GROUP BY callee ORDER BY random() LIMIT 400")]
c = http.client.HTTPConnection("127.0.0.1", port)
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def run(label, bodies):
    lat = []
    for b in bodies:
        s = time.perf_counter()
        c.request("POST", "/v1/tools/call", json.dumps(b), hdr)
        r = c.getresponse(); r.read()
        lat.append((time.perf_counter() - s) * 1000)
        if r.status != 200:
            print(label, "status", r.status); break
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("%-20s n=%d p50 %.2f ms  p99 %.2f ms  max %.2f ms (goal p99 < 10)" % (label, len(lat), p(.5), p(.99), lat[-1]))
run("symbol lookup", [{"name": "ctx_search", "arguments": {"action": "symbol", "name": n}} for n in names])
run("callers", [{"name": "ctx_callgraph", "arguments": {"action": "callers", "symbol": n}} for n in callees])
PY
echo "server RSS: $(($(rss_kb "$CTXD_PID") / 1024)) MB"
