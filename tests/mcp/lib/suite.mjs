// suite.mjs - the end-to-end checks every client configuration runs against ctxd: connect,
// tools/list (following nextCursor), ctx_tree / ctx_read / ctx_search, isError for a missing
// file, JSON-RPC errors for an unknown tool and a bad cursor, 401 for a bad token and 403 for a
// token without the `search` scope.
//
// A "mode" is {label, connect(token) → Promise<{client, close(), transport?, negotiatedVersion?()}>,
// expect: {era, version, sessionId},
// isUnauthorized(err, badToken) (may be async), isForbidden(err), skip?}: one per SDK × transport ×
// protocol era.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { text } from './ctxd.mjs';

const T0 = { timeout: 20000 };
export const EXPECTED_TOOLS = ['ctx_read', 'ctx_search', 'ctx_tree', 'ctx_glob'];

/** tools/list, following nextCursor until the last page. */
export async function listAllTools(client) {
  const tools = [];
  let cursor;
  for (let page = 0; ; page++) {
    assert.ok(page < 50, 'tools/list did not end within 50 pages');
    const r = await client.listTools(cursor === undefined ? undefined : { cursor });
    assert.ok(Array.isArray(r.tools), 'tools/list result has a tools array');
    tools.push(...r.tools);
    if (r.nextCursor === undefined || r.nextCursor === null) break;
    assert.equal(typeof r.nextCursor, 'string', 'nextCursor is a string');
    assert.notEqual(r.nextCursor, cursor, 'nextCursor changes from page to page');
    cursor = r.nextCursor;
  }
  return tools;
}

/** Describe an error for assertion messages. */
export function show(err) {
  if (!err) return String(err);
  const bits = [err.name, err.message];
  for (const k of ['code', 'status', 'data']) {
    if (err[k] !== undefined) bits.push(`${k}=${JSON.stringify(err[k])}`);
  }
  return bits.join(' | ');
}

