// Hostile clients against the real daemon with the default conf.d (limits
// lowered through its core file so that each case runs in seconds): every
// case checks that the server still serves a normal client afterwards and
// that its memory (VmRSS) and open file descriptors return near their
// baseline.  HOSTILE_CYCLES sets the connect/disconnect count (10000).
// Under valgrind: SBR_BINARY=<a wrapper running valgrind on the daemon>,
// HOSTILE_CYCLES=1000 HOSTILE_RSS_SLACK_KB=65536.  Against a sanitizer
// build the RSS comparisons are skipped (its quarantine keeps freed memory):
// fds and service are still checked, and LeakSanitizer reports leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { startDaemon, apiKeyHeader, SOURCE_DIR, BINARY } from './lib/daemon.mjs';
import { client, connected, once, request } from './lib/client.mjs';
import { realtimeToken } from './lib/jwt.mjs';

const LIMITS = {
  header_timeout_ms: 2000,
  outbound_buffer_max: 262144,
  max_header_size: 8192,
  max_body_size: 65536,
  max_payload: 100000,
  inbound_rate: 50,
  inbound_rate_window_ms: 10000,
};

// The repo's core file with some keys replaced.
function coreConf(over) {
  let text = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '10-core.conf'), 'utf8');
  for (const [k, v] of Object.entries(over)) {
    const re = new RegExp(`^${k} = .*$`, 'm');
    assert.match(text, re, `10-core.conf has no ${k}`);
    text = text.replace(re, `${k} = ${v}`);
  }
  return text;
}

// An ASan build links its runtime: __asan_init is among the binary's
// dynamic symbols.  A wrapper script (valgrind) has none: then ASAN_OPTIONS,
// which scripts/test --sanitize exports, says so.
function sanitizerBuild() {
  const bytes = fs.readFileSync(BINARY);
  if (bytes.subarray(0, 4).toString('latin1') === '\x7fELF') return bytes.includes('__asan_init');
  return process.env.ASAN_OPTIONS !== undefined;
}
const SANITIZED = sanitizerBuild();

const PING = { REALTIME_PING_INTERVAL_MS: 300, REALTIME_PING_TIMEOUT_MS: 300 };
let d;

before(async () => {
  if (SANITIZED) console.log('# sanitizer build: RSS comparisons skipped (quarantine keeps freed memory); fds and service checked');
  d = await startDaemon({ env: PING, files: { '10-core.conf': coreConf(LIMITS) } });
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

function stats(pid = d.proc.pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssKb: Number(status.match(/^VmRSS:\s+(\d+)/m)[1]),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
  };
}

// Wait (bounded) until fds are back to the baseline and RSS within slackKb
// (RSS not compared for a sanitizer build).
// HOSTILE_RSS_SLACK_KB raises the RSS slack (valgrind keeps freed blocks).
async function backToBaseline(base, { slackKb = 8192, timeoutMs = 8000, daemon = d } = {}) {
  slackKb = Math.max(slackKb, Number(process.env.HOSTILE_RSS_SLACK_KB || 0));
  const end = Date.now() + timeoutMs;
  let now;
  for (;;) {
    now = stats(daemon.proc.pid);
    if (now.fds <= base.fds && (SANITIZED || now.rssKb <= base.rssKb + slackKb)) return now;
    if (Date.now() > end) break;
    await delay(50);
  }
  assert.fail(`not back to baseline: before ${JSON.stringify(base)}, now ${JSON.stringify(now)}`);
}

async function waitFor(cond, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await delay(25);
  }
  assert.fail(`timed out: ${what}`);
}

// One HTTP request on its own connection (no keep-alive pool: the daemon
// closes idle connections after header_timeout_ms, and a pooled socket
// reused at that moment would fail the request for reasons of no interest).
function call(daemon, method, pathName, { body, headers = {}, raw } = {}) {
  return new Promise((resolve, reject) => {
    const payload = raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined;
    const h = { ...headers };
    if (body !== undefined && raw === undefined) h['content-type'] = 'application/json';
    const r = nodeHttp.request({ host: '127.0.0.1', port: daemon.port, method, path: pathName, headers: h, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
        });
        res.on('error', reject);
      });
    r.on('error', reject);
    r.end(payload);
  });
}

let nextUser = 1;
const token = (claims = {}) => realtimeToken({ sub: `hostile-${nextUser++}`, servers: ['7'], ...claims });

