// The Socket.IO server through the official socket.io-client: transports,
// upgrade, acks, payload limits, ordering, heartbeats, many clients, rooms,
// namespaces and the connect chain.  The daemon runs the conformance conf
// (echo plugin, pingInterval 300, pingTimeout 200) plus the sio-rooms fixture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { Socket as EngineSocket } from 'engine.io-client';
import { startDaemon, BUILD_DIR, SOURCE_DIR } from './lib/daemon.mjs';
import { once, connected } from './lib/client.mjs';

const FIXTURES = path.join(BUILD_DIR, 'tests', 'fixtures');
let d;

before(async () => {
  d = await startDaemon({
    confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'),
    env: { REALTIME_LOG_LEVEL: 'info' },
    files: { '30-sio-rooms.conf': `plugin = sio-rooms\npath = ${FIXTURES}/sio-rooms.so\n` },
  });
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

function sock(opts = {}) {
  return io(d.url, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
}

async function open(opts) {
  const s = sock(opts);
  await connected(s);
  return s;
}

async function healthy() {
  const r = await fetch(`${d.url}/healthz`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
}

for (const [name, transports] of [['default (polling, then upgrade)', undefined], ['websocket only', ['websocket']], ['polling only', ['polling']]]) {
  test(`transport: ${name}`, async () => {
    const s = sock({ transports, auth: { token: 'abc' } });
    const auth = once(s, 'auth');
    await connected(s);
    assert.deepEqual(await auth, { token: 'abc' });
    if (!transports) {
      if (s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade');
      assert.equal(s.io.engine.transport.name, 'websocket');
    } else {
      assert.equal(s.io.engine.transport.name, transports[0]);
    }
    // Server acks a client event, with several values.
    assert.deepEqual(await s.timeout(3000).emitWithAck('message-with-ack', 1, '2', { 3: [true] }), 1);
    const back = new Promise((resolve) => s.once('message-back', (...a) => resolve(a)));
    s.emit('message', 'x', { y: [1, 2] });
    assert.deepEqual(await back, ['x', { y: [1, 2] }]);
    // Binary attachments go both ways.
    const bin = new Promise((resolve) => s.once('message-back', (...a) => resolve(a)));
    s.emit('message', Buffer.from([1, 2, 3]), 'z');
    const got = await bin;
    assert.deepEqual([...got[0]], [1, 2, 3]);
    assert.equal(got[1], 'z');
    const [binAck] = await new Promise((resolve) => s.emit('message-with-ack', Buffer.from([9, 8]), (...a) => resolve(a)));
    assert.deepEqual([...binAck], [9, 8]);
    // No plugin answers: unknown_event.
    assert.deepEqual(await s.timeout(3000).emitWithAck('nobody-listens', 1), { ok: false, error: 'unknown_event' });
    s.close();
  });
}

test('engine.io-client: open, upgrade, Socket.IO packets as Engine.IO messages, close', async () => {
  const e = new EngineSocket(d.url, { path: '/socket.io/' });
  const messages = [];
  const upgraded = new Promise((resolve) => e.once('upgrade', resolve));
  await new Promise((resolve, reject) => { e.once('open', resolve); e.once('error', reject); });
  assert.equal(e.transport.name, 'polling');
  assert.equal(typeof e.id, 'string');
  const three = new Promise((resolve) => e.on('message', (m) => { messages.push(m); if (messages.length === 3) resolve(); }));
  e.send('0');
  e.send('21["message-with-ack","eio"]');
  await three;
  assert.match(messages[0], /^0\{"sid":"/);
  assert.ok(messages.includes('2["auth",{}]'));
  assert.ok(messages.includes('31["eio"]'));
  await upgraded;
  assert.equal(e.transport.name, 'websocket');
  const closed = new Promise((resolve) => e.once('close', (reason) => resolve(reason)));
  e.close();
  assert.equal(await closed, 'forced close');
});

test('acks: answered later (pending chain), and both ways over one socket', async () => {
  const s = await open({ transports: ['websocket'] });
  const [a, b] = await Promise.all([
    s.timeout(3000).emitWithAck('later'),
    s.timeout(3000).emitWithAck('message-with-ack', 'now'),
  ]);
  assert.deepEqual(a, { ok: true, later: true });
  assert.equal(b, 'now');
  // An ACK the server never asked for is ignored, the socket stays up.
  s.io.engine.send('30[1]');
  assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', 'still'), 'still');
  s.close();
});

test('acks: the client acknowledges server events; timeouts and unanswered ones end in null', async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const s = await open({ transports });
    s.once('question', (q, ack) => ack({ got: q.q }, 'two'));
    const answer = once(s, 'answer');
    assert.deepEqual(await s.timeout(3000).emitWithAck('ask', { timeout: 2000 }), { ok: true, status: 0 });
    assert.deepEqual(await answer, [{ got: 42 }, 'two']);
    // A client that never answers: the callback gets null after the timeout.
    s.once('question', () => {});
    const silent = once(s, 'answer');
    await s.timeout(3000).emitWithAck('ask', { timeout: 50 });
    assert.equal(await silent, null);
    s.close();
  }
});

for (const transports of [['websocket'], ['polling']]) {
  test(`handshake query and headers reach plugins (${transports[0]})`, async () => {
    const s = await open({ transports, query: { token: 'q-tok' }, extraHeaders: { 'X-Test': 'hdr' } });
    const who = await s.timeout(3000).emitWithAck('whoami', {});
    assert.equal(who.token, 'q-tok');
    assert.equal(who.header, 'hdr');
    assert.match(who.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(who.nsp, '/');
    assert.equal(who.addr, '127.0.0.1');
    // Kept for the connection's life, so Engine.IO's own parameters and the
    // transport negotiation headers are left out.
    assert.equal(who.eio, null);
    assert.equal(who.upgrade, null);
    assert.equal(who.ws_key, null);
    s.close();
  });
}

for (const transports of [['websocket'], ['polling']]) {
  test(`payload just under the max passes, just over closes (${transports[0]})`, async () => {
    const s = await open({ transports });
    // The Engine.IO packet 42["message","<n bytes>"] is n + 16 bytes.
    const under = 'u'.repeat(1000000 - 16);
    const back = once(s, 'message-back', 10000);
    s.emit('message', under);
    assert.equal((await back).length, under.length);
    const gone = once(s, 'disconnect', 10000);
    s.emit('message', 'o'.repeat(1000000 - 15));
    const why = await gone;
    assert.match(Array.isArray(why) ? why[0] : why, /transport (close|error)/);
    await healthy();
  });
}

test('1000 messages arrive in order, both directions', async () => {
  const s = await open({ transports: ['websocket'] });
  const got = [];
  const done = new Promise((resolve) => s.on('message-back', (i) => { got.push(i); if (got.length === 1000) resolve(); }));
  for (let i = 0; i < 1000; i++) s.emit('message', i);
  await done;
  assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => i));
  const seq = [];
  const all = new Promise((resolve) => s.on('seq', (i) => { seq.push(i); if (seq.length === 1000) resolve(); }));
  await s.timeout(5000).emitWithAck('seq', { n: 1000 });
  await all;
  assert.deepEqual(seq, Array.from({ length: 1000 }, (_, i) => i));
  s.close();
});

test('a client that stops answering pings is dropped within pingInterval + pingTimeout', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${d.port}/socket.io/?EIO=4&transport=websocket`);
  const first = await new Promise((resolve, reject) => { ws.once('message', (m) => resolve(m.toString())); ws.once('error', reject); });
  assert.match(first, /^0\{/);
  const started = Date.now();
  ws.send('40');
  const closed = new Promise((resolve) => ws.once('close', resolve));
  await closed;
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 450 && elapsed < 300 + 200 + 400, `closed after ${elapsed} ms`);
  // A client that answers stays.
  const ok = await open({ transports: ['websocket'] });
  await new Promise((resolve) => ok.io.engine.once('ping', resolve));
  await new Promise((resolve) => ok.io.engine.once('ping', resolve));
  assert.equal(ok.connected, true);
  ok.close();
});

test('500 clients at once', async () => {
  // Its own daemon with the default heartbeat: 500 clients answering pings
  // every 300 ms would measure the machine's load, not the server.
  const core = ['plugin = core', 'listen = ${REALTIME_LISTEN}', 'log_level = warn', 'inbound_rate = 0', ''].join('\n');
  const big = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'), files: { '10-core.conf': core } });
  const clients = [];
  try {
    for (let i = 0; i < 500; i++) {
      clients.push(io(big.url, { forceNew: true, reconnection: false, timeout: 20000, transports: i % 5 ? ['websocket'] : ['polling'] }));
    }
    await Promise.all(clients.map((c) => connected(c, 30000)));
    const answers = await Promise.all(clients.map((c, i) => c.timeout(30000).emitWithAck('message-with-ack', i)));
    assert.deepEqual(answers, Array.from({ length: 500 }, (_, i) => i));
    const h = await (await fetch(`${big.url}/healthz`)).json();
    assert.equal(h.connections, 500, JSON.stringify(h));
  } finally {
    for (const c of clients) c.close();
    assert.equal((await big.stop()).code, 0, big.log);
  }
});

test('a room broadcast reaches exactly its members, encoded once', async () => {
  const clients = [];
  for (let i = 0; i < 6; i++) clients.push(await open({ transports: [i % 2 ? 'polling' : 'websocket'] }));
  const inRoom = clients.slice(0, 4);
  for (const c of inRoom) assert.deepEqual(await c.timeout(3000).emitWithAck('join', { room: 'r1' }), { ok: true, status: 0 });
  for (const c of clients) await c.timeout(3000).emitWithAck('join', { room: 'fence' });
  const seen = clients.map((c) => { const got = []; c.on('news', (x) => got.push(x)); return got; });
  // The sender is left out with except_self.
  assert.equal((await clients[0].timeout(3000).emitWithAck('broadcast', { room: 'r1', event: 'news', data: { n: 1 }, except_self: true })).ok, true);
  // Then everyone gets a fence event: anything for r1 arrived before it.
  const fences = clients.map((c) => once(c, 'fence'));
  await clients[5].timeout(3000).emitWithAck('broadcast', { room: 'fence', event: 'fence', data: 1 });
  await Promise.all(fences);
  assert.deepEqual(seen.map((g) => g.length), [0, 1, 1, 1, 0, 0]);
  assert.deepEqual(seen[1], [{ n: 1 }]);
  // Leaving works, and a member that left gets nothing more.
  await clients[1].timeout(3000).emitWithAck('leave', { room: 'r1' });
  const fences2 = clients.map((c) => once(c, 'fence'));
  await clients[0].timeout(3000).emitWithAck('broadcast', { room: 'r1', event: 'news', data: { n: 2 } });
  await clients[5].timeout(3000).emitWithAck('broadcast', { room: 'fence', event: 'fence', data: 2 });
  await Promise.all(fences2);
  assert.deepEqual(seen.map((g) => g.length), [1, 1, 2, 2, 0, 0]);
  // Bad room names are refused.
  assert.deepEqual(await clients[0].timeout(3000).emitWithAck('join', { room: '' }), { ok: false, status: -1 });
  for (const c of clients) c.close();
  const m = await (await fetch(`${d.url}/metrics`)).text();
  assert.match(m, /broadcasts/);
});

test('namespaces: /custom connects with its own auth, unknown ones are refused', async () => {
  const s = sock({ transports: ['websocket'], auth: { k: 1 } });
  await connected(s);
  const custom = s.io.socket('/custom', { auth: { k: 2 } });
  const auth = once(custom, 'auth');
  await connected(custom);
  assert.deepEqual(await auth, { k: 2 });
  const who = await custom.timeout(3000).emitWithAck('whoami', {});
  assert.equal(who.nsp, '/custom');
  const bad = s.io.socket('/nope');
  await assert.rejects(connected(bad), /Invalid namespace/);
  // Leaving /custom keeps the main namespace working.
  custom.disconnect();
  assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', 'main'), 'main');
  s.close();
});

test('connect chain: refusal reason reaches the client, pending decision completes', async () => {
  const r = sock({ transports: ['websocket'], auth: { refuse: 'not_today' } });
  await assert.rejects(connected(r), /not_today/);
  r.close();
  const p = sock({ transports: ['polling'], auth: { later: true } });
  await connected(p);
  assert.equal(await p.timeout(3000).emitWithAck('message-with-ack', 'ok'), 'ok');
  p.close();
});

test('server-side disconnect sends DISCONNECT: io server disconnect', async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const s = await open({ transports });
    const reason = once(s, 'disconnect');
    s.emit('kick', { reason: 'test kick' });
    const why = await reason;
    assert.equal(Array.isArray(why) ? why[0] : why, 'io server disconnect');
  }
  await d.waitLog(/disconnected: test kick/);
});

async function rawPausedClient() {
  // A raw WebSocket that stops reading: the server's queue to it grows.
  const ws = new WebSocket(`ws://127.0.0.1:${d.port}/socket.io/?EIO=4&transport=websocket`);
  const next = () => new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
  await next(); // open
  ws.send('40');
  await next(); // 40{"sid"}
  await next(); // auth
  ws._socket.pause();
  return ws;
}

function metric(text, name) {
  const m = text.match(new RegExp(`^superbot_${name}_total (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// Poll /metrics (bounded) until the counter passes `floor`.
async function metricAbove(name, floor, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (metric(await (await fetch(`${d.url}/metrics`)).text(), name) > floor) return true;
  }
  return false;
}

test('volatile events are skipped for a backed-up socket, which stays connected', async () => {
  const before = metric(await (await fetch(`${d.url}/metrics`)).text(), 'volatile_dropped');
  const ws = await rawPausedClient();
  const ack = new Promise((resolve) => {
    ws.on('message', (m) => { if (String(m).startsWith('43')) resolve(JSON.parse(String(m).slice(3))); });
  });
  ws.send('421["flood",{"count":400,"size":20000,"volatile":true}]');
  assert.ok(await metricAbove('volatile_dropped', before), 'no volatile event was dropped');
  ws._socket.resume();
  const [answer] = await ack;
  assert.equal(answer.ok, true);
  assert.equal(answer.sent, 400);
  ws.close();
});

test('a plugin disconnect and a client DISCONNECT in the same batch', async () => {
  // One POST: leave /custom, have the plugin disconnect "/", then leave "/"
  // too: both closes and the requested disconnect meet in one loop turn
  // (the sanitizer builds check that nothing leaks at exit).
  const base = `${d.url}/socket.io/?EIO=4&transport=polling`;
  const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
  const post = async (body) => { const r = await fetch(`${base}&sid=${sid}`, { method: 'POST', body }); assert.equal(r.status, 200); await r.text(); };
  const get = async () => (await (await fetch(`${base}&sid=${sid}`)).text()).split('\x1e');
  await post('40\x1e40/custom,');
  const seen = [];
  while (seen.filter((p) => p.startsWith('40')).length < 2) seen.push(...await get());
  await post('41/custom,\x1e42["kick",{"reason":"batch"}]\x1e41');
  // The client left every namespace itself: the session stays, idle.
  const r = await fetch(`${base}&sid=${sid}`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), '2');
  await post('1');
  await healthy();
});

test('a slow consumer is dropped past the outbound cap, with a logged reason', async () => {
  const before = metric(await (await fetch(`${d.url}/metrics`)).text(), 'slow_consumer_disconnects');
  const ws = await rawPausedClient();
  ws.send('420["flood",{"count":4000,"size":100000}]');
  await d.waitLog(/slow consumer/, 10000);
  ws.terminate();
  const after = metric(await (await fetch(`${d.url}/metrics`)).text(), 'slow_consumer_disconnects');
  assert.equal(after, before + 1);
  await healthy();
});

test('limits: max_connections refuses with 503 and Retry-After; past the inbound rate events are refused, past twice it the socket is ended', async () => {
  const core = [
    'plugin = core', 'listen = ${REALTIME_LISTEN}', 'log_level = info', 'ping_interval_ms = 300',
    'ping_timeout_ms = 200', 'max_connections = 3', 'inbound_rate = 5', 'inbound_rate_window_ms = 60000', '',
  ].join('\n');
  const l = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'), files: { '10-core.conf': core } });
  try {
    const clients = [];
    for (let i = 0; i < 3; i++) {
      const c = io(l.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
      await connected(c);
      clients.push(c);
    }
    const r = await fetch(`${l.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '5');
    assert.equal((await r.json()).code, 4);
    const refused = io(l.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
    await assert.rejects(connected(refused));
    refused.close();
    // Five events pass; the next five in the window are answered
    // rate_limited and not processed; the eleventh ends the socket, with
    // its reason first.
    const s = clients[0];
    for (let i = 0; i < 5; i++) assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', i), i);
    for (let i = 5; i < 10; i++) {
      const answer = await s.timeout(3000).emitWithAck('message-with-ack', i);
      assert.equal(answer.ok, false);
      assert.equal(answer.error, 'rate_limited');
      assert.ok(answer.retry_after > 0 && answer.retry_after <= 60, JSON.stringify(answer));
    }
    const reason = once(s, 'disconnect_reason');
    const gone = once(s, 'disconnect');
    s.emit('message-with-ack', 10, () => {});
    assert.deepEqual(await reason, { reason: 'rate_limited' });
    const why = await gone;
    assert.equal(Array.isArray(why) ? why[0] : why, 'io server disconnect');
    await l.waitLog(/past twice the inbound rate/);
    for (const c of clients) c.close();
  } finally {
    assert.equal((await l.stop()).code, 0, l.log);
  }
});

test('SIGTERM drains: every client sees "transport close" (it would reconnect), the daemon exits 0', async () => {
  const l = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d') });
  const clients = [];
  for (const transports of [['websocket'], ['polling'], undefined]) {
    const c = io(l.url, { forceNew: true, reconnection: false, ...(transports ? { transports } : {}) });
    await connected(c);
    clients.push(c);
  }
  const reasons = clients.map((c) => once(c, 'disconnect', 10000));
  const exit = l.stop('SIGTERM');
  for (const r of await Promise.all(reasons)) {
    assert.equal(Array.isArray(r) ? r[0] : r, 'transport close');
  }
  assert.equal((await exit).code, 0, l.log);
  for (const c of clients) c.close();
});

test('idle WebSocket clients cost under 4 KB each', async (t) => {
  const { plainBinary, rssBytes } = await import('./lib/daemon.mjs');
  // Only a plain build says something here: a wrapper (valgrind) or a
  // sanitizer build has its own allocator overhead.
  if (!plainBinary()) {
    t.skip('not a plain daemon binary (wrapper or sanitizer build)');
    return;
  }
  const core = ['plugin = core', 'listen = ${REALTIME_LISTEN}', 'log_level = warn', 'inbound_rate = 0', ''].join('\n');
  const m = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'), files: { '10-core.conf': core } });
  const rss = () => rssBytes(m.proc.pid);
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${m.port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    let n = 0;
    ws.on('message', () => { if (++n === 1) ws.send('40'); if (n === 3) resolve(ws); });
    ws.on('error', reject);
  });
  const socks = [];
  try {
    for (let i = 0; i < 100; i++) socks.push(await open()); // warm the allocator up
    const before = rss();
    const N = 1000;
    for (let i = 0; i < N; i += 100) socks.push(...await Promise.all(Array.from({ length: 100 }, open)));
    const per = (rss() - before) / N;
    assert.ok(per < 4096, `${Math.round(per)} bytes per idle connection`);
  } finally {
    for (const s of socks) s.terminate();
    assert.equal((await m.stop()).code, 0, m.log);
  }
});