/** Await a promise that must reject; returns the error. */
export async function rejection(p, what) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: expected an error, the call succeeded`);
}

export function defineSuite(srvRef, mode) {
  // skip each test (not the suite), so that the runner's `# skipped` count shows them
  const T = mode.skip ? { ...T0, skip: mode.skip } : T0;
  describe(mode.label, () => {
    let conn;
    before(async () => {
      if (mode.skip) return;
      conn = await mode.connect(srvRef.srv.tokens.all);
    });
    after(async () => {
      if (conn) await conn.close();
    });

    test('connects and negotiates the expected protocol version', T, () => {
      const { client } = conn;
      assert.equal(client.getServerVersion()?.name, 'ctxd', 'serverInfo.name');
      assert.ok(client.getServerCapabilities()?.tools, 'capabilities declare tools');
      if (mode.expect.version) {
        // SDK v2 tells; for SDK v1 the connection records what its transport was told
        const negotiated =
          typeof client.getNegotiatedProtocolVersion === 'function' ? client.getNegotiatedProtocolVersion() : conn.negotiatedVersion?.();
        assert.equal(negotiated, mode.expect.version, 'negotiated version');
      }
      if (mode.expect.era && typeof client.getProtocolEra === 'function') {
        assert.equal(client.getProtocolEra(), mode.expect.era, 'protocol era');
      }
      if (mode.expect.sessionId !== undefined && conn.transport) {
        if (mode.expect.sessionId) {
          assert.match(conn.transport.sessionId ?? '', /^[\x21-\x7e]+$/, 'legacy: Mcp-Session-Id was issued');
        } else {
          assert.equal(conn.transport.sessionId, undefined, 'modern: no Mcp-Session-Id');
        }
      }
    });

    test('tools/list (following nextCursor) lists the search tools with object schemas', T, async () => {
      const tools = await listAllTools(conn.client);
      const names = tools.map((t) => t.name);
      assert.equal(new Set(names).size, names.length, `no tool listed twice: ${names}`);
      for (const n of EXPECTED_TOOLS) assert.ok(names.includes(n), `${n} listed (got ${names})`);
      for (const t of tools) {
        assert.equal(t.inputSchema?.type, 'object', `${t.name}: inputSchema.type`);
        assert.equal(typeof t.description, 'string', `${t.name}: description`);
      }
    });

    test('tools/list with a malformed cursor is a -32602 error', T, async () => {
      const err = await rejection(conn.client.listTools({ cursor: 'not-a-ctxd-cursor' }), 'bad cursor');
      assert.equal(err.code, -32602, show(err));
    });

    test('ctx_tree shows the workspace', T, async () => {
      const r = await conn.client.callTool({ name: 'ctx_tree', arguments: { path: '.', depth: 3 } });
      assert.ok(!r.isError, `isError: ${text(r)}`);
      const t = text(r);
      for (const s of ['README.md', 'src/', 'main.c', 'util.c', 'docs/', 'notes.txt']) assert.ok(t.includes(s), `tree has ${s}:\n${t}`);
    });

    test('ctx_read returns the file (full and a line window)', T, async () => {
      let r = await conn.client.callTool({ name: 'ctx_read', arguments: { path: 'src/util.c' } });
      assert.ok(!r.isError, `isError: ${text(r)}`);
      let t = text(r);
      assert.ok(t.startsWith('src/util.c'), `header names the file:\n${t}`);
      assert.ok(t.includes('int add(int a, int b)') && t.includes('return a + b;'), `content:\n${t}`);
      r = await conn.client.callTool({ name: 'ctx_read', arguments: { path: 'src/util.c', mode: 'lines:3-3' } });
      assert.ok(!r.isError, `isError: ${text(r)}`);
      t = text(r);
      assert.ok(t.includes('return a + b;') && !t.includes('int add'), `lines:3-3 window:\n${t}`);
    });

    test('ctx_search finds matches with paths and line numbers', T, async () => {
      let r = await conn.client.callTool({ name: 'ctx_search', arguments: { pattern: 'return', include: '*.c' } });
      assert.ok(!r.isError, `isError: ${text(r)}`);
      let t = text(r);
      assert.ok(t.includes('src/main.c:2') && t.includes('src/util.c:3'), `matches:\n${t}`);
      r = await conn.client.callTool({ name: 'ctx_search', arguments: { pattern: 'needle-7f3a' } });
      t = text(r);
      assert.ok(!r.isError && t.includes('docs/notes.txt:1'), `needle:\n${t}`);
    });

    test('ctx_read of a missing file is a tool error (isError: true)', T, async () => {
      const r = await conn.client.callTool({ name: 'ctx_read', arguments: { path: 'no/such/file.c' } });
      assert.equal(r.isError, true, `isError for a missing file: ${JSON.stringify(r)}`);
      assert.match(text(r), /no\/such\/file\.c/, 'the text names the path');
    });

    test('an unknown tool is a JSON-RPC -32602 error', T, async () => {
      let err;
      try {
        const r = await conn.client.callTool({ name: 'ctx_no_such_tool', arguments: {} });
        assert.fail(`expected a protocol error, got a result: ${JSON.stringify(r)}`);
      } catch (e) {
        err = e;
      }
      assert.equal(err.code, -32602, show(err));
      assert.match(err.message, /ctx_no_such_tool/, show(err));
    });

    test('a bad token is refused with 401', T, async () => {
      const bad = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';
      const err = await rejection(
        mode.connect(bad).then(async (c) => {
          // an era whose connect sends nothing authenticated yet must fail on the first request
          try {
            await c.client.listTools();
          } finally {
            await c.close();
          }
        }),
        'connect with a bad token',
      );
      assert.ok(await mode.isUnauthorized(err, bad), `a 401 error, got: ${show(err)}`);
    });

    test('a token without the search scope gets 403 for ctx_read', T, async () => {
      const c = await mode.connect(srvRef.srv.tokens.nosearch);
      try {
        const err = await rejection(
          c.client.callTool({ name: 'ctx_read', arguments: { path: 'README.md' } }),
          'ctx_read without search',
        );
        assert.ok(mode.isForbidden(err), `a 403 error, got: ${show(err)}`);
      } finally {
        await c.close();
      }
    });
  });
}
