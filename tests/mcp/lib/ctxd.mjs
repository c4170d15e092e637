// ctxd.mjs - start a real ctxd for the MCP interoperability tests, the way
// tests/integration/harness.c does: a temp dir with team.json (127.0.0.1, port 0), a small
// workspace, tokens minted with `ctxd team token create`, and the port read from the banner
// line `Team Server - 127.0.0.1:<port>` on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The ctxd binary: $CTXD_BIN (relative to the repository root) or build/ctxd. */
export function ctxdBin() {
  return resolve(repoRoot, process.env.CTXD_BIN || 'build/ctxd');
}

/** Run a ctxd subcommand synchronously; returns {status, stdout, stderr}. */
export function runCtxd(args, opts = {}) {
  const r = spawnSync(ctxdBin(), args, { encoding: 'utf8', timeout: 15000, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Whether this build has `ctxd connect` (the stdio bridge): `ctxd help` lists it. */
export function hasConnect() {
  const r = runCtxd(['help']);
  return /^\s*ctxd connect\b/m.test(r.stdout + r.stderr);
}

/** The workspace every test server serves (path → content). */
export const WORKSPACE = {
  'README.md': '# Demo\n\nA small workspace for the MCP tests.\n',
  'src/main.c': 'int main(void) {\n    return 0;\n}\n',
  'src/util.c': 'int add(int a, int b)\n{\n    return a + b;\n}\n',
  'docs/notes.txt': 'needle-7f3a lives here\n',
};

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/**
 * Start ctxd. tokens: {id: 'scope,scope'}; returns
 * {port, base, mcpUrl, tokens: {id: plaintext}, dir, ws, config, log(), stop()}.
 */
export async function startServer({ tokens = { all: 'search,graph,artifacts,index,events,sessionMutations,knowledge' }, extra = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ctxd-mcp-test-'));
  const ws = join(dir, 'ws');
  for (const [rel, content] of Object.entries(WORKSPACE)) {
    const p = join(ws, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  const config = join(dir, 'team.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        host: '127.0.0.1',
        port: 0,
        defaultWorkspaceId: 'main',
        dataDir: 'data',
        workspaces: [{ id: 'main', label: 'Main', root: ws }],
        tokens: [],
        ...extra,
      },
      null,
      2,
    ),
  );
  const minted = {};
  for (const [id, scopes] of Object.entries(tokens)) {
    const r = runCtxd(['team', 'token', 'create', '--config', config, '--id', id, '--scopes', scopes]);
    const tok = r.stdout.trim();
    if (r.status !== 0 || !/^[0-9a-f]{64}$/.test(tok)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ctxd team token create --id ${id} failed (exit ${r.status}): ${r.stderr}`);
    }
    minted[id] = tok;
  }
  const logPath = join(dir, 'server.log');
  // like tests/integration/harness.c: the server may run under other sanitizer options than the
  // rest (scripts/test.sh checks leaks in the server, whose clean exit the tests assert)
  const env = { ...process.env };
  if (process.env.CTXD_SERVER_ASAN_OPTIONS) env.ASAN_OPTIONS = process.env.CTXD_SERVER_ASAN_OPTIONS;
  const child = spawn(ctxdBin(), ['serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env });
  live.add(child);
  let log = '';
  let exited = null;
  const exitP = new Promise((res) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      res(exited);
    });
  });
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`ctxd printed no banner within 10 s:\n${log}`)), 10000);
    child.stderr.on('data', (d) => {
      log += d.toString();
      writeFileSync(logPath, log);
      const m = /Team Server - 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`ctxd exited (${code}) before its banner:\n${log}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    base,
    mcpUrl: `${base}/mcp`,
    tokens: minted,
    dir,
    ws,
    config,
    log: () => log,
    /** SIGTERM, wait (≤ 5 s, then SIGKILL), remove the temp dir; resolves to the exit status. */
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), Number(process.env.CTXD_STOP_MS || 5000));
        await exitP;
        clearTimeout(t);
      }
      if (!process.env.CTXD_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
      return exited;
    },
  };
}

/** The text of a CallToolResult's first text block. */
export function text(result) {
  const block = (result?.content ?? []).find((c) => c.type === 'text');
  return block ? block.text : '';
}

/**
 * Talk to `ctxd connect` directly (newline-delimited JSON-RPC on stdin/stdout), without an SDK:
 * send `messages`, collect replies until one answers each request id (or timeoutMs passes),
 * then close stdin. Returns {replies, stderr, code}.
 */
export async function bridgeExchange(env, messages, timeoutMs = 10000) {
  const child = spawn(ctxdBin(), ['connect'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  live.add(child);
  const want = new Set(messages.filter((m) => m.id !== undefined).map((m) => m.id));
  const replies = [];
  let stderr = '';
  let buf = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const exitP = new Promise((res) => child.on('exit', (code) => (live.delete(child), res(code))));
  await new Promise((res) => {
    const timer = setTimeout(res, timeoutMs);
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          const msg = JSON.parse(line);
          replies.push(msg);
          want.delete(msg.id);
        } catch {
          replies.push({ unparsable: line });
        }
        if (want.size === 0) {
          clearTimeout(timer);
          res();
        }
      }
    });
    child.on('exit', () => (clearTimeout(timer), res()));
    for (const m of messages) child.stdin.write(JSON.stringify(m) + '\n');
  });
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const code = await exitP;
  clearTimeout(killer);
  return { replies, stderr, code };
}
