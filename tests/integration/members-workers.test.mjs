// Live memberships across two workers sharing one Redis, with the stock
// client: a user with a socket on each worker is added to a server (both
// sockets get its events and presence, its members see the user online),
// removed (both stop receiving within a second, get server_left, the
// members see offline, typing there ends), reconnects with the old token
// (the removal holds), and refreshes its token (a new server joined, a
// missing one left); moderator follows the PUT (slow mode).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, waitRedisConnected, until } from './lib/daemon.mjs';
import { startRedis } from './lib/redis.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, once, request, collect, ready } from './lib/client.mjs';

let redis;
let w1;
let w2;
const sockets = [];

before(async () => {
  redis = await startRedis();
  const env = { REALTIME_REDIS_URL: redis.url };
  w1 = await startDaemon({ env });
  w2 = await startDaemon({ env });
  await waitRedisConnected(w1);
  await waitRedisConnected(w2);
});

after(async () => {
  for (const s of sockets) s.close();
  const exits = [await w1?.stop(), await w2?.stop()];
  await redis?.cleanup();
  // A crash, or a leak under ASan, is a failure too.
  assert.deepEqual(exits, [{ code: 0, signal: null }, { code: 0, signal: null }]);
});

async function connect(d, token) {
  const s = client(d, { token });
  sockets.push(s);
  const readyEvent = once(s, 'ready');
  await ready(s);
  s.readyPayload = await readyEvent;
  return s;
}

const api = (d, method, path, body) => http(d, method, path, { body, headers: apiKeyHeader() });
const membership = (d, method, user, server, body) =>
  api(d, method, `/api/realtime/users/${encodeURIComponent(user)}/servers/${encodeURIComponent(server)}`, body);
const members = async (server) =>
  (await api(w2, 'GET', `/api/realtime/presence/${server}`)).body.members.map((m) => m.user_id).sort();

// Nothing of `event` arrives on any of the sockets within ms.
async function silent(list, event, ms = 400) {
  const got = list.map((s) => collect(s, event));
  await delay(ms);
  list.forEach((s) => s.off(event));
  assert.deepEqual(got, list.map(() => []), `no ${event} expected`);
}

test('the server API: key, ids, bodies, idempotence, unknown users', async () => {
  const path = '/api/realtime/users/u1/servers/s1';
  assert.equal((await http(w1, 'PUT', path)).status, 401);
  assert.equal((await http(w1, 'DELETE', path, { headers: { authorization: 'Bearer nope' } })).status, 401);
  const bad = await membership(w1, 'PUT', 'u1', 'x'.repeat(201));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_body');
  const badJson = await http(w1, 'PUT', path, { raw: '{nope', headers: { ...apiKeyHeader(), 'content-type': 'application/json' } });
  assert.deepEqual([badJson.status, badJson.body.error], [400, 'invalid_json']);
  const badFlag = await membership(w1, 'PUT', 'u1', 's1', { moderator: 'yes' });
  assert.deepEqual([badFlag.status, badFlag.body.error], [400, 'invalid_body']);
  // Nobody connected: nothing to do, 200 all the same, as often as asked.
  for (let i = 0; i < 2; i++) {
    assert.deepEqual((await membership(w2, 'PUT', 'nobody', 's1', { moderator: true })).body,
      { ok: true, user_id: 'nobody', server_id: 's1', member: true, moderator: true });
    assert.deepEqual((await membership(w1, 'DELETE', 'nobody', 's1')).body,
      { ok: true, user_id: 'nobody', server_id: 's1', member: false });
  }
  const wrongMethod = await api(w1, 'POST', path, {});
  assert.equal(wrongMethod.status, 405);
});

