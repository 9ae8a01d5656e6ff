// Connection state recovery on one worker (the shipped conf.d, in-process
// state), with the stock socket.io-client: a client whose transport is
// lost (its TCP socket destroyed) comes back with its socket id, its
// channel, and every room event it missed (messages, typing, events the
// backend published), before its `connect`, in order, none twice, each
// with a 16-digit offset increasing over its whole stream; a clean
// disconnect, a revoked session, another user's token with the stolen pid
// and a drop longer than the window each give a fresh connection (or a
// refusal), never an error and never someone else's events.  With
// SBR_TEST_REDIS=cluster (ctest label cluster) the main worker runs on a
// cluster of three masters instead: the sequencer on one slot, room
// topics on classic SUBSCRIBE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, http, apiKeyHeader, waitRedisConnected, stopAll, SOURCE_DIR } from './lib/daemon.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { user, readyAt, errorAt, dropTransport, assertIncreasing, contents, offsetOf, until, joined, publish } from './lib/recovery.mjs';

const TOPOLOGY = process.env.SBR_TEST_REDIS;
const skip = TOPOLOGY ? redisMissing() : false;
let redis;
let d;
let short;
let capped;
let off;
const sockets = [];
const track = (s) => { sockets.push(s); return s; };

before(async () => {
  if (skip) return;
  if (TOPOLOGY) redis = await startRedis();
  d = await startDaemon({ env: { REALTIME_RECOVERY_WINDOW_SECONDS: 30, ...(redis ? { REALTIME_REDIS_URL: redis.url } : {}) } });
  if (redis) await waitRedisConnected(d);
  const withRedis = redis ? { REALTIME_REDIS_URL: redis.url } : {};
  short = await startDaemon({ env: { REALTIME_RECOVERY_WINDOW_SECONDS: 1, ...withRedis } });
  // Rooms keep 5 events: a client that missed more cannot be recovered.
  const core = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '10-core.conf'), 'utf8')
    .replace(/^recovery_max_events = .*$/m, 'recovery_max_events = 5');
  capped = await startDaemon({ env: { REALTIME_RECOVERY_WINDOW_SECONDS: 30, ...withRedis }, files: { '10-core.conf': core } });
  // The default: recovery off.
  off = await startDaemon({ env: { REALTIME_RECOVERY_WINDOW_SECONDS: null } });
  for (const w of [short, capped]) if (redis) await waitRedisConnected(w);
  for (const w of [d, short, capped, off])
    for (const c of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
      assert.equal((await http(w, 'PUT', `/api/realtime/channels/${c}`, { body: { server_id: 's1' }, headers: apiKeyHeader() })).status, 200);
});

after(async () => {
  for (const s of sockets) s.close();
  try {
    // A worker that crashed or leaked (under ASan) does not exit 0.
    for (const [w, res] of await stopAll([d, short, capped, off])) assert.deepEqual(res, { code: 0, signal: null }, w.log);
  } finally {
    await redis?.cleanup();
  }
});

