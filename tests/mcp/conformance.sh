#!/usr/bin/env bash
# conformance.sh - run the official MCP conformance suite (@modelcontextprotocol/conformance, pinned
# in tests/mcp/package.json) against a real ctxd: every server scenario the suite has (--suite all),
# with tests/mcp/conformance-baseline.yml as --expected-failures.
#
# ctxd requires a bearer token on every request and the suite cannot send one, so a loopback proxy
# (tests/mcp/auth-proxy.mjs) in front of ctxd adds `Authorization: Bearer <token>` and forwards
# everything else unchanged. The URL the suite gets is http://localhost:<proxy port>/mcp (the
# DNS-rebinding scenario requires a localhost URL).
#
# usage: tests/mcp/conformance.sh [--scenario NAME]...   (default: all server scenarios)
# env:   CTXD_BIN (default build/ctxd), CONFORMANCE_TIMEOUT (seconds, default 100),
#        CTXD_KEEP_TMP=1 keeps the temp dir (server log, proxy log with every request/response).
# Output: the suite's own report, one line per scenario (pass / FAIL / baseline / STALE baseline),
# and last `conformance: N passed, N failed, N expected failures (baseline)`. Exit 0 when nothing
# failed unexpectedly and no baseline entry is stale.
set -uo pipefail
cd "$(dirname "$0")/../.."
here=tests/mcp
node=$here/node_modules/node/bin/node
suite=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js
baseline=$here/conformance-baseline.yml
bin=${CTXD_BIN:-build/ctxd}
limit=${CONFORMANCE_TIMEOUT:-100}

if [ ! -x "$node" ] || [ ! -f "$suite" ]; then
    echo "conformance: $here/node_modules is missing (run scripts/setup.sh, which runs npm ci there)" >&2
    echo "conformance: 0 passed, 1 failed, 0 expected failures (baseline)"
    exit 1
fi

tmp=$(mktemp -d /tmp/ctxd-conformance-XXXXXX)
spid=""
ppid_=""
cleanup() {
    [ -n "$ppid_" ] && kill "$ppid_" 2>/dev/null && wait "$ppid_" 2>/dev/null
    if [ -n "$spid" ]; then
        if ! kill -0 "$spid" 2>/dev/null; then
            echo "conformance: note: ctxd had already exited during the run" >&2
        fi
        kill -TERM "$spid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
        if kill -KILL "$spid" 2>/dev/null; then
            echo "conformance: note: ctxd did not stop within 5 s of SIGTERM (killed)" >&2
        fi
        wait "$spid" 2>/dev/null
        local st=$?
        [ "$st" -ne 0 ] && [ "$st" -ne 137 ] && echo "conformance: note: ctxd exited with status $st" >&2
        grep -q 'Sanitizer' "$tmp/server.log" 2>/dev/null &&
            { echo "conformance: note: sanitizer report in the server log:" >&2; grep -A12 'ERROR: .*Sanitizer' "$tmp/server.log" | head -n 30 >&2; }
    fi
    if [ -n "${CTXD_KEEP_TMP:-}" ]; then echo "conformance: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_setup() {
    echo "conformance: $1" >&2
    [ -f "$tmp/server.log" ] && sed 's/^/  server: /' "$tmp/server.log" | tail -n 20 >&2
    echo "conformance: 0 passed, 1 failed, 0 expected failures (baseline)"
    exit 1
}

# --- a ctxd with a small workspace and one token (scope search: the tools the suite may call).
# The suite sends some hundreds of requests within a second or two: the rate limits are raised so
# that it measures the protocol, not ctxd's default buckets (authentication stays on).
mkdir -p "$tmp/ws/src"
printf '# Demo\n\nA workspace for the conformance run.\n' >"$tmp/ws/README.md"
printf 'int main(void) {\n    return 0;\n}\n' >"$tmp/ws/src/main.c"
cat >"$tmp/team.json" <<EOF
{
  "host": "127.0.0.1",
  "port": 0,
  "defaultWorkspaceId": "main",
  "dataDir": "data",
  "workspaces": [{"id": "main", "label": "Main", "root": "$tmp/ws"}],
  "maxRps": 100000, "rateBurst": 100000, "keyRps": 100000, "keyRateBurst": 100000,
  "ipRps": 100000, "ipRateBurst": 100000,
  "tokens": []
}
EOF
token=$("$bin" team token create --config "$tmp/team.json" --id conformance --scopes search 2>"$tmp/token.err") ||
    fail_setup "token create failed: $(cat "$tmp/token.err")"