test('added, removed, back with the old token, refreshed: a socket on each worker', async () => {
  const oldToken = realtimeToken({ sub: 'alice', servers: ['home'] });
  const a1 = await connect(w1, oldToken);
  const a2 = await connect(w2, oldToken);
  const bob = await connect(w1, realtimeToken({ sub: 'bob', servers: ['guild'] }));
  const carol = await connect(w2, realtimeToken({ sub: 'carol', servers: ['guild'] }));
  assert.equal((await api(w1, 'PUT', '/api/realtime/channels/g-general', { server_id: 'guild' })).status, 200);
  assert.equal((await request(bob, 'join_channel', { channel_id: 'g-general' })).ok, true);
  assert.equal((await request(a1, 'join_channel', { channel_id: 'g-general' })).error, 'forbidden');

  // --- added ---
  const joined = [a1, a2].map((s) => once(s, 'server_joined'));
  const seenByFriends = [bob, carol].map((s) => once(s, 'presence_update'));
  const friendUpdates = [bob, carol].map((s) => collect(s, 'presence_update'));
  const added = await membership(w2, 'PUT', 'alice', 'guild');
  assert.deepEqual(added.body, { ok: true, user_id: 'alice', server_id: 'guild', member: true, moderator: false });
  for (const got of await Promise.all(joined)) assert.deepEqual(got, { server_id: 'guild' });
  for (const got of await Promise.all(seenByFriends)) {
    assert.deepEqual(got, { server_id: 'guild', user_id: 'alice', status: 'online' });
  }
  assert.deepEqual(await members('guild'), ['alice', 'bob', 'carol']);
  // Both sockets get the server's events, and its members' presence.
  const announced = [a1, a2].map((s) => once(s, 'announcement'));
  assert.equal((await api(w1, 'POST', '/api/realtime/publish',
    { room: 'server:guild', event: 'announcement', data: { n: 1 } })).status, 200);
  for (const got of await Promise.all(announced)) assert.deepEqual(got, { n: 1 });
  const idle = [a1, a2].map((s) => once(s, 'presence_update'));
  assert.equal((await request(carol, 'presence_set', { status: 'idle' })).ok, true);
  for (const got of await Promise.all(idle)) assert.deepEqual(got, { server_id: 'guild', user_id: 'carol', status: 'idle' });
  assert.deepEqual((await request(a2, 'presence_snapshot', { server_id: 'guild' })).members.map((m) => m.user_id).sort(),
    ['alice', 'bob', 'carol']);
  // ... and may join its channels, on either worker.
  for (const s of [a1, a2]) assert.equal((await request(s, 'join_channel', { channel_id: 'g-general' })).ok, true);
  const delivered = [a1, a2].map((s) => once(s, 'message'));
  assert.equal((await request(bob, 'send_message', { channel_id: 'g-general', content: 'welcome', nonce: 'n1' })).ok, true);
  for (const got of await Promise.all(delivered)) assert.equal(got.content, 'welcome');
  // Repeated: nobody is told twice.
  await membership(w1, 'PUT', 'alice', 'guild');
  await silent([a1, a2], 'server_joined', 300);
  assert.deepEqual(friendUpdates.map((l) => l.filter((u) => u.user_id === 'alice').length), [1, 1]);

  // --- removed ---
  assert.equal((await request(a1, 'typing_start', { channel_id: 'g-general' })).ok, true);
  const left = [a1, a2].map((s) => once(s, 'server_left', 1000));
  const offline = [bob, carol].map((s) => once(s, 'presence_update', 1000));
  const typingStop = once(bob, 'typing_stop', 1000);
  const removedAt = Date.now();
  const removed = await membership(w1, 'DELETE', 'alice', 'guild');
  assert.deepEqual(removed.body, { ok: true, user_id: 'alice', server_id: 'guild', member: false });
  for (const got of await Promise.all(left)) assert.deepEqual(got, { server_id: 'guild' });
  assert.ok(Date.now() - removedAt < 1000, `server_left after ${Date.now() - removedAt} ms`);
  for (const got of await Promise.all(offline)) assert.deepEqual(got, { server_id: 'guild', user_id: 'alice', status: 'offline' });
  assert.deepEqual(await typingStop, { channel_id: 'g-general', user_id: 'alice' });
  assert.deepEqual(await members('guild'), ['bob', 'carol']);
  // Nothing of the server reaches either socket any more: events, messages, presence.
  const quiet = [a1, a2].map((s) => [collect(s, 'announcement'), collect(s, 'message'), collect(s, 'presence_update')]);
  await api(w2, 'POST', '/api/realtime/publish', { room: 'server:guild', event: 'announcement', data: { n: 2 } });
  await request(bob, 'send_message', { channel_id: 'g-general', content: 'bye', nonce: 'n2' });
  await request(carol, 'presence_set', { status: 'dnd' });
  await delay(400);
  assert.deepEqual(quiet, [[[], [], []], [[], [], []]]);
  for (const s of [a1, a2]) {
    assert.equal((await request(s, 'send_message', { channel_id: 'g-general', content: 'x', nonce: 'n' })).error, 'forbidden');
    assert.equal((await request(s, 'join_channel', { channel_id: 'g-general' })).error, 'forbidden');
    assert.equal((await request(s, 'presence_snapshot', { server_id: 'guild' })).error, 'forbidden');
  }
  // Still connected, still in their own servers.
  assert.ok(a1.connected && a2.connected);

  // --- back with a token issued before the removal that lists the server ---
  const banned = realtimeToken({ sub: 'alice', servers: ['home', 'guild'], iat: Math.floor(removedAt / 1000) - 5 });
  for (const d of [w1, w2]) {
    const again = await connect(d, banned);
    assert.deepEqual(again.readyPayload.servers, ['home']);
    assert.equal((await request(again, 'presence_snapshot', { server_id: 'guild' })).error, 'forbidden');
    assert.equal((await request(again, 'join_channel', { channel_id: 'g-general' })).error, 'forbidden');
    const nothing = collect(again, 'announcement');
    await api(w1, 'POST', '/api/realtime/publish', { room: 'server:guild', event: 'announcement', data: { n: 3 } });
    await delay(300);
    assert.deepEqual(nothing, []);
    again.close();
  }

  // --- refreshed: a new server joined, a missing one left ---
  const arena = once(a2, 'server_joined');
  const refreshed = await request(a2, 'refresh_token', { token: realtimeToken({ sub: 'alice', servers: ['home', 'arena'] }) });
  assert.equal(refreshed.ok, true);
  assert.ok(refreshed.expires_in > 290 && refreshed.expires_in <= 300, JSON.stringify(refreshed));
  assert.deepEqual(await arena, { server_id: 'arena' });
  const homeLeft = once(a2, 'server_left');
  assert.equal((await request(a2, 'refresh_token', { token: realtimeToken({ sub: 'alice', servers: ['arena'] }) })).ok, true);
  assert.deepEqual(await homeLeft, { server_id: 'home' });
  const arenaNews = once(a2, 'announcement');
  const homeNews = collect(a2, 'announcement');
  await api(w1, 'POST', '/api/realtime/publish', { room: 'server:home', event: 'announcement', data: { to: 'home' } });
  await api(w1, 'POST', '/api/realtime/publish', { room: 'server:arena', event: 'announcement', data: { to: 'arena' } });
  assert.deepEqual(await arenaNews, { to: 'arena' });
  await delay(200);
  assert.deepEqual(homeNews.map((n) => n.to), ['arena']);
  // The old token, still listing the removed server, does not bring it back.
  assert.equal((await request(a1, 'refresh_token', { token: banned })).ok, true);
  assert.equal((await request(a1, 'presence_snapshot', { server_id: 'guild' })).error, 'forbidden');
  // Another user's token, or a forged one, is refused and changes nothing.
  assert.deepEqual(await request(a1, 'refresh_token', { token: realtimeToken({ sub: 'mallory', servers: ['guild'] }) }),
    { ok: false, error: 'invalid_token' });
  assert.deepEqual(await request(a1, 'refresh_token', { token: 'nope' }), { ok: false, error: 'invalid_token' });
  assert.ok(a1.connected);

  // --- a later PUT lifts the removal ---
  assert.equal((await membership(w2, 'PUT', 'alice', 'guild')).status, 200);
  const welcomeBack = await connect(w1, banned);
  assert.deepEqual(welcomeBack.readyPayload.servers.sort(), ['guild', 'home']);
});

test('moderator follows the PUT: slow mode exemption on both workers', async () => {
  assert.equal((await api(w1, 'PUT', '/api/realtime/channels/slow-1',
    { server_id: 'mods', settings: { slow_mode: 60 } })).status, 200);
  const token = realtimeToken({ sub: 'dave', servers: ['mods'] });
  const d1 = await connect(w1, token);
  const d2 = await connect(w2, token);
  for (const s of [d1, d2]) assert.equal((await request(s, 'join_channel', { channel_id: 'slow-1' })).ok, true);
  let n = 0;
  const send = (s) => request(s, 'send_message', { channel_id: 'slow-1', content: 'hi', nonce: `m${n++}` });
  assert.equal((await send(d1)).ok, true);
  assert.equal((await send(d2)).error, 'slow_mode');
  assert.equal((await membership(w2, 'PUT', 'dave', 'mods', { moderator: true })).body.moderator, true);
  await until('the moderator flag on both workers', async () => (await send(d1)).ok && (await send(d2)).ok, 2000);
  await membership(w1, 'PUT', 'dave', 'mods', { moderator: false });
  await until('the flag gone on both workers', async () => (await send(d2)).error === 'slow_mode', 2000);
  assert.equal((await send(d1)).error, 'slow_mode');
});
