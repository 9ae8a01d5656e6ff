// Connection state recovery across workers: two workers and one Redis,
// stock clients with default options behind a relay that decides which
// worker a (re)connection reaches.  A client lost on worker A recovers on
// worker B: same socket id, its channel, every room event it missed (from
// either worker, typing and the backend's events included), before its
// `connect`, in order, none twice, offsets increasing; under a steady
// stream of events too.  A drained worker's clients (a rolling restart)
// all come back recovered on the other one, and their friends see no
// `offline`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, waitRedisConnected, stopAll } from './lib/daemon.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { switchable } from './lib/balancer.mjs';
import { user, readyAt, dropTransport, assertIncreasing, contents, until, joined, publish } from './lib/recovery.mjs';

const skip = redisMissing();
let redis;
let A;
let B;
let relay;
const sockets = [];
const track = (s) => { sockets.push(s); return s; };

async function worker() {
  const w = await startDaemon({ env: { REALTIME_REDIS_URL: redis.url, REALTIME_RECOVERY_WINDOW_SECONDS: 30, REALTIME_LOG_LEVEL: 'warn' } });
  await waitRedisConnected(w);
  return w;
}

before(async () => {
  if (skip) return;
  redis = await startRedis();
  A = await worker();
  B = await worker();
  relay = await switchable(A.port);
  for (const c of ['w1', 'w2', 'w3'])
    assert.equal((await http(A, 'PUT', `/api/realtime/channels/${c}`, { body: { server_id: 'ws' }, headers: apiKeyHeader() })).status, 200);
});

after(async () => {
  for (const s of sockets) s.close();
  await relay?.close();
  // A worker that crashed or leaked (under ASan) does not exit 0.
  try {
    for (const [w, res] of await stopAll([A, B])) assert.deepEqual(res, { code: 0, signal: null }, w.log);
  } finally {
    await redis?.cleanup();
  }
});

test('lost on worker A, recovered on worker B with everything both workers sent meanwhile', { skip }, async () => {
  relay.target(A.port);
  const a = track(user(relay.url, { sub: 'wa', servers: ['ws'] }));
  const onA = track(user(A.url, { sub: 'wsa', servers: ['ws'] }));
  const onB = track(user(B.url, { sub: 'wsb', servers: ['ws'] }));
  await Promise.all([readyAt(a, 0), readyAt(onA, 0), readyAt(onB, 0)]);
  for (const s of [a, onA, onB]) await joined(s, 'w1');
  await onB.emitWithAck('send_message', { channel_id: 'w1', content: 'first', nonce: 'f' });
  await until('first', () => contents(a).length === 1);
  const id = a.id;
  relay.target(B.port);
  await dropTransport(a);
  await until('lost', () => !a.connected);
  await onA.emitWithAck('send_message', { channel_id: 'w1', content: 'from A', nonce: 'a' });
  await onB.emitWithAck('send_message', { channel_id: 'w1', content: 'from B', nonce: 'b' });
  assert.equal((await onA.emitWithAck('typing_start', { channel_id: 'w1' })).ok, true);
  assert.equal((await publish(B, 'channel:w1', { n: 1 })).status, 200);
  assert.equal((await publish(A, 'channel:w1', { n: 2 })).status, 200);
  const ready = await readyAt(a, 1, 15000);
  assert.deepEqual(ready, { user_id: 'wa', servers: ['ws'], session_id: null, recovered: true });
  assert.equal(a.recovered, true);
  assert.equal(a.id, id);
  // What two workers sent is ordered by the sequencer, not by who was
  // called first: the client sees the order of a client that never left.
  const atConnect = a.events.slice(0, a.connects[1].events);
  const order = (s, event, key) => s.events.filter((e) => e[0] === event).map((e) => e[1][key]);
  await until('the observer', () => order(onB, 'pub', 'n').length === 2);
  assert.deepEqual(atConnect.filter((e) => e[0] === 'message').map((e) => e[1].content), order(onB, 'message', 'content').slice(0, 3));
  assert.deepEqual([...contents(a)].sort(), ['first', 'from A', 'from B']);
  assert.deepEqual(atConnect.filter((e) => e[0] === 'pub').map((e) => e[1].n), order(onB, 'pub', 'n'));
  assert.equal(atConnect.filter((e) => e[0] === 'typing_start' && e[1].user_id === 'wsa').length, 1);
  // Its channel on B, without joining again.
  await onA.emitWithAck('send_message', { channel_id: 'w1', content: 'live', nonce: 'l' });
  await until('live', () => contents(a).includes('live') && contents(onB).includes('live'));
  assert.deepEqual(contents(a), contents(onB));
  assertIncreasing(a.events);
  // The same offsets reached everyone: one order for the deployment.
  const offsetsOf = (s) => s.events.filter((e) => e[0] === 'message').map((e) => [e[1].content, e[e.length - 1]]);
  const byContent = Object.fromEntries(offsetsOf(onB));
  for (const [content, off] of offsetsOf(a)) assert.equal(byContent[content], off, content);
  assert.equal((await http(B, 'GET', '/healthz')).body.connections >= 2, true);
});

