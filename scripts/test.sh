#!/usr/bin/env bash
# test.sh - run every test (unit + integration) on the release build and again under
# ASan+UBSan, then print one summary line: `N passed, N failed`.
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