"$bin" serve --config "$tmp/team.json" 2>"$tmp/server.log" >/dev/null &
spid=$!
port=""
for _ in $(seq 200); do
    port=$(sed -n 's/^Team Server - 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server.log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$spid" 2>/dev/null || fail_setup "ctxd exited before its banner"
    sleep 0.05
done
[ -n "$port" ] || fail_setup "ctxd printed no banner within 10 s"

# --- the auth-adding proxy
CTXD_PROXY_TOKEN=$token "$node" $here/auth-proxy.mjs --upstream "http://127.0.0.1:$port" \
    --log "$tmp/proxy.log" >"$tmp/proxy.out" 2>"$tmp/proxy.err" &
ppid_=$!
pport=""
for _ in $(seq 200); do
    pport=$(sed -n 's|^auth-proxy listening on http://localhost:\([0-9]*\)$|\1|p' "$tmp/proxy.out")
    [ -n "$pport" ] && break
    kill -0 "$ppid_" 2>/dev/null || fail_setup "auth-proxy exited: $(cat "$tmp/proxy.err")"
    sleep 0.05
done
[ -n "$pport" ] || fail_setup "auth-proxy did not start within 10 s"
# through the proxy: /health answers, and /mcp exists (404 there: a build without MCP)
probe=$("$node" -e '
  const base = process.argv[1];
  (async () => {
    const h = await fetch(base + "/health");
    const m = await fetch(base + "/mcp", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    console.log(`${h.status} ${m.status}`);
  })().catch((e) => console.log(`error ${e.cause?.code ?? e.message}`));' "http://127.0.0.1:$pport")
case $probe in
"200 404") fail_setup "ctxd answers 404 on /mcp: this build has no MCP endpoint" ;;
"200 "*) ;;
*) fail_setup "ctxd /health through the proxy failed: $probe" ;;
esac

# --- the suite: all server scenarios, or those named on the command line
runs=()
if [ $# -eq 0 ]; then
    runs+=("--suite all")
else
    while [ $# -gt 0 ]; do
        case $1 in
        --scenario) runs+=("--scenario $2"); shift 2 ;;
        *) runs+=("--scenario $1"); shift ;;
        esac
    done
fi
mkdir -p "$tmp/results"
: >"$tmp/suite.out"
rc=0
for r in "${runs[@]}"; do
    # shellcheck disable=SC2086
    timeout --kill-after=5 "$limit" "$node" "$suite" server \
        --url "http://localhost:$pport/mcp" $r --expected-failures "$baseline" \
        -o "$tmp/results" --timeout 20000 >>"$tmp/suite.out" 2>&1
    c=$?
    [ $c -ne 0 ] && rc=$c
    [ $c -eq 124 ] || [ $c -eq 137 ] && echo "conformance: the suite ran past ${limit}s and was stopped" >&2
done
# its report without the progress lines and the per-scenario summary (the table below has both)
sed -e 's/\x1b\[[0-9;]*m//g' -e '/^=== SUMMARY ===/,/^Total:/{/^Total:/!d}' "$tmp/suite.out" |
    grep -vE '^(=== Running scenario|Running client scenario|Results saved to|Running .* suite|Expected failures \(in baseline\)|  ~ |\s*$)' >&2

