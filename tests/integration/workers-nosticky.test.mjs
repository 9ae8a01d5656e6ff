// Workers without sticky sessions: three workers on one Redis, first all on
// one port with reuse_port (the kernel spreads connections), then on three
// ports behind a round-robin TCP forwarder (each new connection to the next
// worker).  Stock socket.io-client clients, polling first then upgrading,
// and polling-only ones, must all connect, talk, and live through several
// heartbeats whichever worker each of their requests lands on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startDaemon, http, apiKeyHeader, freePort, until, waitRedisConnected, stopAll } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, request } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { roundRobin } from './lib/balancer.mjs';

// 100 clients through three workers on a loaded machine: every wait gets 15 s.
const WAIT_MS = 15000;

const skip = redisMissing();
const CLIENTS = 50; // of each kind
let redis;

const ENV = () => ({
  REALTIME_REDIS_URL: redis.url,
  REALTIME_PING_INTERVAL_MS: 300,
  // Pongs cross workers through the relay: on a loaded machine one can take
  // over a second, which is no failure of the relay.
  REALTIME_PING_TIMEOUT_MS: 5000,
  REALTIME_LOG_LEVEL: 'warn',
});

async function startWorkers(opts) {
  await redis.command('FLUSHALL'); // the previous test's workers' addresses
  const workers = [];
  for (const o of opts) workers.push(await startDaemon({ env: ENV(), ...o }));
  for (const w of workers) {
    await waitRedisConnected(w);
  }
  // Every worker has advertised where it serves its sessions.
  await until('workers registered', async () =>
    (await redis.command('KEYS', '*eio:worker:*')).length === workers.length, WAIT_MS);
  return workers;
}

async function metricsText(w) {
  const r = await fetch(`${w.url}/metrics`);
  return r.text();
}

async function forwardedTotals(workers) {
  let polls = 0, upgrades = 0, failures = 0, connections = 0;
  for (const w of workers) {
    const t = await metricsText(w);
    const get = (n) => Number((t.match(new RegExp(`^superbot_${n}_total (\\d+)$`, 'm')) || [0, 0])[1]);
    polls += get('eio_forwarded_polls');
    upgrades += get('eio_forwarded_upgrades');
    failures += get('eio_forward_failures');
    connections += get('eio_forward_connections');
  }
  return { polls, upgrades, failures, connections };
}

