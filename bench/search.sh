#!/usr/bin/env bash
# search.sh - ctx_search action=regex against `rg -n` on the Linux kernel source (Debian's
# linux-source package, extracted once into /var/tmp/ctxd-bench). Same patterns, same tree, same run:
# prints each tool's match count and wall time, and the ratio ctxd/rg (goal: <= 1.5, counts
# equal). Both are measured warm (one untimed run first), best of 3.
source "$(dirname "$0")/lib.sh"
kernel_tree
start_ctxd "$TREE"
PATTERNS=("${@:-}")
if [ -z "${PATTERNS[0]}" ]; then
    PATTERNS=('EXPORT_SYMBOL_GPL' '\bstruct\s+\w+_operations\b' '(?i)spin_lock_irqsave' 'static int __init \w+\(void\)' 'TODO|FIXME')
fi
best() { # command... -> best wall seconds of 3
    local b=999
    for _ in 1 2 3; do
        local s e
        s=$(date +%s.%N)
        "$@" >/dev/null
        e=$(date +%s.%N)
        b=$(echo "$b $s $e" | awk '{d=$3-$2; print (d<$1)?d:$1}')
    done
    echo "$b"
}
rg_quiet() { rg -n --no-config -- "$1" . || true; }
ctxd_search() {
    curl -s -H "Authorization: Bearer $CTXD_TOKEN" -H 'Content-Type: application/json' \
        --data-binary @- "http://127.0.0.1:$CTXD_PORT/v1/tools/call" <<JSON
{"name":"ctx_search","arguments":{"pattern":$(printf '%s' "$1" | jq -Rs .),"max_results":20}}
JSON
}
printf '%-40s %10s %10s %9s %9s %7s\n' pattern rg_count ctxd_count rg_s ctxd_s ratio
worst=0
for p in "${PATTERNS[@]}"; do
    rgp=$p
    rg_count=$(cd "$TREE" && rg -n --no-config -c -- "$rgp" . 2>/dev/null | awk -F: '{s+=$NF} END {print s+0}' || true)
    ctxd_count=$(ctxd_search "$p" | jq -r '.result.content[0].text' | head -n 1 | awk '{print $1}')
    (cd "$TREE" && rg -n --no-config -- "$rgp" . >/dev/null 2>&1) || true
    t_rg=$(cd "$TREE" && best rg_quiet "$rgp")
    t_ctxd=$(best ctxd_search "$p")
    ratio=$(echo "$t_ctxd $t_rg" | awk '{printf "%.2f", $1/$2}')
    worst=$(echo "$worst $ratio" | awk '{print ($2>$1)?$2:$1}')
    printf '%-40s %10s %10s %9.3f %9.3f %7s%s\n' "$p" "$rg_count" "$ctxd_count" "$t_rg" "$t_ctxd" "$ratio" \
        "$([ "$rg_count" = "$ctxd_count" ] && echo '' || echo '  COUNT MISMATCH')"
done
echo "worst ratio ctxd/rg: $worst (goal <= 1.5)"
