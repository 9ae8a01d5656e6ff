// Presence grace (presence_grace_seconds), with recovery off as shipped:
// a user whose last connection is lost without a clean disconnect goes
// offline only if none of theirs is back within the grace, on any worker.
// A 2 s blip and a rolling restart of one of two workers give their
// friends no `offline`; a clean disconnect gives one at once; a lost
// connection that stays lost gives one after the grace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, waitRedisConnected, stopAll } from './lib/daemon.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { switchable } from './lib/balancer.mjs';
import { user, readyAt, dropTransport, until } from './lib/recovery.mjs';

const GRACE_SECONDS = 2;
let d;
const sockets = [];
const track = (s) => { sockets.push(s); return s; };

before(async () => {
  d = await startDaemon({ env: { REALTIME_PRESENCE_GRACE_SECONDS: GRACE_SECONDS } });
});

after(async () => {
  for (const s of sockets) s.close();
  if (d) assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

// A friend, then the user, both in `server`; returns once the friend saw
// the user online, so that what it sees next is what the test does.
async function pair(friendSub, sub, server, opts = {}) {
  const friend = track(user(d.url, { sub: friendSub, servers: [server] }));
  await readyAt(friend, 0);
  const x = track(user(d.url, { sub, servers: [server] }, opts));
  await readyAt(x, 0);
  await until(`${friendSub} to see ${sub} online`, () =>
    friend.events.some((e) => e[0] === 'presence_update' && e[1].user_id === sub && e[1].status === 'online'));
  return { friend, x };
}

// The statuses a watcher saw for a user, from now on.
function watch(watcher, userId) {
  const from = watcher.events.length;
  return () => watcher.events.slice(from)
    .filter((e) => e[0] === 'presence_update' && e[1].user_id === userId).map((e) => e[1].status);
}

test('a blip shorter than the grace: no offline, no second online', async () => {
  const { friend, x } = await pair('pg-friend', 'pg-blip', 'pg', { reconnection: false });
  const seen = watch(friend, 'pg-blip');
  await dropTransport(x);
  await until('lost', () => !x.connected);
  await delay(GRACE_SECONDS * 1000 - 800);
  x.connect();
  await readyAt(x, 1);
  await delay(GRACE_SECONDS * 1000 + 1000);
  assert.deepEqual(seen(), []);
});

test('a clean disconnect is offline at once', async () => {
  const { friend, x } = await pair('pg-friend2', 'pg-clean', 'pg2');
  const seen = watch(friend, 'pg-clean');
  const t0 = Date.now();
  x.disconnect();
  await until('offline', () => seen().length === 1, 3000);
  assert.ok(Date.now() - t0 < 1000, `offline after ${Date.now() - t0} ms`);
  assert.deepEqual(seen(), ['offline']);
});

test('a lost connection that stays lost is offline after the grace, once', async () => {
  const { friend, x } = await pair('pg-friend3', 'pg-gone', 'pg3', { reconnection: false });
  const seen = watch(friend, 'pg-gone');
  await dropTransport(x);
  const t0 = Date.now();
  await until('offline', () => seen().length === 1, GRACE_SECONDS * 1000 + 5000);
  const after = Date.now() - t0;
  assert.ok(after >= GRACE_SECONDS * 1000 - 100, `offline after ${after} ms`);
  assert.ok(after < GRACE_SECONDS * 1000 + 2500, `offline after ${after} ms`);
  await delay(500);
  assert.deepEqual(seen(), ['offline']);
  // Back later: online again, once.
  x.connect();
  await until('online', () => seen().length === 2);
  assert.deepEqual(seen(), ['offline', 'online']);
});

test('the lost connection\'s status is kept for the one that comes back', async () => {
  const { friend, x } = await pair('pg-friend4', 'pg-dnd', 'pg4', { reconnection: false });
  assert.equal((await x.emitWithAck('presence_set', { status: 'dnd' })).ok, true);
  await dropTransport(x);
  await until('lost', () => !x.connected);
  x.connect();
  await readyAt(x, 1);
  await delay(GRACE_SECONDS * 1000 + 1000);
  const snap = await friend.emitWithAck('presence_snapshot', { server_id: 'pg4' });
  assert.deepEqual(snap.members.find((m) => m.user_id === 'pg-dnd'), { user_id: 'pg-dnd', status: 'dnd' });
});

const skip = redisMissing();

test('two workers: a rolling restart of one gives its users\' friends no offline', { skip }, async () => {
  const redis = await startRedis();
  const env = { REALTIME_REDIS_URL: redis.url, REALTIME_PRESENCE_GRACE_SECONDS: 5, REALTIME_PRESENCE_TTL_SECONDS: 2, REALTIME_LOG_LEVEL: 'warn' };
  const A = await startDaemon({ env });
  const B = await startDaemon({ env });
  const relay = await switchable(A.port);
  const local = [];
  try {
    await waitRedisConnected(A);
    await waitRedisConnected(B);
    const users = [];
    for (let i = 0; i < 8; i++) users.push(user(relay.url, { sub: `pr${i}`, servers: ['prs'] }));
    const onB = user(B.url, { sub: 'pr-friend-b', servers: ['prs'] });
    const onA = user(A.url, { sub: 'pr-friend-a', servers: ['prs'] }, { reconnection: false });
    local.push(...users, onB, onA);
    await Promise.all(local.map((s) => readyAt(s, 0)));
    const seenB = () => onB.events.filter((e) => e[0] === 'presence_update' && e[1].status === 'offline');
    const before = seenB().length;
    // A blip first: every connection through the relay lost at once, back on A.
    await until('upgraded', () => users.every((s) => s.io.engine?.transport?.name === 'websocket'));
    relay.dropAll();
    await until('back after the blip', () => users.every((s) => s.connected && s.connects.length >= 2), 15000);
    // Then the restart: A drains, its clients come back on B.
    const connects = users.map((s) => s.connects.length);
    relay.target(B.port);
    A.proc.kill('SIGTERM');
    assert.deepEqual(await A.exitPromise, { code: 0, signal: null });
    await until('back on B', () => users.every((s, i) => s.connected && s.connects.length > connects[i]), 15000);
    await delay(6000);
    // Only the friend that was on the stopped worker (no reconnection) is offline.
    assert.deepEqual(seenB().slice(before).map((e) => e[1].user_id), ['pr-friend-a']);
  } finally {
    for (const s of local) s.close();
    await relay.close();
    try {
      for (const [w, res] of await stopAll([A, B])) assert.deepEqual(res, { code: 0, signal: null }, w.log);
    } finally {
      await redis.cleanup();
    }
  }
});