// A normal client still gets through: token, connect, ready, an ack.
async function healthy(daemon = d) {
  const h = await call(daemon, 'GET', '/healthz');
  assert.equal(h.status, 200);
  const s = client(daemon, { token: token(), transports: ['websocket'] });
  try {
    const ready = once(s, 'ready');
    await connected(s);
    await ready;
    const ack = await request(s, 'presence_snapshot', { server_id: '7' });
    assert.equal(ack.ok, true);
  } finally {
    s.close();
  }
}

function metric(text, name) {
  const m = text.match(new RegExp(`^superbot_${name}(?:_total)? (\\d+)`, 'm'));
  assert.ok(m, `no metric ${name}`);
  return Number(m[1]);
}
async function metrics(daemon = d) { return (await call(daemon, 'GET', '/metrics')).text; }

function rawConnect(port = d.port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => resolve(sock));
    sock.once('error', reject);
  });
}
function closed(sock) {
  return new Promise((resolve) => {
    if (sock.destroyed) resolve();
    sock.once('close', resolve);
    sock.on('error', () => {});
  });
}

// A raw Engine.IO WebSocket client ('ws' only does RFC 6455).
async function rawSocketIO(tok, { connect = true, daemon = d } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/socket.io/?EIO=4&transport=websocket&token=${tok}`);
  const msgs = [];
  const waiters = [];
  ws.on('message', (m) => {
    const s = String(m);
    if (s === '2') { ws.send('3'); return; }
    msgs.push(s);
    while (waiters.length) waiters.shift()();
  });
  ws.on('error', () => {});
  const next = async (pred, timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = msgs.findIndex(pred);
      if (i >= 0) return msgs.splice(i, 1)[0];
      if (Date.now() > end) throw new Error(`raw client: nothing matched in ${timeoutMs} ms: ${msgs.join(' | ')}`);
      await Promise.race([new Promise((r) => waiters.push(r)), delay(50)]);
    }
  };
  await next((m) => m.startsWith('0'));
  if (connect) {
    ws.send('40');
    await next((m) => m.startsWith('40'));
    await next((m) => m.startsWith('42["ready"'));
  }
  ws.next = next;
  ws.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return ws;
}

test('slowloris: headers trickled byte by byte are cut off by header_timeout_ms', async () => {
  await healthy();
  const base = stats();
  const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(4000);
  const socks = await Promise.all(Array.from({ length: 20 }, () => rawConnect()));
  const started = Date.now();
  const timers = socks.map((sock) => {
    let i = 0;
    const t = setInterval(() => {
      if (sock.destroyed || i >= request.length) return;
      sock.write(request[i++]);
    }, 50);
    return t;
  });
  try {
    // Others are served while the trickle goes on.
    await healthy();
    const bound = LIMITS.header_timeout_ms + 3000;
    const all = Promise.all(socks.map(closed));
    const res = await Promise.race([all.then(() => 'closed'), delay(bound, 'open', { ref: false })]);
    const still = socks.filter((s) => !s.destroyed).length;
    assert.equal(res, 'closed',
      `${still} of 20 trickling connections still open ${Date.now() - started} ms after the first byte (header_timeout_ms ${LIMITS.header_timeout_ms})`);
  } finally {
    timers.forEach(clearInterval);
    socks.forEach((s) => s.destroy());
  }
  await healthy();
  await backToBaseline(base);
});

test('connections closed before any request release their socket at once', async () => {
  await healthy();
  const base = stats();
  for (let round = 0; round < 10; round++) {
    const socks = await Promise.all(Array.from({ length: 200 }, () => rawConnect()));
    // Half send a partial request line first.
    socks.forEach((s, i) => { if (i % 2) s.write('GET /hea'); });
    await Promise.all(socks.map((s) => { const c = closed(s); s.destroy(); return c; }));
  }
  // Well within header_timeout_ms: nothing waits for a deadline to pass.
  await backToBaseline(base, { timeoutMs: LIMITS.header_timeout_ms / 2 });
  await healthy();
});

test('a client that never reads is disconnected at the outbound cap', async () => {
  // The default heartbeat here: a paused client cannot answer pings, and the
  // cap, not the heartbeat, must be what drops it.
  const r = await startDaemon({ files: { '10-core.conf': coreConf(LIMITS) } });
  try {
    await healthy(r);
    const base = stats(r.proc.pid);
    const sub = `hostile-reader-${Date.now()}`;
    const ws = await rawSocketIO(token({ sub }), { daemon: r });
    ws._socket.pause(); // stop reading: the kernel buffers fill, then ours
    const before = metric(await metrics(r), 'slow_consumer_disconnects');
    const data = { blob: 'x'.repeat(60000) };
    let published = 0;
    const end = Date.now() + 30000;
    while (Date.now() < end) {
      const res = await call(r, 'POST', '/api/realtime/publish', {
        headers: apiKeyHeader(), body: { room: `user:${sub}`, event: 'flood', data },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      published++;
      if (published % 10 === 0 && metric(await metrics(r), 'slow_consumer_disconnects') > before) break;
    }
    assert.ok(metric(await metrics(r), 'slow_consumer_disconnects') > before,
      `still connected after ${published} publishes of 60 kB`);
    await r.waitLog(/slow consumer/);
    ws.terminate();
    await healthy(r);
    await backToBaseline(base, { slackKb: 16384, daemon: r });
  } finally {
    assert.equal((await r.stop()).code, 0, r.log);
  }
});

test('half-open connections are reaped by the heartbeat', async () => {
  await healthy();
  const base = stats();
  // Engine.IO over raw TCP: the WebSocket handshake, the open packet, then
  // silence (no pong, no close, and no FIN).
  const key = Buffer.from('0123456789abcdef').toString('base64');
  const socks = [];
  for (let i = 0; i < 10; i++) {
    const sock = await rawConnect();
    let got = '';
    const opened = new Promise((resolve) => sock.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('"sid"')) resolve();
    }));
    sock.on('error', () => {});
    sock.write(`GET /socket.io/?EIO=4&transport=websocket&token=${token()} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await opened;
    socks.push(sock);
  }
  // Half of them also joined the main namespace before going silent.
  const mask = Buffer.from([1, 2, 3, 4]);
  for (const sock of socks.slice(0, 5)) {
    const payload = Buffer.from('40');
    sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask,
      Buffer.from(payload.map((b, j) => b ^ mask[j % 4]))]));
  }
  const interval = PING.REALTIME_PING_INTERVAL_MS + PING.REALTIME_PING_TIMEOUT_MS;
  const res = await Promise.race([Promise.all(socks.map(closed)).then(() => 'closed'),
    delay(interval + 3000, 'open', { ref: false })]);
  assert.equal(res, 'closed', `${socks.filter((s) => !s.destroyed).length} of 10 silent connections not reaped`);
  // Polling sessions opened (some joined) and never polled again.
  for (let i = 0; i < 200; i++) {
    const open = await call(d, 'GET', `/socket.io/?EIO=4&transport=polling&token=${token()}`);
    assert.equal(open.status, 200);
    if (i % 2) {
      const sid = JSON.parse(open.text.slice(1)).sid;
      assert.equal((await call(d, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { raw: '40' })).status, 200);
    }
  }
  await waitFor(async () => (await call(d, 'GET', '/healthz')).body.connections === 0, interval + 3000,
    'abandoned polling sessions reaped');
  await healthy();
  await backToBaseline(base);
});

