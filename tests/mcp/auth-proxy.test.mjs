// auth-proxy.test.mjs - the conformance run is only as good as the proxy in front of ctxd: check
// that it adds the bearer header, forwards method, path, body and every other header unchanged
// (Host and Origin included), streams responses (SSE) as they come, and tears the upstream request
// down when the client goes away. Against a stub upstream, no ctxd needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROXY = fileURLToPath(new URL('./auth-proxy.mjs', import.meta.url));
let upstream;
let proxy;
let proxyPort;
const seen = [];
const closed = [];

before(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, raw: req.rawHeaders, body });
      if (req.url === '/sse') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Test': 'kept' });
        res.write('id: 1\ndata: {"n":1}\n\n');
        const t = setTimeout(() => res.end('id: 2\ndata: {"n":2}\n\n'), 1500);
        res.on('close', () => {
          clearTimeout(t);
          closed.push('/sse');
        });
      } else if (req.url === '/hang') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': keep-alive\n\n');
        res.on('close', () => closed.push('/hang'));
      } else {
        res.writeHead(418, 'Teapot Here', { 'Content-Type': 'application/json', 'Mcp-Session-Id': 'abc' });
        res.end(JSON.stringify({ echo: body }));
      }
    });
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = spawn(process.execPath, [PROXY, '--upstream', `http://127.0.0.1:${upstream.address().port}`], {
    env: { ...process.env, CTXD_PROXY_TOKEN: 'tok123' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  proxyPort = await new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`proxy did not start: ${out}`)), 5000);
    proxy.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    });
  });
});

after(async () => {
  proxy?.kill('SIGTERM');
  upstream?.closeAllConnections?.();
  await new Promise((r) => upstream.close(r));
});

/** a raw HTTP/1.1 request, so that Host and Origin are exactly what the test says */
function raw(path, { method = 'POST', headers = {}, body = '' } = {}) {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method, path, headers, setHost: false, agent: false }, (r) => {
      let b = '';
      r.on('data', (c) => (b += c));
      r.on('end', () => res({ status: r.statusCode, message: r.statusMessage, headers: r.headers, body: b }));
    });
    req.on('error', rej);
    req.end(body);
  });
}

const headerOf = (rawHeaders, name) => {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) out.push(rawHeaders[i + 1]);
  return out;
};

test('adds the bearer token and forwards everything else unchanged', { timeout: 10000 }, async () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  const r = await raw('/mcp?x=1', {
    headers: {
      Host: 'evil.example.com:1234',
      Origin: 'http://evil.example.com',
      'Content-Type': 'application/json',
      'Mcp-Session-Id': 's1',
      'MCP-Protocol-Version': '2025-11-25',
      Authorization: 'Bearer from-the-client',
      'Content-Length': Buffer.byteLength(body),
    },
    body,
  });
  assert.equal(r.status, 418);
  assert.equal(r.message, 'Teapot Here');
  assert.equal(r.headers['mcp-session-id'], 'abc', 'response headers come back');
  assert.deepEqual(JSON.parse(r.body), { echo: body });
  const s = seen.at(-1);
  assert.equal(s.method, 'POST');
  assert.equal(s.url, '/mcp?x=1');
  assert.equal(s.body, body);
  assert.deepEqual(headerOf(s.raw, 'authorization'), ['Bearer tok123'], 'exactly one Authorization, the proxy token');
  assert.deepEqual(headerOf(s.raw, 'host'), ['evil.example.com:1234'], 'Host unchanged');
  assert.deepEqual(headerOf(s.raw, 'origin'), ['http://evil.example.com'], 'Origin unchanged');
  assert.deepEqual(headerOf(s.raw, 'mcp-session-id'), ['s1']);
  assert.deepEqual(headerOf(s.raw, 'mcp-protocol-version'), ['2025-11-25']);
});

test('streams SSE as it comes (the first event long before the end)', { timeout: 10000 }, async () => {
  const t0 = Date.now();
  const first = await new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port: proxyPort, path: '/sse', headers: { Accept: 'text/event-stream' } }, (r) => {
      assert.equal(r.headers['content-type'], 'text/event-stream');
      assert.equal(r.headers['x-test'], 'kept');
      let b = '';
      let firstAt;
      r.on('data', (c) => {
        b += c;
        if (!firstAt && b.includes('"n":1')) firstAt = Date.now() - t0;
      });
      r.on('end', () => res({ firstAt, body: b, total: Date.now() - t0 }));
    });
    req.on('error', rej);
  });
  assert.ok(first.firstAt < 1000, `first event after ${first.firstAt} ms (the stub sends the second at 1500 ms)`);
  assert.ok(first.total >= 1400, 'the stream stayed open until the upstream ended it');
  assert.match(first.body, /id: 1\ndata: \{"n":1\}\n\nid: 2\ndata: \{"n":2\}\n\n$/);
});

test('a client that goes away tears the upstream request down', { timeout: 10000 }, async () => {
  await new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port: proxyPort, path: '/hang' }, (r) => {
      r.once('data', () => req.destroy());
      res();
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? res() : rej(e)));
  });
  for (let i = 0; i < 50 && !closed.includes('/hang'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(closed.includes('/hang'), 'the upstream saw the disconnect');
});
