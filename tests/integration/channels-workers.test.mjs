// The chat features across two workers sharing one Redis: presence, messages,
// slow mode, typing and publish must not depend on which worker a socket
// landed on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader, waitRedisConnected } from './lib/daemon.mjs';
import { startRedis } from './lib/redis.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, once, request, collect, ready } from './lib/client.mjs';

let redis;
let w1;
let w2;
const sockets = [];

before(async () => {
  redis = await startRedis();
  const env = { REALTIME_REDIS_URL: redis.url, REALTIME_TYPING_TTL_SECONDS: 1 };
  w1 = await startDaemon({ env });
  w2 = await startDaemon({ env });
  await waitRedisConnected(w1);
  await waitRedisConnected(w2);
});

after(async () => {
  for (const s of sockets) s.close();
  await w1?.stop();
  await w2?.stop();
  await redis?.cleanup();
});

function open(d, claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return s;
}
const connect = (d, claims) => ready(open(d, claims));
const put = (id, body) => http(w1, 'PUT', `/api/realtime/channels/${id}`, { body, headers: apiKeyHeader() });

test('presence: online on one worker shows on the other; offline only with the last tab', async () => {
  const watcher = await connect(w2, { sub: 'xw', servers: ['x1'] });
  const updates = collect(watcher, 'presence_update');
  const online = once(watcher, 'presence_update');
  const tab1 = await connect(w1, { sub: 'xu', servers: ['x1'] });
  assert.deepEqual(await online, { server_id: 'x1', user_id: 'xu', status: 'online' });
  const tab2 = await connect(w2, { sub: 'xu', servers: ['x1'] });
  const snap = await request(watcher, 'presence_snapshot', { server_id: 'x1' });
  assert.deepEqual(snap.members.map((m) => m.user_id).sort(), ['xu', 'xw']);
  tab1.close();
  const dnd = once(watcher, 'presence_update');
  assert.equal((await request(tab2, 'presence_set', { status: 'dnd' })).ok, true);
  assert.deepEqual(await dnd, { server_id: 'x1', user_id: 'xu', status: 'dnd' });
  const offline = once(watcher, 'presence_update');
  tab2.close();
  assert.deepEqual(await offline, { server_id: 'x1', user_id: 'xu', status: 'offline' });
  assert.deepEqual(updates.map((u) => u.status), ['online', 'dnd', 'offline']);
  const api = await http(w1, 'GET', '/api/realtime/presence/x1', { headers: apiKeyHeader() });
  assert.deepEqual(api.body, { server_id: 'x1', members: [{ user_id: 'xw', status: 'online' }] });
});

test('messages, typing and publish cross workers; ids stay unique', async () => {
  assert.equal((await put('xc', { server_id: 'x2' })).status, 200);
  const a = await connect(w1, { sub: 'xa', servers: ['x2'] });
  const b = await connect(w2, { sub: 'xb', servers: ['x2'] });
  for (const s of [a, b]) assert.equal((await request(s, 'join_channel', { channel_id: 'xc' })).ok, true);
  const typing = once(b, 'typing_start');
  await request(a, 'typing_start', { channel_id: 'xc' });
  assert.deepEqual(await typing, { channel_id: 'xc', user_id: 'xa', expires_in: 1 });
  assert.deepEqual((await request(b, 'join_channel', { channel_id: 'xc' })).typing, ['xa']);
  const stop = once(b, 'typing_stop');
  const atB = collect(b, 'message');
  const ids = new Set();
  for (let i = 0; i < 5; i++) {
    ids.add((await request(a, 'send_message', { channel_id: 'xc', content: `a${i}` })).id);
    ids.add((await request(b, 'send_message', { channel_id: 'xc', content: `b${i}` })).id);
  }
  assert.deepEqual(await stop, { channel_id: 'xc', user_id: 'xa' });
  assert.equal(ids.size, 10);
  const published = once(b, 'announcement');
  assert.equal((await http(w1, 'POST', '/api/realtime/publish',
    { body: { room: 'channel:xc', event: 'announcement', data: { n: 1 } }, headers: apiKeyHeader() })).status, 200);
  assert.deepEqual(await published, { n: 1 });
  assert.equal(atB.filter((m) => m.user_id === 'xa').length, 5);
});

test('slow mode is one slot across workers: exactly one of two simultaneous sends passes', async () => {
  assert.equal((await put('xs', { server_id: 'x3', settings: { slow_mode: 30 } })).status, 200);
  const tab1 = await connect(w1, { sub: 'xz', servers: ['x3'] });
  const tab2 = await connect(w2, { sub: 'xz', servers: ['x3'] });
  const acks = await Promise.all([tab1, tab2, tab1, tab2].map((s) =>
    request(s, 'send_message', { channel_id: 'xs', content: 'race' })));
  assert.equal(acks.filter((a) => a.ok).length, 1);
  for (const a of acks.filter((x) => !x.ok)) {
    assert.equal(a.error, 'slow_mode');
    assert.ok(a.retry_after > 29 && a.retry_after <= 30);
  }
  const r = await http(w2, 'POST', '/api/realtime/channels/xs/reserve', { body: { user_id: 'xz' }, headers: apiKeyHeader() });
  assert.equal(r.status, 429);
});