test('the CONNECT answer carries a pid and room events an offset; ready says nothing of recovery on a first connect', { skip }, async () => {
  const a = track(user(d.url, { sub: 'r0', servers: ['s1'] }));
  const ready = await readyAt(a, 0);
  assert.deepEqual(ready, { user_id: 'r0', servers: ['s1'], session_id: null });
  assert.match(a._pid, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(a.recovered, false);
  // The user's own presence came through server:s1, with an offset.
  const own = a.events.find((e) => e[0] === 'presence_update');
  assert.deepEqual(own.slice(0, 2), ['presence_update', { server_id: 's1', user_id: 'r0', status: 'online' }]);
  assert.match(offsetOf(own), /^\d{16}$/);
  assert.equal(a._lastOffset, offsetOf(own));
});

test('a lost transport: back with its id, its channel and every missed event, in order, before connect', { skip }, async () => {
  const a = track(user(d.url, { sub: 'ra', servers: ['s1'] }));
  const b = track(user(d.url, { sub: 'rb', servers: ['s1'] }));
  await readyAt(a, 0);
  await readyAt(b, 0);
  await joined(a, 'c1');
  await joined(b, 'c1');
  await b.emitWithAck('send_message', { channel_id: 'c1', content: 'before', nonce: 'n0' });
  await until('the first message', () => contents(a).length === 1);
  const id = a.id;
  const raPresence = () => b.events.filter((e) => e[0] === 'presence_update' && e[1].user_id === 'ra');
  const presenceBefore = raPresence().length;
  const dropped = Date.now();
  await dropTransport(a);
  await until('the server to see the loss', () => !a.connected);
  for (let i = 1; i <= 5; i++) await b.emitWithAck('send_message', { channel_id: 'c1', content: `gone${i}`, nonce: `n${i}` });
  assert.equal((await b.emitWithAck('typing_start', { channel_id: 'c1' })).ok, true);
  assert.equal((await publish(d, 'channel:c1', { n: 1 })).status, 200);
  const ready = await readyAt(a, 1, 15000);
  assert.deepEqual(ready, { user_id: 'ra', servers: ['s1'], session_id: null, recovered: true });
  assert.equal(a.recovered, true);
  assert.equal(a.id, id);
  assert.deepEqual(a.connects.map((c) => c.recovered), [false, true]);
  // Everything missed was emitted before the client's `connect`, as with
  // Socket.IO's own server.
  const atConnect = a.events.slice(0, a.connects[1].events).filter((e) => e[0] === 'message').map((e) => e[1].content);
  assert.deepEqual(atConnect, ['before', 'gone1', 'gone2', 'gone3', 'gone4', 'gone5']);
  const missed = a.events.slice(0, a.connects[1].events);
  assert.equal(missed.filter((e) => e[0] === 'typing_start' && e[1].user_id === 'rb').length, 1);
  assert.equal(missed.filter((e) => e[0] === 'pub' && e[1].n === 1).length, 1);
  // Still in the channel, without joining again.
  await b.emitWithAck('send_message', { channel_id: 'c1', content: 'after', nonce: 'n9' });
  await until('the live message', () => contents(a).includes('after'));
  assert.deepEqual(contents(a), ['before', 'gone1', 'gone2', 'gone3', 'gone4', 'gone5', 'after']);
  assertIncreasing(a.events);
  // No offline/online flap for rb to see, even once the grace (5 s) is
  // over: the recovery ended it.
  await delay(Math.max(0, dropped + 5500 - Date.now()));
  assert.deepEqual(raPresence().slice(presenceBefore), []);
  const metrics = (await http(d, 'GET', '/metrics')).body;
  assert.match(metrics, /^superbot_recoveries_total [1-9]/m);
});

test('under traffic: two drops while the backend publishes, every event exactly once and in order', { skip }, async () => {
  const a = track(user(d.url, { sub: 'rt', servers: ['s1'] }));
  await readyAt(a, 0);
  await joined(a, 'c2');
  const total = 400;
  let sent = 0;
  const sender = (async () => {
    for (; sent < total; sent++) {
      assert.equal((await publish(d, 'channel:c2', { n: sent })).status, 200);
      if (sent % 10 === 0) await delay(5);
    }
  })();
  await until('a first part', () => sent > 60);
  await dropTransport(a);
  await until('the first recovery', () => a.connects.length === 2, 15000);
  await until('a second part', () => sent > 250);
  await dropTransport(a);
  await sender;
  await until('every event', () => a.events.filter((e) => e[0] === 'pub').length >= total && a.connects.length === 3, 15000);
  await delay(200);
  const got = a.events.filter((e) => e[0] === 'pub').map((e) => e[1].n);
  assert.deepEqual(got, Array.from({ length: total }, (_, i) => i));
  assert.deepEqual(a.connects.map((c) => c.recovered), [false, true, true]);
  assertIncreasing(a.events);
});

test('the typist does not get its own typing_start back in a replay', { skip }, async () => {
  const a = track(user(d.url, { sub: 'rtyp', servers: ['s1'] }, { reconnection: false }));
  const b = track(user(d.url, { sub: 'rtyq', servers: ['s1'] }));
  await readyAt(a, 0);
  await readyAt(b, 0);
  await joined(a, 'c3');
  await joined(b, 'c3');
  assert.equal((await a.emitWithAck('typing_start', { channel_id: 'c3' })).ok, true);
  await until('the other sees it', () => b.events.some((e) => e[0] === 'typing_start'));
  await dropTransport(a);
  await until('lost', () => !a.connected);
  await b.emitWithAck('send_message', { channel_id: 'c3', content: 'while away', nonce: 'w' });
  a.connect();
  assert.equal((await readyAt(a, 1)).recovered, true);
  await delay(100);
  assert.deepEqual(contents(a), ['while away']);
  assert.equal(a.events.filter((e) => e[0] === 'typing_start').length, 0);
});

test('a clean disconnect never recovers', { skip }, async () => {
  const a = track(user(d.url, { sub: 'rc', servers: ['s1'] }));
  await readyAt(a, 0);
  await joined(a, 'c4');
  const id = a.id;
  a.disconnect();
  a.connect();
  assert.deepEqual(await readyAt(a, 1), { user_id: 'rc', servers: ['s1'], session_id: null, recovered: false });
  assert.equal(a.recovered, false);
  assert.notEqual(a.id, id);
  // A fresh connection is in no channel.
  const b = track(user(d.url, { sub: 'rc2', servers: ['s1'] }));
  await readyAt(b, 0);
  await joined(b, 'c4');
  await b.emitWithAck('send_message', { channel_id: 'c4', content: 'not for a', nonce: 'x' });
  await delay(200);
  assert.deepEqual(contents(a), []);
});

test('a drop longer than the window gives a fresh connection', { skip }, async () => {
  const a = track(user(short.url, { sub: 'rw', servers: ['s1'] }, { reconnection: false }));
  await readyAt(a, 0);
  await joined(a, 'c5');
  const id = a.id;
  await dropTransport(a);
  await until('lost', () => !a.connected);
  await delay(1600);
  a.connect();
  assert.equal((await readyAt(a, 1)).recovered, false);
  assert.equal(a.recovered, false);
  assert.notEqual(a.id, id);
});

test('a revoked session does not come back, whether revoked while away or while connected', { skip }, async () => {
  const a = track(user(d.url, { sub: 'rv', servers: ['s1'], sid: 'sess-away' }, { reconnection: false }));
  await readyAt(a, 0);
  await dropTransport(a);
  await until('lost', () => !a.connected);
  assert.equal((await http(d, 'POST', '/api/realtime/sessions/sess-away/revoke', { headers: apiKeyHeader() })).status, 200);
  a.connect();
  assert.equal(await errorAt(a, 0), 'invalid_token');
  assert.equal(a.connected, false);

  const b = track(user(d.url, { sub: 'rv', servers: ['s1'], sid: 'sess-live' }, { reconnection: false }));
  await readyAt(b, 0);
  const why = new Promise((resolve) => b.once('disconnect_reason', resolve));
  assert.equal((await http(d, 'POST', '/api/realtime/sessions/sess-live/revoke', { headers: apiKeyHeader() })).status, 200);
  assert.deepEqual(await why, { reason: 'revoked' });
  await until('ended', () => !b.connected);
  b.connect();
  assert.equal(await errorAt(b, 0), 'invalid_token');
});

test('another user\'s token with a stolen pid gets a fresh connection; the owner still recovers', { skip }, async () => {
  const a = track(user(d.url, { sub: 'owner', servers: ['s1'], sid: 'sess-owner' }, { reconnection: false }));
  const b = track(user(d.url, { sub: 'talker', servers: ['s1'] }));
  await readyAt(a, 0);
  await readyAt(b, 0);
  await joined(a, 'c6');
  await joined(b, 'c6');
  await b.emitWithAck('send_message', { channel_id: 'c6', content: 'm1', nonce: 'm1' });
  await until('m1', () => contents(a).length === 1);
  await dropTransport(a);
  await until('lost', () => !a.connected);
  await b.emitWithAck('send_message', { channel_id: 'c6', content: 'm2', nonce: 'm2' });
  const stolen = { pid: a._pid, offset: a._lastOffset };
  // The thief: a valid token of its own, the owner's pid and offset.
  const m = track(user(d.url, { sub: 'mallory', servers: ['s1'] }, { auth: stolen, reconnection: false }));
  assert.deepEqual(await readyAt(m, 0), { user_id: 'mallory', servers: ['s1'], session_id: null, recovered: false });
  assert.equal(m.recovered, false);
  assert.notEqual(m.id, a.id);
  // Same user, but another session than the one the connection had.
  const s = track(user(d.url, { sub: 'owner', servers: ['s1'], sid: 'other-session' }, { auth: stolen, reconnection: false }));
  assert.equal((await readyAt(s, 0)).recovered, false);
  await b.emitWithAck('send_message', { channel_id: 'c6', content: 'm3', nonce: 'm3' });
  // The owner, with its own token, gets everything back.
  a.connect();
  assert.deepEqual(await readyAt(a, 1), { user_id: 'owner', servers: ['s1'], session_id: 'sess-owner', recovered: true });
  await until('m3', () => contents(a).includes('m3'));
  assert.deepEqual(contents(a), ['m1', 'm2', 'm3']);
  assert.deepEqual(contents(m), []);
  assert.deepEqual(contents(s), []);
});

test('a pid that is no session, or an offset that is not one, is a fresh connection', { skip }, async () => {
  for (const auth of [{ pid: 'A'.repeat(22), offset: '0000000000000001' }, { pid: 'nonsense', offset: 5 },
    { pid: 'B'.repeat(22), offset: 'not-an-offset' }, { pid: 42 }]) {
    const s = track(user(d.url, { sub: 'rx', servers: ['s1'] }, { auth, reconnection: false }));
    const ready = await readyAt(s, 0);
    assert.equal(s.recovered, false, JSON.stringify(auth));
    assert.notEqual(ready.recovered, true);
    s.close();
  }
  // The daemon is still up and answering.
  assert.equal((await http(d, 'GET', '/healthz')).status, 200);
});

test('a server removed while the client was away is not restored, nor its channels, nor their events', { skip }, async () => {
  assert.equal((await http(d, 'PUT', '/api/realtime/channels/k7', { body: { server_id: 'k7s' }, headers: apiKeyHeader() })).status, 200);
  assert.equal((await http(d, 'PUT', '/api/realtime/channels/k8', { body: { server_id: 'k8s' }, headers: apiKeyHeader() })).status, 200);
  const a = track(user(d.url, { sub: 'kicked', servers: ['k7s', 'k8s'] }, { reconnection: false }));
  const b = track(user(d.url, { sub: 'kicker', servers: ['k7s', 'k8s'] }));
  await Promise.all([readyAt(a, 0), readyAt(b, 0)]);
  for (const c of ['k7', 'k8']) { await joined(a, c); await joined(b, c); }
  await dropTransport(a);
  await until('lost', () => !a.connected);
  assert.equal((await http(d, 'DELETE', '/api/realtime/users/kicked/servers/k7s', { headers: apiKeyHeader() })).status, 200);
  await b.emitWithAck('send_message', { channel_id: 'k7', content: 'in 7', nonce: 'a' });
  await b.emitWithAck('send_message', { channel_id: 'k8', content: 'in 8', nonce: 'b' });
  a.connect(); // the same token, which still lists k7s
  const ready = await readyAt(a, 1);
  assert.equal(ready.recovered, true);
  assert.deepEqual(ready.servers, ['k8s']);
  await delay(100);
  assert.deepEqual(contents(a), ['in 8']);
  await b.emitWithAck('send_message', { channel_id: 'k7', content: 'in 7 again', nonce: 'c' });
  await b.emitWithAck('send_message', { channel_id: 'k8', content: 'in 8 again', nonce: 'd' });
  await until('in 8 again', () => contents(a).includes('in 8 again'));
  assert.deepEqual(contents(a), ['in 8', 'in 8 again']);
});

test('recovery_max_events bounds a room\'s log: missing fewer recovers, missing more is a fresh connection', { skip }, async () => {
  const a = track(user(capped.url, { sub: 'rm', servers: ['s1'] }, { reconnection: false }));
  const b = track(user(capped.url, { sub: 'rm2', servers: ['s1'] }));
  await Promise.all([readyAt(a, 0), readyAt(b, 0)]);
  await joined(a, 'c1');
  await joined(b, 'c1');
  const away = async (n, round) => {
    await dropTransport(a);
    await until('lost', () => !a.connected);
    for (let i = 0; i < n; i++) {
      const ack = await b.timeout(5000).emitWithAck('send_message', { channel_id: 'c1', content: `${round}${i}`, nonce: `${round}${i}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    a.connect();
    return (await readyAt(a, a.readies.length)).recovered;
  };
  assert.equal(await away(3, 'x'), true);
  assert.deepEqual(contents(a), ['x0', 'x1', 'x2']);
  // Ten missed, five kept: the log cannot give them all back.
  assert.equal(await away(10, 'y'), false);
  assert.equal(a.recovered, false);
  await delay(100);
  assert.deepEqual(contents(a), ['x0', 'x1', 'x2']);
});

test('recovery is off by default: no pid, no offsets, and a CONNECT with a pid is an ordinary connect', { skip }, async () => {
  const a = track(user(off.url, { sub: 'roff', servers: ['s1'] }, { reconnection: false }));
  assert.deepEqual(await readyAt(a, 0), { user_id: 'roff', servers: ['s1'], session_id: null });
  assert.equal(a._pid, undefined);
  await joined(a, 'c1');
  assert.equal((await publish(off, 'channel:c1', { n: 1 })).status, 200);
  await until('the published event', () => a.events.some((e) => e[0] === 'pub'));
  assert.deepEqual(a.events.find((e) => e[0] === 'pub'), ['pub', { n: 1 }]);
  const m = track(user(off.url, { sub: 'roff2', servers: ['s1'] },
    { auth: { pid: 'A'.repeat(22), offset: '0000000000000001' }, reconnection: false }));
  assert.deepEqual(await readyAt(m, 0), { user_id: 'roff2', servers: ['s1'], session_id: null });
  // No pid in the answer: the stock client's `recovered` is then falsy.
  assert.equal(m._pid, undefined);
  assert.ok(!m.recovered);
});
