// Connection state recovery across a Redis failover (a sentinel set: a
// master, a replica, three sentinels).  The new master's sequence may lag
// behind offsets the old one handed out (replication is asynchronous), so
// a worker that finds the room log on another master raises the floor
// first, with the counter jumped to the clock: a session whose offset is
// from before the failover gets a fresh connection, never a replay with
// offsets from two timelines; a loss after the failover recovers again,
// every missed event once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader, waitRedisConnected } from './lib/daemon.mjs';
import { redisMissing } from './lib/redis.mjs';
import { startSentinelSet, topologyMissing } from './lib/redis-topologies.mjs';
import { user, readyAt, dropTransport, assertIncreasing, contents, until, joined } from './lib/recovery.mjs';

const skip = redisMissing() || topologyMissing('sentinel');
let set;
let d;
const sockets = [];
const track = (s) => { sockets.push(s); return s; };

before(async () => {
  if (skip) return;
  set = await startSentinelSet();
  d = await startDaemon({ env: { REALTIME_REDIS_URL: set.url, REALTIME_RECOVERY_WINDOW_SECONDS: 30, REALTIME_LOG_LEVEL: 'info' } });
  await waitRedisConnected(d);
  assert.equal((await http(d, 'PUT', '/api/realtime/channels/f1', { body: { server_id: 'fs' }, headers: apiKeyHeader() })).status, 200);
});

after(async () => {
  for (const s of sockets) s.close();
  // A worker that crashed or leaked (under ASan) does not exit 0.
  if (d && !d.exited) assert.deepEqual(await d.stop(), { code: 0, signal: null });
  await set?.cleanup();
});

const send = (s, content) => s.timeout(10000).emitWithAck('send_message', { channel_id: 'f1', content, nonce: content });

test('a session from before a failover is a fresh connection; a loss after it recovers', { skip }, async () => {
  const a = track(user(d.url, { sub: 'fa', servers: ['fs'] }));
  const b = track(user(d.url, { sub: 'fb', servers: ['fs'] }));
  await Promise.all([readyAt(a, 0), readyAt(b, 0)]);
  for (const s of [a, b]) await joined(s, 'f1');
  await send(b, 'before');
  await until('before', () => contents(a).includes('before'));

  const newMaster = await set.failover();
  await until('the room log on the new master', () => d.log.includes('the room log\'s master changed'), 20000);
  await waitRedisConnected(d);
  assert.equal((await http(d, 'GET', '/healthz')).body.bus_nodes.find((n) => n.role === 'master').node, `127.0.0.1:${newMaster}`);

  // Lost with an offset from the old master: fresh, and says so.
  await dropTransport(a);
  await until('lost', () => !a.connected);
  await send(b, 'while away 1');
  const fresh = await readyAt(a, 1, 15000);
  assert.equal(fresh.recovered, false);
  assert.equal(a.recovered, false);
  assert.ok(!contents(a).includes('while away 1'), 'nothing replayed across the failover');

  // Sequenced on the new master from now on: a later loss recovers.
  await joined(a, 'f1');
  await send(b, 'after');
  await until('after', () => contents(a).includes('after'));
  await dropTransport(a);
  await until('lost again', () => !a.connected);
  for (const c of ['away 2a', 'away 2b', 'away 2c']) await send(b, c);
  const back = await readyAt(a, 2, 15000);
  assert.equal(back.recovered, true);
  assert.equal(a.recovered, true);
  const since = contents(a).slice(contents(a).indexOf('after'));
  assert.deepEqual(since, ['after', 'away 2a', 'away 2b', 'away 2c']);
  assertIncreasing(a.events.slice(a.connects[1].events));
  assertIncreasing(b.events);
});
