// Workers on a sentinel set (a master, a replica, three sentinels), the
// data nodes and the sentinels each with their own password: the master is
// found through the sentinels (past a dead one listed first), a wrong
// sentinel password or an unknown master name is a clear reason on
// /healthz's "down", and when the master dies the sentinels' failover is
// followed: both workers reach the new master and talk through it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader, until, freePort, waitRedisConnected } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, request, ready, once } from './lib/client.mjs';
import { redisMissing } from './lib/redis.mjs';
import { startSentinelSet, topologyMissing } from './lib/redis-topologies.mjs';

const skip = redisMissing() || topologyMissing('sentinel');
const DATA_PW = 'data-pw';
const SENTINEL_PW = 'sentinel-pw';
let set;
const daemons = [];
const sockets = [];

before(async () => {
  if (!skip) set = await startSentinelSet({ password: DATA_PW, sentinelPassword: SENTINEL_PW });
});

after(async () => {
  for (const s of sockets) s.close();
  for (const d of daemons) if (!d.exited) await d.stop();
  if (set) await set.cleanup();
});

// A URL whose first sentinel is a port nobody listens on.
async function url({ name = set.name } = {}) {
  const hosts = [`127.0.0.1:${await freePort()}`, ...set.ports.sentinels.map((p) => `127.0.0.1:${p}`)];
  return `redis-sentinel://:${DATA_PW}@${hosts.join(',')}/${name}`;
}

async function worker(env) {
  const d = await startDaemon({ env: { REALTIME_REDIS_SENTINEL_PASSWORD: SENTINEL_PW, REALTIME_LOG_LEVEL: 'info', ...env } });
  daemons.push(d);
  return d;
}

const health = async (d) => (await http(d, 'GET', '/healthz')).body;

test('the master the sentinels name, past a dead sentinel, with both passwords', { skip }, async () => {
  const d = await worker({ REALTIME_REDIS_URL: await url() });
  await waitRedisConnected(d);
  await until('the watch of a sentinel', async () => (await health(d)).bus_nodes.every((n) => n.up));
  const h = await health(d);
  assert.equal(h.bus_mode, 'sentinel');
  assert.deepEqual(h.bus_nodes.find((n) => n.role === 'master'), { node: `127.0.0.1:${await set.master()}`, role: 'master', up: true });
  assert.ok(!d.log.includes(DATA_PW) && !d.log.includes(SENTINEL_PW), 'no password is logged');
});

test('a wrong sentinel password or an unknown master name: down, and why', { skip }, async () => {
  const wrong = await worker({ REALTIME_REDIS_URL: await url(), REALTIME_REDIS_SENTINEL_PASSWORD: 'nope' });
  const unknown = await worker({ REALTIME_REDIS_URL: await url({ name: 'nosuchmaster' }) });
  for (const d of [wrong, unknown]) {
    await until('down', async () => (await health(d)).bus === 'down', 10000);
  }
  await until('the reasons logged', () => /AUTH failed/.test(wrong.log) && /does not know master 'nosuchmaster'/.test(unknown.log));
  assert.match(wrong.log, /no sentinel named the master 'mymaster'/);
  for (const d of [wrong, unknown]) await d.stop();
});

test('the master dies: the sentinels fail over and the workers follow', { skip, timeout: 120000 }, async () => {
  const env = { REALTIME_REDIS_URL: await url() };
  const a = daemons[0];
  const b = await worker(env);
  await waitRedisConnected(b);
  const old = await set.master();
  const promoted = old === set.ports.master ? set.ports.replica : set.ports.master;
  await set.kill(old);
  await until('both workers on the new master', async () => {
    for (const d of [a, b]) {
      const m = (await health(d)).bus_nodes.find((n) => n.role === 'master');
      if ((await health(d)).bus !== 'connected' || m.node !== `127.0.0.1:${promoted}` || !m.up) return false;
    }
    return true;
  }, 60000);
  assert.match(a.log, /sentinel announced a failover: master 'mymaster' moved from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+/);
  // They talk through it: a message from a worker reaches the other.
  assert.equal((await http(a, 'PUT', '/api/realtime/channels/sf1', { body: { server_id: 's' }, headers: apiKeyHeader() })).status, 200);
  const sa = await ready(client(a, { token: realtimeToken({ sub: 'fa', servers: ['s'] }) }));
  const sb = await ready(client(b, { token: realtimeToken({ sub: 'fb', servers: ['s'] }) }));
  sockets.push(sa, sb);
  for (const s of [sa, sb]) assert.equal((await request(s, 'join_channel', { channel_id: 'sf1' })).ok, true);
  await until('both workers listen to the room', async () =>
    (await set.command('PUBSUB', 'NUMSUB', 'superbot-realtime:bus:room:channel:sf1'))[1] === 2);
  const got = once(sb, 'message');
  assert.equal((await request(sa, 'send_message', { channel_id: 'sf1', content: 'after the failover' })).ok, true);
  assert.equal((await got).content, 'after the failover');
});