test('a steady stream from both workers, the client moved twice: every event once, in the order of one that stayed', { skip }, async () => {
  relay.target(A.port);
  const a = track(user(relay.url, { sub: 'wt', servers: ['ws'] }));
  const stayed = track(user(B.url, { sub: 'wt-stays', servers: ['ws'] }));
  await Promise.all([readyAt(a, 0), readyAt(stayed, 0)]);
  await joined(a, 'w2');
  await joined(stayed, 'w2');
  const total = 300;
  let sent = 0;
  const sender = (async () => {
    for (; sent < total; sent++) {
      assert.equal((await publish(sent % 2 ? A : B, 'channel:w2', { n: sent })).status, 200);
      if (sent % 10 === 0) await delay(5);
    }
  })();
  await until('a first part', () => sent > 50);
  relay.target(B.port);
  await dropTransport(a);
  await until('on B', () => a.connects.length === 2, 15000);
  await until('a second part', () => sent > 180);
  relay.target(A.port);
  await dropTransport(a);
  await sender;
  const pubs = (s) => s.events.filter((e) => e[0] === 'pub').map((e) => e[1].n);
  await until('every event', () => pubs(a).length >= total && pubs(stayed).length >= total && a.connects.length === 3, 15000);
  await delay(300);
  assert.deepEqual(pubs(a), pubs(stayed));
  assert.deepEqual([...pubs(a)].sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i));
  assert.deepEqual(a.connects.map((c) => c.recovered), [false, true, true]);
  assertIncreasing(a.events);
});

test('a rolling restart: the drained worker\'s clients recover on the other, friends see no offline', { skip }, async () => {
  relay.target(A.port);
  const n = 10;
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(track(user(relay.url, { sub: `roll${i}`, servers: ['ws'] })));
  const friend = track(user(B.url, { sub: 'friend', servers: ['ws'] }));
  await Promise.all([...clients, friend].map((s) => readyAt(s, 0)));
  for (const s of clients) await joined(s, 'w3');
  await joined(friend, 'w3');
  const marks = friend.events.length;
  relay.target(B.port);
  A.proc.kill('SIGTERM');
  assert.deepEqual(await A.exitPromise, { code: 0, signal: null });
  for (let i = 0; i < 5; i++) await friend.emitWithAck('send_message', { channel_id: 'w3', content: `during${i}`, nonce: `d${i}` });
  await until('all back', () => clients.every((s) => s.connects.length === 2), 20000);
  assert.deepEqual(clients.map((s) => s.connects[1].recovered), clients.map(() => true));
  await friend.emitWithAck('send_message', { channel_id: 'w3', content: 'after', nonce: 'after' });
  await until('after everywhere', () => clients.every((s) => contents(s).includes('after')));
  for (const s of clients) {
    assert.deepEqual(contents(s), ['during0', 'during1', 'during2', 'during3', 'during4', 'after']);
    assertIncreasing(s.events);
  }
  // Past the grace (5 s): nobody went offline for the friend.
  await delay(5500);
  const flaps = friend.events.slice(marks).filter((e) => e[0] === 'presence_update');
  assert.deepEqual(flaps, []);
  A = await worker();
});
