// sdk-v1.test.mjs - ctxd against the official TypeScript SDK v1 (@modelcontextprotocol/sdk), the
// client most agents embed today. It speaks the legacy era only (initialize, 2025-11-25,
// Mcp-Session-Id): over Streamable HTTP with a bearer header, and over stdio through
// `ctxd connect`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startServer, ctxdBin, hasConnect } from './lib/ctxd.mjs';
import { defineSuite, show } from './lib/suite.mjs';

const srvRef = {
  srv: await startServer({
    tokens: { all: 'search,graph,artifacts,index,events,sessionMutations,knowledge', nosearch: 'graph' },
  }),
};
const CLIENT_INFO = { name: 'ctxd-mcp-test-v1', version: '1.0.0' };
const NO_CONNECT = hasConnect() ? false : '`ctxd connect` is not in this build (`ctxd help` does not list it)';

async function httpConnect(token) {
  const client = new Client(CLIENT_INFO);
  const transport = new StreamableHTTPClientTransport(new URL(srvRef.srv.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport, { timeout: 10000 });
  return { client, transport, close: () => client.close(), negotiatedVersion: () => transport.protocolVersion };
}

/** stderr of the bridges, for failure messages */
const bridgeLogs = [];
async function stdioConnect(token) {
  const client = new Client(CLIENT_INFO);
  const transport = new StdioClientTransport({
    command: ctxdBin(),
    args: ['connect'],
    env: { CTXD_SERVER: srvRef.srv.base, CTXD_TOKEN: token, CTXD_WORKSPACE: 'main' },
    stderr: 'pipe',
  });
  const log = { text: '' };
  bridgeLogs.push(log);
  transport.stderr?.on('data', (d) => (log.text += d.toString()));
  // the client hands the negotiated version to a transport that wants it: record it
  let negotiated;
  transport.setProtocolVersion = (v) => (negotiated = v);
  await client.connect(transport, { timeout: 10000 });
  return { client, transport, close: () => client.close(), negotiatedVersion: () => negotiated };
}

const httpStatus = (status) => (err) => err instanceof StreamableHTTPError && err.code === status;
// Through the bridge the HTTP status surfaces as the JSON-RPC error ctxd sent (-31000 - status)
// or at least as a message an agent can act on.
const bridged = (status, words) => (err) =>
  err?.code === -31000 - status || new RegExp(`\\b${status}\\b|${words}`, 'i').test(`${err?.message} ${JSON.stringify(err?.data ?? '')}`);

defineSuite(srvRef, {
  label: 'SDK v1, Streamable HTTP, 2025-11-25',
  connect: httpConnect,
  expect: { version: '2025-11-25', sessionId: true },
  isUnauthorized: httpStatus(401),
  isForbidden: httpStatus(403),
});

defineSuite(srvRef, {
  label: 'SDK v1, stdio via `ctxd connect`, 2025-11-25',
  connect: stdioConnect,
  expect: { version: '2025-11-25' },
  isUnauthorized: bridged(401, 'unauthori[sz]ed|invalid[ _]token'),
  isForbidden: bridged(403, 'scope'),
  skip: NO_CONNECT,
});

test('SDK v1: the workspace header selects a workspace; an unknown one is refused', { timeout: 20000 }, async () => {
  const ok = new Client(CLIENT_INFO);
  const tok = srvRef.srv.tokens.all;
  await ok.connect(
    new StreamableHTTPClientTransport(new URL(srvRef.srv.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${tok}`, 'x-leanctx-workspace': 'main' } },
    }),
  );
  try {
    const r = await ok.callTool({ name: 'ctx_read', arguments: { path: 'README.md' } });
    assert.ok(!r.isError, JSON.stringify(r));
  } finally {
    await ok.close();
  }
  const bad = new Client(CLIENT_INFO);
  await bad.connect(
    new StreamableHTTPClientTransport(new URL(srvRef.srv.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${tok}`, 'x-leanctx-workspace': 'no-such-ws' } },
    }),
  );
  try {
    let err;
    try {
      await bad.callTool({ name: 'ctx_read', arguments: { path: 'README.md' } });
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'a tools/call in an unknown workspace fails');
    assert.match(`${err.message}`, /unknown_workspace|-32602/, show(err));
  } finally {
    await bad.close();
  }
});

test('SDK v1: DELETE ends the session; its id is then unknown (404)', { timeout: 20000 }, async () => {
  const { client, transport } = await httpConnect(srvRef.srv.tokens.all);
  const sid = transport.sessionId;
  assert.ok(sid, 'a session id');
  await transport.terminateSession();
  await client.close();
  const r = await fetch(srvRef.srv.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${srvRef.srv.tokens.all}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': sid,
      'MCP-Protocol-Version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await r.text();
  assert.equal(r.status, 404, 'a request with the ended session id');
});

test('ctxd exits 0 within 5 s of SIGTERM after the MCP traffic', { timeout: 20000 }, async () => {
  const st = await srvRef.srv.stop();
  assert.deepEqual(st, { code: 0, signal: null }, `exit status; log:\n${srvRef.srv.log()}\nbridges:\n${bridgeLogs.map((l) => l.text).join('\n')}`);
});

after(async () => {
  await srvRef.srv.stop();
});