# --- one verdict per scenario, from the suite's SUMMARY and its baseline report (the suite
# counts a WARNING as a failure too, and takes baseline entries per scenario or per
# `scenario:check-id`)
"$node" - "$tmp/suite.out" "$rc" "$tmp/results" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [outPath, rcText, resultsDir] = process.argv.slice(2);
// checks.json per scenario, to tell a real pass from one where nothing applied (all SKIPPED)
const checksOf = new Map();
for (const d of fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir) : []) {
  const m = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(d);
  try {
    if (m) checksOf.set(m[1], JSON.parse(fs.readFileSync(path.join(resultsDir, d, 'checks.json'), 'utf8')));
  } catch {}
}
const out = fs.readFileSync(outPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const scenarios = new Map(); // name -> {summary, unexpected: [], stale: [], expected: []}
const entry = (name) => {
  if (!scenarios.has(name)) scenarios.set(name, { summary: '?', unexpected: [], stale: [], expected: [] });
  return scenarios.get(name);
};
let section = null;
let current = null; // single-scenario runs (--scenario) print no SUMMARY block
for (const line of out.split('\n')) {
  let r;
  if ((r = /^Running client scenario '([^']+)' against/.exec(line))) { current = r[1]; entry(current); section = null; continue; }
  if (current && (r = /^Passed: (\d+)\/\d+, (\d+) failed, (\d+) warnings/.exec(line))) {
    entry(current).summary = `${r[1]} passed, ${r[2]} failed, ${r[3]} warnings`;
    continue;
  }
  if (/^=== SUMMARY ===/.test(line)) { section = 'summary'; continue; }
  if (/^Expected failures \(in baseline\)/.test(line)) { section = 'expected'; continue; }
  if (/^Stale baseline entries/.test(line)) { section = 'stale'; continue; }
  if (/^Unexpected failures \(not in baseline\)/.test(line)) { section = 'unexpected'; continue; }
  let m;
  if (section === 'summary' && (m = /^[✓✗] ([^:]+): (\d+ passed, \d+ failed.*)$/.exec(line))) {
    entry(m[1]).summary = m[2];
  } else if (section && section !== 'summary' && (m = /^  [~✓✗] (\S+)$/.exec(line))) {
    const i = m[1].indexOf(':');
    const [name, check] = i < 0 ? [m[1], '(whole scenario)'] : [m[1].slice(0, i), m[1].slice(i + 1)];
    entry(name)[section].push(check);
  }
}
let passed = 0, failed = 0, expected = 0;
const lines = [];
for (const [name, s] of [...scenarios].sort()) {
  let verdict;
  if (s.unexpected.length) { verdict = 'FAIL'; failed++; }
  else if (s.stale.length) { verdict = 'STALE'; failed++; }
  else if (s.expected.length) { verdict = 'baseline'; expected++; }
  else { verdict = 'pass'; passed++; }
  const checks = checksOf.get(name) ?? [];
  const real = checks.filter((c) => c.status === 'SUCCESS' && c.id !== 'wire-schema-valid').length;
  const skippedChecks = checks.filter((c) => c.status === 'SKIPPED').length;
  if (verdict === 'pass' && real === 0) s.expected.push(`(vacuous: no check applied${skippedChecks ? `, ${skippedChecks} skipped` : ''})`);
  const detail = [
    ...s.unexpected.map((c) => `unexpected failure: ${c}`),
    ...s.stale.map((c) => `stale baseline entry (passes now: remove it): ${c}`),
    ...s.expected.filter((c) => c !== '(whole scenario)').map((c) => (c.startsWith('(vacuous') ? c : `baselined check: ${c}`)),
  ];
  lines.push(`  ${name.padEnd(46)} ${verdict.padEnd(8)} [${s.summary}]` + (detail.length ? `\n      ${detail.join('\n      ')}` : ''));
}
const rc = Number(rcText);
if (scenarios.size === 0) { lines.push('  the suite printed no summary (it crashed or ran out of time)'); failed++; }
else if (rc !== 0 && failed === 0) { lines.push(`  the suite exited ${rc} although every scenario matched the baseline`); failed++; }
else if (rc === 0 && failed > 0) { lines.push(`  note: the suite exited 0 but this summary found ${failed} failures`); }
console.error(`conformance results per scenario (${scenarios.size}):\n${lines.join('\n')}`);
console.log(`conformance: ${passed} passed, ${failed} failed, ${expected} expected failures (baseline)`);
process.exit(failed ? 1 : 0);
EOF