const CYCLES = Number(process.env.HOSTILE_CYCLES || 10000);

test(`${CYCLES} connect/disconnect cycles leave RSS and fds at their baseline`, { timeout: 240000 }, async () => {
  const tok = token();
  const cycle = async (i) => {
    const transports = i % 10 === 9 ? ['polling'] : ['websocket'];
    const s = client(d, { token: tok, transports });
    try { await connected(s, 10000); } finally { s.close(); }
  };
  const run = async (n, parallel = 16) => {
    let i = 0;
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (i < n) await cycle(i++);
    }));
  };
  await run(500); // warm the allocator up
  await waitFor(async () => (await call(d, 'GET', '/healthz')).body.connections === 0, 5000, 'connections drained');
  const base = stats();
  const started = Date.now();
  await run(CYCLES);
  const elapsed = Date.now() - started;
  await waitFor(async () => (await call(d, 'GET', '/healthz')).body.connections === 0, 10000, 'connections drained');
  const now = await backToBaseline(base, { slackKb: 4096 });
  console.log(`# ${CYCLES} cycles in ${elapsed} ms; RSS ${base.rssKb} -> ${now.rssKb} kB, fds ${base.fds} -> ${now.fds}`);
  await healthy();
});

test('past the inbound rate an event is refused with retry_after; a flood past twice the rate is ended with a reason', async () => {
  const base = stats();
  const bystander = client(d, { token: token() });
  await connected(bystander);
  const flooder = client(d, { token: token(), transports: ['websocket'] });
  await connected(flooder);
  const reasons = [];
  flooder.on('disconnect_reason', (r) => reasons.push(r));
  const gone = once(flooder, 'disconnect', 10000);
  const logged = (d.log.match(/past twice the inbound rate/g) || []).length;
  const disconnects = metric(await metrics(), 'rate_limited_disconnects');
  const limited = metric(await metrics(), 'rate_limited_events');
  // Within the limit (50 per 10 s), events are processed; past it, one with
  // an ack is answered rate_limited with the time left, one without is
  // dropped; the socket stays up.
  const acks = [];
  for (let i = 0; i < 60; i++) acks.push(request(flooder, 'presence_snapshot', { server_id: '7' }));
  const answers = await Promise.all(acks);
  assert.equal(answers.filter((a) => a.ok === true).length, 50);
  const refused = answers.filter((a) => a.ok === false);
  assert.equal(refused.length, 10);
  for (const r of refused) {
    assert.equal(r.error, 'rate_limited');
    assert.ok(typeof r.retry_after === 'number' && r.retry_after > 0 && r.retry_after <= 10, JSON.stringify(r));
  }
  for (let i = 0; i < 20; i++) flooder.emit('typing_start', { channel_id: 'nope' });
  await waitFor(async () => metric(await metrics(), 'rate_limited_events') === limited + 30, 5000, 'counted');
  assert.equal(flooder.connected, true, 'refused, not disconnected, below twice the rate');
  assert.equal(metric(await metrics(), 'rate_limited_disconnects'), disconnects);
  // Far past twice the limit, in one burst: disconnect_reason, then the
  // DISCONNECT, must still reach the client ahead of the close (no RST
  // over unread input); the stock client does not reconnect after it.
  for (let i = 0; i < 3000 && flooder.connected; i++) flooder.emit('typing_start', { channel_id: 'nope' });
  const why = await gone;
  assert.equal(Array.isArray(why) ? why[0] : why, 'io server disconnect');
  assert.deepEqual(reasons, [{ reason: 'rate_limited' }]);
  await d.waitLog(/past twice the inbound rate/);
  // One ending, logged once, not one line per excess event.
  assert.equal((d.log.match(/past twice the inbound rate/g) || []).length, logged + 1);
  assert.equal(metric(await metrics(), 'rate_limited_disconnects'), disconnects + 1);
  assert.equal((await request(bystander, 'presence_snapshot', { server_id: '7' })).ok, true);
  bystander.close();
  flooder.close();
  await healthy();
  await backToBaseline(base);
});

