#!/usr/bin/env bash
# test.sh - run every test (unit + integration) on the release build and again under
# ASan+UBSan, then the MCP interoperability tests (tests/mcp: the official TypeScript SDKs under
# node's test runner and the official conformance suite, against the release and the ASan+UBSan
# server), then print one summary line: `N passed, N failed`
# (`, N skipped` follows when tests were skipped or conformance scenarios are expected failures
# listed in tests/mcp/conformance-baseline.yml).
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
run() { # name binary [env...]
    local name=$1 bin=$2
    shift 2
    echo "== $name" >&2
    local out
    out=$(env "$@" "$bin" --jobs 2 2>&1)
    local rc=$?
    echo "$out" | grep -vE '^\[(RUN |PASS)\]' | tail -n 60 >&2
    local line
    line=$(echo "$out" | grep 'Synthesis:' | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: no summary (exit $rc)" >&2
        failed=$((failed + 1))
        return
    fi
    local p f c
    p=$(echo "$line" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failing: ([0-9]+).*/\1/')
    c=$(echo "$line" | sed -E 's/.*Crashing: ([0-9]+).*/\1/')
    passed=$((passed + p))
    failed=$((failed + f + c))
}
# Test processes end early on a failed assertion and leave their own allocations, so leaks are
# checked where they matter: in the server, whose clean exit (status 0, which LeakSanitizer
# turns into 23 on a leak) the integration tests assert on every SIGTERM.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export CTXD_SERVER_ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run "unit (release)" build/test_unit
run "integration (release)" build/test_integration CTXD_BIN=build/ctxd
run "unit (asan+ubsan)" build-asan/test_unit
run "integration (asan+ubsan)" build-asan/test_integration CTXD_BIN=build-asan/ctxd

# ---- MCP interoperability (tests/mcp; setup.sh runs `npm ci` there). Node 22 comes from the
# pinned npm package `node` (the conformance suite needs Node >= 22; Debian's is older).
skipped=0
mcp_node=tests/mcp/node_modules/node/bin/node
# the whole MCP part gets 120 s: each step's own limit is cut to what is left
mcp_deadline=$((SECONDS + 120))
mcp_left() { # cap -> seconds this step may take (0 when the budget is spent)
    local left=$((mcp_deadline - SECONDS))
    [ "$left" -gt "$1" ] && left=$1
    [ "$left" -lt 10 ] && left=0
    echo "$left"
}
mcp_sdk() { # name server-binary [env...]
    local name=$1 bin=$2
    shift 2
    echo "== $name" >&2
    local limit
    limit=$(mcp_left 40)
    if [ "$limit" -eq 0 ]; then
        echo "$name: not run, the MCP time budget (120 s) is spent" >&2
        failed=$((failed + 1))
        return
    fi
    local tap spec
    tap=$(mktemp /tmp/ctxd-mcp-tap-XXXXXX)
    spec=$(mktemp /tmp/ctxd-mcp-spec-XXXXXX)
    # a spec report for the log (suites, failures, skips, then the details of each failure) and
    # TAP for the counts
    env CTXD_BIN="$bin" "$@" timeout --kill-after=5 "$limit" "$mcp_node" --test --test-timeout=30000 \
        --test-reporter=spec --test-reporter-destination="$spec" \
        --test-reporter=tap --test-reporter-destination="$tap" tests/mcp/*.test.mjs >"$spec.out" 2>&1
    local rc=$?
    sed '/^✖ failing tests:/q' "$spec" | grep -E '^\s*(▶|✖|﹣)' | grep -v '^✖ failing tests:' >&2
    sed -n '/^✖ failing tests:/,$p' "$spec" | head -n 150 >&2
    [ -s "$spec.out" ] && tail -n 20 "$spec.out" >&2
    rm -f "$spec" "$spec.out"
    local p f c s
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap")
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap")
    c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap")
    s=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap")
    rm -f "$tap"
    if [ -z "$p" ] || [ -z "$f" ]; then
        echo "$name: no summary (exit $rc)" >&2
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + p))
    failed=$((failed + f + ${c:-0}))
    skipped=$((skipped + ${s:-0}))
    if [ "$rc" -ne 0 ] && [ $((f + ${c:-0})) -eq 0 ]; then
        echo "$name: exit $rc with no failed test" >&2
        failed=$((failed + 1))
    fi
    [ "${s:-0}" -gt 0 ] && echo "$name: ${s} skipped (see the reasons above)" >&2
}
mcp_conformance() { # name server-binary
    local name=$1 bin=$2
    echo "== $name" >&2
    local limit
    limit=$(mcp_left 45)
    if [ "$limit" -eq 0 ]; then
        echo "$name: not run, the MCP time budget (120 s) is spent" >&2
        failed=$((failed + 1))
        return
    fi
    local line
    # the suite's own limit leaves time for starting and stopping ctxd and the proxy
    line=$(CTXD_BIN="$bin" CONFORMANCE_TIMEOUT=$((limit - 8)) bash tests/mcp/conformance.sh | tail -n 1)
    echo "$line" >&2
    if [[ "$line" =~ ^conformance:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ expected ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
    else
        echo "$name: no summary" >&2
        failed=$((failed + 1))
    fi
}
if [ ! -x "$mcp_node" ] || [ ! -d tests/mcp/node_modules/@modelcontextprotocol/sdk ]; then
    echo "== mcp: tests/mcp/node_modules is missing or incomplete: run scripts/setup.sh" \
        "(it runs npm ci in tests/mcp); the MCP tests did not run" >&2
    failed=$((failed + 1))
else
    mcp_sdk "mcp sdk (release)" build/ctxd
    mcp_sdk "mcp sdk (asan+ubsan)" build-asan/ctxd
    mcp_conformance "mcp conformance (release)" build/ctxd
    mcp_conformance "mcp conformance (asan+ubsan)" build-asan/ctxd
fi

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
