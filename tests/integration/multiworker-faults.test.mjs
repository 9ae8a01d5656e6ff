// bus-redis when Redis misbehaves: stopped mid-run and restarted, absent at
// start, not configured, a bad URL, and bus-redis.so missing.  Workers keep
// serving their own sockets, say why in one log line, converge again, and
// publish what they accepted meanwhile once Redis is back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, freePort, SOURCE_DIR, until } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, request, collect, ready } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';

const skip = redisMissing();
const PREFIX = 'superbot-realtime:';
const cleanups = [];
const sockets = [];

after(async () => {
  for (const s of sockets) s.close();
  for (const f of cleanups.reverse()) await f();
});

async function worker(opts) {
  const d = await startDaemon(opts);
  cleanups.push(() => (d.exited ? null : d.stop()));
  return d;
}

const healthBus = async (d) => (await http(d, 'GET', '/healthz')).body.bus;
const waitRedis = (d, want, ms = 5000) => until(`redis ${want}`, async () => (await healthBus(d)) === want, ms);

async function connect(d, claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return ready(s);
}

test('Redis stopped mid-run: local sockets keep working, "down", then reconnect and converge', { skip }, async () => {
  const redis = await startRedis({ persist: true });
  cleanups.push(() => redis.cleanup());
  const env = { REALTIME_REDIS_URL: redis.url };
  const a = await worker({ env });
  const b = await worker({ env });
  await waitRedis(a, 'connected');
  await waitRedis(b, 'connected');
  assert.equal((await http(a, 'PUT', '/api/realtime/channels/f1',
    { body: { server_id: 'fs' }, headers: apiKeyHeader() })).status, 200);
  const a1 = await connect(a, { sub: 'fa1', servers: ['fs'] });
  const a2 = await connect(a, { sub: 'fa2', servers: ['fs'] });
  const b1 = await connect(b, { sub: 'fb1', servers: ['fs'] });
  for (const s of [a1, a2, b1]) assert.equal((await request(s, 'join_channel', { channel_id: 'f1' })).ok, true);
  await until('both workers on the channel', async () =>
    (await redis.command('PUBSUB', 'NUMSUB', `${PREFIX}bus:room:channel:f1`))[1] === 2);

  await redis.stop();
  await waitRedis(a, 'down');
  await waitRedis(b, 'down');
  for (const d of [a, b]) await d.waitLog(/bus state: down \(Redis at 127\.0\.0\.1:\d+ db 0 unusable: connection lost/);

  // Sockets on one worker still talk to each other.
  const gotA2 = collect(a2, 'message');
  const gotB1 = collect(b1, 'message');
  const ack = await request(a1, 'send_message', { channel_id: 'f1', content: 'during', nonce: 'd1' });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  await until('a2 got it', () => gotA2.length === 1);
  assert.equal(gotA2[0].content, 'during');
  // New connections are accepted, and presence answers from this worker.
  const b2 = await connect(b, { sub: 'fb2', servers: ['fs'] });
  const during = await request(b2, 'presence_snapshot', { server_id: 'fs' });
  assert.equal(during.ok, true);
  assert.ok(during.members.some((m) => m.user_id === 'fb2'));

  await redis.start();
  await waitRedis(a, 'connected', 15000);
  await waitRedis(b, 'connected', 15000);
  for (const d of [a, b]) await d.waitLog(/bus state: connected \(reconnected to Redis/);
  // Rooms are subscribed again and messages cross workers again.
  await until('both workers back on the channel', async () =>
    (await redis.command('PUBSUB', 'NUMSUB', `${PREFIX}bus:room:channel:f1`))[1] === 2);
  gotA2.length = 0;
  const after1 = await request(b1, 'send_message', { channel_id: 'f1', content: 'after', nonce: 'a1' });
  assert.equal(after1.ok, true, JSON.stringify(after1));
  await until('a2 got the message from b', () => gotA2.some((m) => m.content === 'after'));
  // What a accepted while Redis was away reached b once it was back, once.
  await until('b1 got the message sent during the outage', () => gotB1.some((m) => m.content === 'during'));
  await delay(300);
  assert.equal(gotB1.filter((m) => m.content === 'during').length, 1);
  // Presence converges: the user who came during the outage shows on a.
  await until('fb2 online on worker a', async () =>
    (await request(a1, 'presence_snapshot', { server_id: 'fs' })).members.some((m) => m.user_id === 'fb2'));
});

test('Redis absent at start: serves in-process, "down", then connects when Redis appears', { skip }, async () => {
  const port = await freePort();
  const d = await worker({ env: { REALTIME_REDIS_URL: `redis://127.0.0.1:${port}/0` } });
  await waitRedis(d, 'down');
  await d.waitLog(/bus state: down \(.*Connection refused/);
  const s = await connect(d, { sub: 'abs1', servers: ['as'] });
  assert.equal((await request(s, 'presence_snapshot', { server_id: 'as' })).ok, true);
  const redis = await startRedis({ port });
  cleanups.push(() => redis.cleanup());
  await waitRedis(d, 'connected', 15000);
  // Presence re-published: the connected user's entry reaches Redis.
  await until('presence in Redis', async () =>
    (await redis.command('KEYS', `${PREFIX}map:*`)).length > 0);
});

test('REALTIME_REDIS_URL unset: disabled, and the log says why', async () => {
  const d = await worker({ env: { REALTIME_REDIS_URL: null } });
  assert.equal(await healthBus(d), 'disabled');
  await d.waitLog(/Redis disabled: REALTIME_REDIS_URL is not set/);
  const s = await connect(d, { sub: 'nu1', servers: ['ns'] });
  assert.equal((await request(s, 'presence_snapshot', { server_id: 'ns' })).ok, true);
});

test('a bad REALTIME_REDIS_URL refuses to start, naming the file and the problem', async () => {
  const urlLine = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '30-bus-redis.conf'), 'utf8').split('\n')
    .findIndex((l) => /^url = /.test(l)) + 1;
  for (const url of ['redis://localhost:99999', 'http://localhost:6379', 'redis://:pw@',
    'redis-sentinel://:pw@s1:26379', 'redis-cluster://:pw@n1:7000/3']) {
    const d = await startDaemon({ env: { REALTIME_REDIS_URL: url }, ready: false });
    const res = await Promise.race([d.exitPromise, delay(10000).then(() => null)]);
    if (!res) await d.stop('SIGKILL');
    assert.ok(res, `daemon kept running with ${url}`);
    assert.notEqual(res.code, 0);
    assert.match(d.log, new RegExp(`30-bus-redis\\.conf:${urlLine}: plugin 'bus-redis' failed to load: key 'url': ` +
      'bad url \\(REALTIME_REDIS_URL\\)'));
    assert.ok(!d.log.includes(':pw@'), 'the password is never logged');
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test('bus-redis.so missing: the fallback bus-local serves, and the log says so', async () => {
  const conf = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '30-bus-redis.conf'), 'utf8');
  const d = await worker({
    env: { REALTIME_REDIS_URL: 'redis://127.0.0.1:1/0' },
    files: { '30-bus-redis.conf': `${conf}\npath = /nonexistent/bus-redis.so\n` },
  });
  const h = (await http(d, 'GET', '/healthz')).body;
  assert.equal(h.bus, 'disabled');
  assert.equal(h.redis, 'disabled'); // the alias kept for existing probes
  assert.ok(h.plugins.includes('bus-local'), JSON.stringify(h.plugins));
  await d.waitLog(/bus-redis.*cannot be loaded.*loading 'bus-local' instead/);
  const s = await connect(d, { sub: 'mf1', servers: ['ms'] });
  assert.equal((await request(s, 'presence_snapshot', { server_id: 'ms' })).ok, true);
});
