#!/usr/bin/env bash
# readmodes.sh - how small ctx_read mode=signatures is, and whether it lists every function.
#
# Two corpora of ~200 files each, picked deterministically (every Nth in sorted order): C files
# of the Linux kernel tree (bench/lib.sh extracts it once under /var/tmp/ctxd-bench) and Python
# files of /usr/lib/python3.11. The files are copied into a throwaway workspace (so the server's
# background index build stays small), read through `ctxd serve` + curl, and compared with
# Universal Ctags (`--kinds-C=f`, `--kinds-Python=fm`: the functions a signature list must hold).
# Prints per corpus: the median (and p90) of signatures-output bytes / file bytes (goal < 15%),
# how many files anti-inflation served as full, and the share of ctags functions listed.
#
# Usage: bench/readmodes.sh [files-per-corpus]   (CTXD=path/to/ctxd, default build/ctxd;
#        VERBOSE=1 lists the ctags functions a signature list missed, on stderr;
#        SAVE=dir keeps each output as dir/<corpus>/<path>.sig)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${1:-200}
command -v ctags >/dev/null || { echo "needs universal-ctags" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }

kernel_tree
PY=/usr/lib/python3.11
WS=$(mktemp -d /tmp/ctxd-readmodes-XXXXXX)
PIDS_CLEAN() { rm -rf "$WS"; }
trap 'cleanup; PIDS_CLEAN' EXIT

# pick N files of a list, evenly spread over it
pick() { local all; all=$(cat); local n; n=$(printf '%s\n' "$all" | wc -l)
         local step=$(( n / N > 0 ? n / N : 1 ))
         printf '%s\n' "$all" | awk -v s="$step" 'NR % s == 0' | head -n "$N"; }

(cd "$TREE" && find . -name '*.c' -size +0 | sort | pick) | sed 's|^\./||' >"$WS.c.list"
(cd "$PY" && find . -name '*.py' -size +0 -not -path '*/test/*' -not -path '*/tests/*' | sort | pick) \
    | sed 's|^\./||' >"$WS.py.list"
mkdir -p "$WS/c" "$WS/py"
(cd "$TREE" && xargs -a "$WS.c.list" cp --parents -t "$WS/c")
(cd "$PY" && xargs -a "$WS.py.list" cp --parents -t "$WS/py")

start_ctxd "$WS"
URL="http://127.0.0.1:$CTXD_PORT/v1/tools/call"

measure() { # corpus-dir list-file label ctags-kinds
    local dir=$1 list=$2 label=$3 kinds=$4
    local ratios=() full=0 want=0 found=0 t0 t1
    t0=$(date +%s%N)
    while IFS= read -r rel; do
        local path="$dir/$rel" size out bytes
        size=$(stat -c %s "$WS/$path")
        out=$(curl -s -H "Authorization: Bearer $CTXD_TOKEN" -H 'Content-Type: application/json' \
            "$URL" -d "$(jq -cn --arg p "$path" '{name:"ctx_read",arguments:{path:$p,mode:"signatures"}}')" \
            | jq -r '.result.content[0].text')
        bytes=$(printf '%s' "$out" | wc -c)
        if [ -n "${SAVE:-}" ]; then
            mkdir -p "$(dirname "$SAVE/$path")" && printf '%s\n' "$out" >"$SAVE/$path.sig"
        fi
        ratios+=("$(awk -v b="$bytes" -v s="$size" 'BEGIN { printf "%.4f", b / s }')")
        case $(printf '%s' "$out" | head -n 1) in *"mode:signatures→full"*) full=$((full + 1));; esac
        # every function ctags finds must have its `fn ... name(` line (or be in a full answer)
        local tags listed
        tags=$(ctags --options=NONE -f - $kinds "$WS/$path" 2>/dev/null | cut -f1 | sort -u)
        [ -z "$tags" ] && continue
        want=$((want + $(printf '%s\n' "$tags" | wc -l)))
        if printf '%s' "$out" | head -n 1 | grep -q 'mode:signatures→full'; then
            found=$((found + $(printf '%s\n' "$tags" | wc -l)))
            continue
        fi
        listed=$(printf '%s\n' "$out" | sed -nE 's/^ *fn (async )?(pub )?([^ (]+)[( ].*/\3/p' | sort -u)
        found=$((found + $(comm -12 <(printf '%s\n' "$tags") <(printf '%s\n' "$listed") | wc -l)))
        if [ -n "${VERBOSE:-}" ]; then
            comm -23 <(printf '%s\n' "$tags") <(printf '%s\n' "$listed") | sed "s|^|  missing: $path: |" >&2
        fi
    done <"$list"
    t1=$(date +%s%N)
    local n=${#ratios[@]}
    printf '%s\n' "${ratios[@]}" | sort -g >"$WS.r"
    local med p90
    med=$(awk -v n="$n" 'NR == int((n + 1) / 2) { print }' "$WS.r")
    p90=$(awk -v n="$n" 'NR == int(n * 0.9 + 0.5) { print }' "$WS.r")
    printf '%-8s files %4d  median %5.1f%%  p90 %5.1f%%  served as full %3d  ctags functions listed %d/%d (%.1f%%)  %.1f ms/file\n' \
        "$label" "$n" "$(awk -v r="$med" 'BEGIN{print r*100}')" "$(awk -v r="$p90" 'BEGIN{print r*100}')" \
        "$full" "$found" "$want" "$(awk -v f="$found" -v w="$want" 'BEGIN{print w ? 100*f/w : 100}')" \
        "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{print (b-a)/1e6/n}')"
}

echo "ctx_read mode=signatures: output bytes / file bytes (goal: median < 15%)"
measure c "$WS.c.list" "kernel-c" "--kinds-C=f"
measure py "$WS.py.list" "python" "--kinds-Python=fm"
rm -f "$WS.c.list" "$WS.py.list" "$WS.r"