// 50 default-transport and 50 polling-only clients against `url` (one
// address the workers sit behind), with `workers` for the server API.
async function scenario(label, url, workers) {
  const channel = `ns-${label}`;
  const put = await http(workers[0], 'PUT', `/api/realtime/channels/${channel}`,
    { body: { server_id: `srv-${label}` }, headers: apiKeyHeader() });
  assert.equal(put.status, 200);
  const problems = [];
  const sockets = [];
  for (let i = 0; i < 2 * CLIENTS; i++) {
    const pollingOnly = i >= CLIENTS;
    const user = `${label}-u${i}`;
    const s = client({ url }, {
      token: realtimeToken({ sub: user, servers: [`srv-${label}`] }),
      ...(pollingOnly ? { transports: ['polling'] } : {}),
      timeout: 10000,
    });
    s.user = user;
    s.pollingOnly = pollingOnly;
    s.pings = 0;
    s.messages = new Set();
    s.direct = [];
    s.on('connect_error', (err) => problems.push(`${user} connect_error: ${err.message}`));
    s.on('disconnect', (reason) => { if (!s.closing) problems.push(`${user} disconnect: ${reason}`); });
    s.on('message', (m) => s.messages.add(m.content));
    s.on('direct', (d) => s.direct.push(d));
    s.io.on('error', (err) => problems.push(`${user} manager error: ${err.message}`));
    sockets.push(s);
  }
  try {
    await Promise.all(sockets.map((s) => connected(s, 15000)));
    for (const s of sockets) s.io.engine.on('ping', () => { s.pings++; });
    const joins = await Promise.all(sockets.map((s) => request(s, 'join_channel', { channel_id: channel }, 10000)));
    assert.ok(joins.every((j) => j.ok), JSON.stringify(joins.find((j) => !j.ok)));
    const acks = await Promise.all(sockets.map((s) =>
      request(s, 'send_message', { channel_id: channel, content: s.user }, 10000)));
    assert.ok(acks.every((a) => a.ok), JSON.stringify(acks.find((a) => !a.ok)));
    await until('every message everywhere', () => sockets.every((s) => s.messages.size === sockets.length), WAIT_MS);
    // Several heartbeats, counted by each client.
    await until('three heartbeats on every client', () => sockets.every((s) => s.pings >= 3), WAIT_MS);
    // The default clients upgraded (through whichever worker got the
    // upgrade request); the others stayed on polling.
    await until('default clients on websocket', () =>
      sockets.every((s) => s.io.engine.transport.name === (s.pollingOnly ? 'polling' : 'websocket')), WAIT_MS);
    // Still alive: a server push to each user, through every worker's API.
    await Promise.all(sockets.map((s, i) => http(workers[i % workers.length], 'POST', '/api/realtime/publish', {
      body: { room: `user:${s.user}`, event: 'direct', data: { to: s.user } }, headers: apiKeyHeader(),
    }).then((r) => assert.equal(r.status, 200))));
    await until('every direct push', () => sockets.every((s) => s.direct.length === 1), WAIT_MS);
    for (const s of sockets) assert.deepEqual(s.direct, [{ to: s.user }]);
    assert.deepEqual(problems, []);
  } finally {
    for (const s of sockets) { s.closing = true; s.close(); }
  }
  const totals = await forwardedTotals(workers);
  if (process.env.SBR_TEST_STATS) console.log(label, JSON.stringify(totals));
  // The spread really happened: requests and upgrades crossed workers.
  assert.ok(totals.polls > 0, JSON.stringify(totals));
  assert.ok(totals.upgrades > 0, JSON.stringify(totals));
  assert.equal(totals.failures, 0, JSON.stringify(totals));
  // Relayed polls reuse keep-alive connections to the owners (a long-poll
  // held on one needs another, so there are more than one per pair).
  assert.ok(totals.connections > 0 && totals.connections * 3 < totals.polls, JSON.stringify(totals));
  for (const w of workers) assert.doesNotMatch(w.log, /Session ID unknown/);
}

const unknownSid = { code: 1, message: 'Session ID unknown' };