test('oversize everything: headers, bodies, frames, event names, JSON depth', async () => {
  await healthy();
  const base = stats();
  // Headers past max_header_size: JSON 431; far past it, evhttp's own 4xx
  // and a closed connection.  Never a hang.
  for (const [size, want] of [[LIMITS.max_header_size * 1.5, /^HTTP\/1\.1 431/], [LIMITS.max_header_size * 8, /^HTTP\/1\.1 4\d\d/]]) {
    const sock = await rawConnect();
    let answer = '';
    sock.on('data', (b) => { answer += b; });
    sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(size)}\r\n\r\n`);
    await Promise.race([closed(sock), waitFor(() => answer.includes('\r\n\r\n'), 5000, 'an answer')]);
    assert.match(answer, want, `${size} bytes of headers: ${answer.slice(0, 60)}`);
    sock.destroy();
  }
  // Many headers, each small.
  {
    const many = {};
    for (let i = 0; i < 2000; i++) many[`x-h${i}`] = 'v';
    const r = await call(d, 'GET', '/healthz', { headers: many }).then((x) => x.status, () => 'closed');
    assert.ok(r === 'closed' || (r >= 400 && r < 500), `status ${r}`);
  }
  // Bodies past max_body_size on the server API: 413, JSON.
  {
    const r = await call(d, 'POST', '/api/realtime/publish', {
      headers: apiKeyHeader(), raw: JSON.stringify({ room: 'user:x', event: 'e', data: 'y'.repeat(LIMITS.max_body_size * 2) }),
    });
    assert.equal(r.status, 413);
    assert.equal(typeof r.body.error, 'string');
    const huge = await call(d, 'POST', '/api/realtime/token', { raw: 'z'.repeat(LIMITS.max_body_size * 4) })
      .then((x) => x.status, () => 'closed');
    assert.ok(huge === 413 || huge === 'closed', `status ${huge}`);
  }
  // A polling POST past max_payload: 413 (the session ends).
  {
    const open = await call(d, 'GET', `/socket.io/?EIO=4&transport=polling&token=${token()}`);
    const sid = JSON.parse(open.text.slice(1)).sid;
    const r = await call(d, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      raw: '4' + 'p'.repeat(LIMITS.max_payload + 10),
    });
    assert.equal(r.status, 413);
  }
  // A WebSocket frame past max_payload: close 1009.
  {
    const ws = await rawSocketIO(token());
    ws.send('42["send_message",' + JSON.stringify({ channel_id: '1', content: 'c'.repeat(LIMITS.max_payload) }) + ']');
    const { code } = await ws.closed;
    assert.equal(code, 1009);
  }
  // A huge event name, and a deeply nested argument: refused, not crashed.
  {
    const ws = await rawSocketIO(token());
    ws.send(`421["${'n'.repeat(90000)}",{}]`);
    const reply = await Promise.race([ws.next((m) => m.startsWith('431')).then(() => 'ack'), ws.closed.then(() => 'closed')]);
    assert.ok(reply === 'ack' || reply === 'closed');
    ws.terminate();
  }
  for (const depth of [5000, 45000]) {
    const ws = await rawSocketIO(token());
    ws.send(`422["typing_start",${'['.repeat(depth)}${']'.repeat(depth)}]`);
    const reply = await Promise.race([ws.next((m) => m.startsWith('432')).then(() => 'ack'), ws.closed.then(() => 'closed')]);
    assert.ok(reply === 'ack' || reply === 'closed');
    ws.terminate();
  }
  // Deep JSON in a server API body.
  {
    const r = await call(d, 'POST', '/api/realtime/publish', {
      headers: apiKeyHeader(), raw: `{"room":"user:x","event":"e","data":${'['.repeat(30000)}${']'.repeat(30000)}}`,
    });
    assert.ok(r.status >= 400 && r.status < 500 || r.status === 200, `status ${r.status}`);
  }
  // A long URL.
  {
    const r = await call(d, 'GET', `/api/realtime/presence/${'p'.repeat(20000)}`, { headers: apiKeyHeader() })
      .then((x) => x.status, () => 'closed');
    assert.ok(r === 'closed' || (r >= 400 && r < 500), `status ${r}`);
  }
  await healthy();
  await backToBaseline(base, { slackKb: 16384 });
});

test('max_connections: a clean refusal at the limit, recovery after', async () => {
  const max = 20;
  const l = await startDaemon({ env: PING, files: { '10-core.conf': coreConf({ ...LIMITS, max_connections: max }) } });
  try {
    await healthy(l);
    const base = stats(l.proc.pid);
    const tok = token();
    const socks = [];
    for (let i = 0; i < max; i++) {
      const s = client(l, { token: tok, transports: i % 2 ? ['websocket'] : ['polling'] });
      await connected(s);
      socks.push(s);
    }
    const r = await call(l, 'GET', `/socket.io/?EIO=4&transport=polling&token=${tok}`);
    assert.equal(r.status, 503);
    assert.equal(typeof r.body.message, 'string');
    const refused = client(l, { token: tok, transports: ['websocket'] });
    await assert.rejects(connected(refused));
    refused.close();
    assert.equal((await call(l, 'GET', '/healthz')).status, 200);
    for (const s of socks.splice(0, 5)) s.close();
    await waitFor(async () => (await call(l, 'GET', '/healthz')).body.connections <= max - 5, 5000, 'closed ones released');
    for (let i = 0; i < 5; i++) {
      const s = client(l, { token: tok });
      await connected(s);
      socks.push(s);
    }
    for (const s of socks) s.close();
    await waitFor(async () => (await call(l, 'GET', '/healthz')).body.connections === 0, 5000, 'all released');
    await healthy(l);
    await backToBaseline(base, { daemon: l });
  } finally {
    assert.equal((await l.stop()).code, 0, l.log);
  }
});
