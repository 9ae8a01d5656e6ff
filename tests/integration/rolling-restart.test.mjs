// A rolling restart as systemd does it: two workers on one port
// (reuse_port) and one Redis, stock socket.io-client clients with default
// options spread over both; one worker gets SIGTERM and is started again.
// Its clients see "transport close" (never "io server disconnect"),
// reconnect by themselves within seconds, to either worker, and can send
// and receive; presence shows every user online at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startDaemon, http, apiKeyHeader, freePort, until, waitRedisConnected } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { request } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';

const skip = redisMissing();
const CLIENTS = 40;
const WAIT_MS = 15000;
let redis;
let port;
const workers = [];

const env = () => ({ REALTIME_REDIS_URL: redis.url, REALTIME_REUSE_PORT: '1', REALTIME_LOG_LEVEL: 'warn' });

async function worker() {
  const w = await startDaemon({ env: env(), port });
  await waitRedisConnected(w);
  workers.push(w);
  return w;
}

before(async () => {
  if (skip) return;
  redis = await startRedis();
  port = await freePort();
});

after(async () => {
  for (const w of workers) if (!w.exited) await w.stop();
  if (redis) await redis.stop();
});

test('SIGTERM and restart of one of two workers: every stock client is back by itself and talks', { skip }, async () => {
  const a = await worker();
  const b = await worker();
  assert.equal((await http(a, 'PUT', '/api/realtime/channels/rr', { body: { server_id: 'rr' }, headers: apiKeyHeader() })).status, 200);
  const url = `http://127.0.0.1:${port}`;
  const ends = [];
  const sockets = [];
  for (let i = 0; i < CLIENTS; i++) {
    const user = `rr${i}`;
    // The browser snippet, default options (reconnection on).
    const s = io(url, { forceNew: true, auth: { token: realtimeToken({ sub: user, servers: ['rr'] }) } });
    s.user = user;
    s.connects = 0;
    s.messages = new Set();
    s.on('connect', () => {
      s.connects++;
      // What the app does on every connect: (re)join its channel.
      s.joined = request(s, 'join_channel', { channel_id: 'rr' }, 10000);
    });
    s.on('disconnect', (why) => ends.push(why));
    s.on('message', (m) => s.messages.add(m.content));
    sockets.push(s);
  }
  try {
    await until('all connected and joined', async () => sockets.every((s) => s.connected && s.joined), WAIT_MS);
    await Promise.all(sockets.map((s) => s.joined));
    const before = [(await http(a, 'GET', '/healthz')).body.connections, (await http(b, 'GET', '/healthz')).body.connections];
    assert.ok(before[0] > 0 && before[1] > 0, `clients on both workers: ${before}`);

    const t0 = Date.now();
    a.proc.kill('SIGTERM');
    assert.deepEqual(await a.exitPromise, { code: 0, signal: null });
    await worker();
    await until('every client reconnected', async () => sockets.every((s) => s.connected && s.connects >= 1), WAIT_MS);
    await until('the first worker\'s clients came back', async () => sockets.filter((s) => s.connects === 2).length >= before[0], WAIT_MS);
    const back = Date.now() - t0;
    console.log(`# ${before[0]} clients of the restarted worker back in ${back} ms (restart included)`);
    assert.ok(back < WAIT_MS);
    assert.deepEqual([...new Set(ends)], ['transport close'], 'no ending the client would not retry');

    await Promise.all(sockets.map((s) => s.joined));
    const acks = await Promise.all(sockets.map((s) => request(s, 'send_message', { channel_id: 'rr', content: s.user }, 10000)));
    assert.ok(acks.every((x) => x.ok), JSON.stringify(acks.find((x) => !x.ok)));
    await until('every message to everyone', async () => sockets.every((s) => s.messages.size === CLIENTS), WAIT_MS);

    // Nobody is offline for good, whichever worker is asked.
    for (const w of workers.filter((x) => !x.exited)) {
      await until('presence converged', async () =>
        (await http(w, 'GET', '/api/realtime/presence/rr', { headers: apiKeyHeader() })).body.members.length === CLIENTS, WAIT_MS);
    }
  } finally {
    for (const s of sockets) s.close();
  }
});