// A WebSocket upgrade request on a raw socket; resolves with all the server
// sent until it closed (fetch cannot send Upgrade).
function rawUpgrade(url, pathName) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = '';
    const sock = net.connect(Number(port), hostname, () => sock.write(
      `GET ${pathName} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      got += d;
      const head = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got);
      if (head >= 0 && len && got.length >= head + 4 + Number(len[1])) { sock.destroy(); resolve(got); }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error(`no answer to the upgrade: ${got}`)); });
  });
}

// A client cannot route into a session it was not given, and a relayed
// request cannot travel further than the owner's worker address.
async function unforgeable(url) {
  const keys = await redis.command('KEYS', '*eio:worker:*');
  const addresses = [];
  for (const k of keys) addresses.push({ id: k.slice(-11), url: `http://${await redis.command('GET', k)}` });
  assert.equal(addresses.length, 3);
  const [x, y] = addresses;
  const sid = JSON.parse((await (await fetch(`${x.url}/socket.io/?EIO=4&transport=polling`)).text()).slice(1)).sid;
  assert.equal(sid.slice(0, 11), x.id);
  const poll = async (base, s) => {
    const r = await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=${s}`);
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  // The public port reaches it (its owner acknowledges the body)...
  const ok = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '6' });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'ok');
  // ...but another worker's own address never relays: no loop, no second hop.
  assert.deepEqual(await poll(y.url, sid), { status: 400, body: unknownSid });
  // It serves Engine.IO and nothing else.
  assert.equal((await fetch(`${y.url}/healthz`)).status, 404);
  const put = await fetch(`${y.url}/api/realtime/channels/x`, { method: 'PUT', body: '{}' });
  assert.ok([404, 501].includes(put.status), `PUT on a worker address: ${put.status}`);
  // A forged worker id, or a real one with a guessed rest, is just unknown.
  const forgedWorker = `AAAAAAAAAAA${sid.slice(11)}`;
  const guessedRest = `${sid.slice(0, 11)}${'B'.repeat(22)}`;
  for (const s of [forgedWorker, guessedRest]) {
    assert.deepEqual(await poll(url, s), { status: 400, body: unknownSid });
    const up = await rawUpgrade(url, `/socket.io/?EIO=4&transport=websocket&sid=${s}`);
    assert.match(up, /^HTTP\/1\.1 400 /);
    assert.deepEqual(JSON.parse(up.slice(up.indexOf('\r\n\r\n') + 4)), unknownSid);
  }
}

async function stopChecked(workers) {
  for (const [w, res] of await stopAll(workers)) assert.equal(res.code, 0, w.log);
}

before(async () => {
  if (skip) return;
  redis = await startRedis();
});

after(async () => {
  if (redis) await redis.cleanup();
});

test('three workers on one port with reuse_port', { skip, timeout: 40000 }, async () => {
  const port = await freePort();
  const workers = await startWorkers([0, 1, 2].map(() => ({
    port, env: { ...ENV(), REALTIME_REUSE_PORT: 1 },
  })));
  try {
    await scenario('reuse', `http://127.0.0.1:${port}`, workers);
    await unforgeable(`http://127.0.0.1:${port}`);
  } finally {
    await stopChecked(workers);
  }
});

test('three workers on three ports behind a round-robin TCP balancer', { skip, timeout: 40000 }, async () => {
  const workers = await startWorkers([{}, {}, {}]);
  const balancer = await roundRobin(workers.map((w) => w.port));
  try {
    await scenario('rr', balancer.url, workers);
  } finally {
    await balancer.close();
    await stopChecked(workers);
  }
});

test('a worker stopped while it relays a held poll exits cleanly', { skip, timeout: 20000 }, async () => {
  // A long ping interval holds the relayed GET at its owner while the
  // relaying worker stops: what it had in flight is freed (under ASan a
  // leak is an abort, not exit 0).
  const env = { ...ENV(), REALTIME_PING_INTERVAL_MS: 10000 };
  const [a, b] = await startWorkers([{ env }, { env }]);
  try {
    const sid = JSON.parse((await (await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`)).text()).slice(1)).sid;
    const held = fetch(`${b.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`).then((r) => r.text(), () => null);
    await until('the poll relayed', async () => (await forwardedTotals([b])).polls === 1, WAIT_MS);
    const started = Date.now();
    assert.deepEqual(await b.stop(), { code: 0, signal: null }, b.log);
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
    await held;
  } finally {
    await stopChecked([a, b]);
  }
});

test('a session whose worker died is unknown everywhere, at once', { skip, timeout: 20000 }, async () => {
  const [a, b] = await startWorkers([{}, {}]);
  try {
    const sid = JSON.parse((await (await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`)).text()).slice(1)).sid;
    const url = `${b.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const before = await fetch(url, { method: 'POST', body: '6' });
    assert.equal(await before.text(), 'ok');
    a.proc.kill('SIGKILL');
    await new Promise((resolve) => a.proc.once('exit', resolve));
    // Its address is still advertised, but refuses: no body is taken as
    // delivered, no GET hangs, the upgrade is not answered 101.
    const started = Date.now();
    const post = await fetch(url, { method: 'POST', body: '6' });
    assert.deepEqual([post.status, await post.json()], [400, unknownSid]);
    const get = await fetch(url);
    assert.deepEqual([get.status, await get.json()], [400, unknownSid]);
    const up = await rawUpgrade(b.url, `/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    assert.match(up, /^HTTP\/1\.1 400 /);
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
  } finally {
    await stopChecked([b]);
  }
});
