// auth-proxy.mjs - a loopback HTTP proxy that puts `Authorization: Bearer <token>` on every request
// and forwards everything else as it came: method, path, query, body and every header, Host and
// Origin included (so ctxd's Host/Origin check sees what the client sent). Responses are streamed
// back unbuffered (SSE too): status, headers and each chunk as it arrives. When the client goes
// away mid-response the upstream request is torn down, so ctxd sees the disconnect (modern-era
// cancellation).
//
// Only the hop-by-hop headers Connection and Keep-Alive are not forwarded (RFC 9110 §7.6.1: they
// describe one connection, not the message), and an Authorization the client sent is replaced.
//
// Why: the official conformance suite has no option to send an Authorization header, and ctxd
// has, on purpose, no switch that turns authentication off (shared/reference/mcp.md §0).
//
// usage: node auth-proxy.mjs --upstream http://127.0.0.1:PORT [--port 0] [--log FILE]
//        token in $CTXD_PROXY_TOKEN. Listens on 127.0.0.1 (and [::1] on the same port when it
//        can), prints `auth-proxy listening on http://localhost:<port>` on stdout, and stops on
//        SIGTERM/SIGINT.
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, log: { type: 'string' } },
});
const token = process.env.CTXD_PROXY_TOKEN;
if (!args.upstream || !token) {
  console.error('usage: CTXD_PROXY_TOKEN=... node auth-proxy.mjs --upstream http://127.0.0.1:PORT [--port N] [--log FILE]');
  process.exit(2);
}
const upstream = new URL(args.upstream);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(upstream.hostname)) {
  console.error('auth-proxy: the upstream must be a loopback address');
  process.exit(2);
}
const HOP = new Set(['connection', 'keep-alive', 'authorization']);
const RES_HOP = new Set(['connection', 'keep-alive']);
const LOG_BODY = 4096;
let seq = 0;

function log(line) {
  if (args.log) appendFileSync(args.log, line + '\n');
}

/** Record a request/response pair (bodies cut at LOG_BODY bytes) for failure reports. */
function recorder(id, what) {
  const chunks = [];
  let n = 0;
  return {
    add(c) {
      if (n < LOG_BODY) chunks.push(c.subarray(0, LOG_BODY - n));
      n += c.length;
    },
    flush(head) {
      if (!args.log) return;
      const body = Buffer.concat(chunks).toString('utf8');
      log(`#${id} ${what} ${head}\n${body}${n > LOG_BODY ? `\n[... ${n} bytes in all]` : ''}\n`);
    },
  };
}

const server = http.createServer((req, res) => {
  const id = ++seq;
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  headers.push('Authorization', `Bearer ${token}`);
  const reqRec = recorder(id, '>');
  const up = http.request({
    host: upstream.hostname.replace(/^\[|\]$/g, ''),
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers,
    agent: false,
    setHost: false,
  });
  let done = false;
  up.on('response', (ur) => {
    const out = [];
    for (let i = 0; i < ur.rawHeaders.length; i += 2) {
      if (!RES_HOP.has(ur.rawHeaders[i].toLowerCase())) out.push(ur.rawHeaders[i], ur.rawHeaders[i + 1]);
    }
    res.writeHead(ur.statusCode, ur.statusMessage, out);
    res.flushHeaders();
    const resRec = recorder(id, '<');
    ur.on('data', (c) => {
      resRec.add(c);
      res.write(c);
    });
    ur.on('end', () => {
      done = true;
      res.end();
      resRec.flush(`${ur.statusCode} ${JSON.stringify(ur.headers)}`);
    });
    ur.on('error', () => res.destroy());
    ur.on('aborted', () => res.destroy());
  });
  up.on('error', (e) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`auth-proxy: upstream error: ${e.message}\n`);
    } else {
      res.destroy();
    }
  });
  // the client went away before the response ended: drop the upstream request too
  res.on('close', () => {
    if (!done) up.destroy();
  });
  req.on('data', (c) => reqRec.add(c));
  req.on('end', () => reqRec.flush(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`));
  req.pipe(up);
});
server.keepAliveTimeout = 5000;

server.listen(Number(args.port), '127.0.0.1', () => {
  const port = server.address().port;
  // clients that resolve localhost to ::1 first find the proxy there too
  const v6 = http.createServer(server.listeners('request')[0]);
  v6.on('error', () => {});
  v6.listen(port, '::1');
  console.log(`auth-proxy listening on http://localhost:${port}`);
  const stop = () => {
    server.close();
    v6.close();
    server.closeAllConnections?.();
    v6.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
