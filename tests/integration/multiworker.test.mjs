// Three workers on one Redis: messages, presence, typing, slow mode,
// revocation and the publish API cross workers, each exactly once; a
// SIGKILLed worker leaves no ghost presence once its entries' TTL passed;
// /healthz and /metrics name the form of Redis and each link's state.
// SBR_TEST_REDIS=cluster or sentinel: the same on a cluster or a sentinel set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, until, waitRedisConnected } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, once, request, collect, ready } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';

const skip = redisMissing();
const PREFIX = 'superbot-realtime:';
const PRESENCE_TTL_S = 3;
let redis;
let workers = [];
const sockets = [];

before(async () => {
  if (skip) return;
  redis = await startRedis();
  // One at a time, so after() stops whatever started if one fails.
  for (let i = 0; i < 3; i++) {
    workers.push(await startDaemon({
      env: { REALTIME_REDIS_URL: redis.url, REALTIME_PRESENCE_TTL_SECONDS: PRESENCE_TTL_S },
    }));
  }
  for (const w of workers) await waitRedisConnected(w);
});

after(async () => {
  for (const s of sockets) s.close();
  for (const w of workers) if (!w.exited) await w.stop();
  if (redis) await redis.cleanup();
});

async function connect(w, claims) {
  const s = client(w, { token: realtimeToken(claims) });
  sockets.push(s);
  return ready(s);
}

// Wait until n workers listen to a room (their SUBSCRIBE reached Redis).
async function roomListeners(room, n) {
  await until(`${n} workers on ${room}`, async () => {
    const [, count] = await redis.command('PUBSUB', 'NUMSUB', `${PREFIX}bus:room:${room}`);
    return count === n;
  });
}

const putChannel = (w, id, body) => http(w, 'PUT', `/api/realtime/channels/${id}`, { body, headers: apiKeyHeader() });
const snapshot = async (s, server) => (await request(s, 'presence_snapshot', { server_id: server })).members;

test('/healthz and /metrics name the form of Redis and the state of each link', { skip }, async () => {
  const topology = process.env.SBR_TEST_REDIS || 'single';
  for (const w of workers) {
    await until(`${w.url} reports every link up`, async () => {
      const h = (await http(w, 'GET', '/healthz')).body;
      return h.bus_nodes.every((n) => n.up) && (topology !== 'sentinel' || h.bus_nodes.length === 2);
    });
    const h = (await http(w, 'GET', '/healthz')).body;
    assert.equal(h.bus, 'connected');
    assert.equal(h.bus_mode, topology);
    assert.equal(h.bus_nodes.filter((n) => n.role === 'master').length, topology === 'cluster' ? 3 : 1);
    assert.equal(h.bus_nodes.filter((n) => n.role === 'sentinel').length, topology === 'sentinel' ? 1 : 0);
    const metrics = (await http(w, 'GET', '/metrics')).body;
    assert.match(metrics, new RegExp(`^superbot_bus_redis_mode\\{mode="${topology}"\\} 1$`, 'm'));
    assert.match(metrics, new RegExp(`^superbot_bus_redis_masters ${topology === 'cluster' ? 3 : 1}$`, 'm'));
    for (const n of h.bus_nodes) {
      assert.match(metrics, new RegExp(`^superbot_bus_redis_link_up\\{node="${n.node.replace(/[.[\]]/g, '\\$&')}",role="${n.role}"\\} 1$`, 'm'));
    }
  }
});

test('a message sent on one worker reaches the sockets of the others exactly once', { skip }, async () => {
  const [a, b, c] = workers;
  assert.equal((await putChannel(a, 'mw1', { server_id: 's1' })).status, 200);
  const sa = await connect(a, { sub: 'm-a', servers: ['s1'] });
  const sb = await connect(b, { sub: 'm-b', servers: ['s1'] });
  const sc = await connect(c, { sub: 'm-c', servers: ['s1'] });
  for (const s of [sa, sb, sc]) assert.equal((await request(s, 'join_channel', { channel_id: 'mw1' })).ok, true);
  await roomListeners('channel:mw1', 3);
  const got = [sa, sb, sc].map((s) => collect(s, 'message'));
  const ack = await request(sa, 'send_message', { channel_id: 'mw1', content: 'hello', nonce: 'n1' });
  assert.equal(ack.ok, true);
  await until('every socket got it', () => got.every((g) => g.length >= 1));
  // A later message on the same path proves nothing else was on the way.
  await request(sb, 'send_message', { channel_id: 'mw1', content: 'second', nonce: 'n2' });
  await until('every socket got both', () => got.every((g) => g.length >= 2));
  for (const g of got) {
    assert.deepEqual(g.map((m) => m.content), ['hello', 'second']);
    assert.equal(g[0].id, ack.id);
    assert.equal(g[0].user_id, 'm-a');
  }
});

test('presence spans workers: online with the first tab anywhere, offline after the last', { skip }, async () => {
  const [a, b, c] = workers;
  const watcher = await connect(a, { sub: 'p-w', servers: ['s2'] });
  await roomListeners('server:s2', 1);
  const updates = collect(watcher, 'presence_update');
  const tab1 = await connect(b, { sub: 'p-u', servers: ['s2'] });
  await until('online', () => updates.length >= 1);
  assert.deepEqual(updates[0], { server_id: 's2', user_id: 'p-u', status: 'online' });
  const tab2 = await connect(c, { sub: 'p-u', servers: ['s2'] });
  const seen = await snapshot(watcher, 's2');
  assert.deepEqual(seen.map((m) => m.user_id).sort(), ['p-u', 'p-w']);
  tab1.close();
  // Still online through the tab on worker c.
  await delay(300);
  assert.deepEqual((await snapshot(watcher, 's2')).map((m) => m.user_id).sort(), ['p-u', 'p-w']);
  assert.equal(updates.length, 1);
  tab2.close();
  await until('offline', () => updates.length >= 2);
  assert.deepEqual(updates[1], { server_id: 's2', user_id: 'p-u', status: 'offline' });
  assert.deepEqual(await snapshot(watcher, 's2'), [{ user_id: 'p-w', status: 'online' }]);
  const api = await http(b, 'GET', '/api/realtime/presence/s2', { headers: apiKeyHeader() });
  assert.deepEqual(api.body.members, [{ user_id: 'p-w', status: 'online' }]);
});

test('typing on one worker shows on another', { skip }, async () => {
  const [a, b] = workers;
  await putChannel(a, 'mw3', { server_id: 's3' });
  const typist = await connect(a, { sub: 't-a', servers: ['s3'] });
  const reader = await connect(b, { sub: 't-b', servers: ['s3'] });
  await request(typist, 'join_channel', { channel_id: 'mw3' });
  await request(reader, 'join_channel', { channel_id: 'mw3' });
  await roomListeners('channel:mw3', 2);
  const start = once(reader, 'typing_start');
  assert.equal((await request(typist, 'typing_start', { channel_id: 'mw3' })).ok, true);
  const ev = await start;
  assert.equal(ev.channel_id, 'mw3');
  assert.equal(ev.user_id, 't-a');
  // A third socket joining on worker b sees who is typing.
  const late = await connect(b, { sub: 't-c', servers: ['s3'] });
  const join = await request(late, 'join_channel', { channel_id: 'mw3' });
  assert.deepEqual(join.typing, ['t-a']);
  const stop = once(reader, 'typing_stop');
  await request(typist, 'typing_stop', { channel_id: 'mw3' });
  assert.equal((await stop).user_id, 't-a');
});

test('a user typing from tabs on two workers types on until the last one ends', { skip }, async () => {
  const [a, b, c] = workers;
  await putChannel(a, 'mw3b', { server_id: 's3' });
  const tabA = await connect(a, { sub: 't-two', servers: ['s3'] });
  const tabB = await connect(b, { sub: 't-two', servers: ['s3'] });
  const reader = await connect(c, { sub: 't-reader', servers: ['s3'] });
  for (const s of [tabA, tabB, reader]) await request(s, 'join_channel', { channel_id: 'mw3b' });
  await roomListeners('channel:mw3b', 3);
  const stops = [];
  reader.on('typing_stop', (e) => stops.push(e));
  await request(tabA, 'typing_start', { channel_id: 'mw3b' });
  // Refreshed on b last: an ack may precede the worker's write to Redis, so
  // b refreshes again once a's write is surely done.
  await request(tabB, 'typing_start', { channel_id: 'mw3b' });
  await delay(200);
  await request(tabB, 'typing_start', { channel_id: 'mw3b' });
  tabA.close();
  await delay(500);
  assert.deepEqual(stops, []);
  const late = await connect(c, { sub: 't-late', servers: ['s3'] });
  assert.deepEqual((await request(late, 'join_channel', { channel_id: 'mw3b' })).typing, ['t-two']);
  await request(tabB, 'typing_stop', { channel_id: 'mw3b' });
  await until('typing_stop', () => stops.length === 1);
  assert.equal(stops[0].user_id, 't-two');
});

test('slow mode holds across workers: two sends at the same instant, one passes', { skip }, async () => {
  const [a, b] = workers;
  await putChannel(a, 'mw4', { server_id: 's4', settings: { slow_mode: 30 } });
  for (let round = 0; round < 3; round++) {
    const user = `sm-${round}`;
    const sa = await connect(a, { sub: user, servers: ['s4'] });
    const sb = await connect(b, { sub: user, servers: ['s4'] });
    const acks = await Promise.all([sa, sb].map((s) =>
      request(s, 'send_message', { channel_id: 'mw4', content: 'race', nonce: user })));
    assert.equal(acks.filter((x) => x.ok).length, 1, JSON.stringify(acks));
    const refused = acks.find((x) => !x.ok);
    assert.equal(refused.error, 'slow_mode');
    assert.ok(refused.retry_after > 29 && refused.retry_after <= 30, JSON.stringify(refused));
  }
  // The server API's reserve shares the same slot.
  const r = await http(b, 'POST', '/api/realtime/channels/mw4/reserve',
    { body: { user_id: 'sm-0' }, headers: apiKeyHeader() });
  assert.equal(r.status, 429);
});

test('revoking a session on one worker disconnects its socket on another', { skip }, async () => {
  const [a, b, c] = workers;
  const victim = await connect(b, { sub: 'r-u', sid: 'sess-mw', servers: [] });
  const bystander = await connect(c, { sub: 'r-v', sid: 'sess-other', servers: [] });
  const gone = once(victim, 'disconnect');
  const r = await http(a, 'POST', '/api/realtime/sessions/sess-mw/revoke', { headers: apiKeyHeader() });
  assert.equal(r.status, 200);
  await gone;
  assert.equal(bystander.connected, true);
  // Its token is refused on every worker from now on.
  const again = client(c, { token: realtimeToken({ sub: 'r-u', sid: 'sess-mw' }) });
  sockets.push(again);
  await assert.rejects(connected(again), /invalid_token/);
});

test('the publish API on one worker reaches the room on the others', { skip }, async () => {
  const [a, b, c] = workers;
  const sb = await connect(b, { sub: 'pub-b', servers: ['s6'] });
  const sc = await connect(c, { sub: 'pub-c', servers: ['s6'] });
  await roomListeners('server:s6', 2);
  const got = [sb, sc].map((s) => collect(s, 'announcement'));
  const r = await http(a, 'POST', '/api/realtime/publish',
    { body: { room: 'server:s6', event: 'announcement', data: { n: 1 } }, headers: apiKeyHeader() });
  assert.equal(r.status, 200);
  await until('both got it', () => got.every((g) => g.length >= 1));
  await http(a, 'POST', '/api/realtime/publish',
    { body: { room: 'server:s6', event: 'announcement', data: { n: 2 } }, headers: apiKeyHeader() });
  await until('both got the second', () => got.every((g) => g.length >= 2));
  for (const g of got) assert.deepEqual(g, [{ n: 1 }, { n: 2 }]);
});

test('a SIGKILLed worker leaves no ghost presence after the TTL', { skip }, async () => {
  const [a, , c] = workers;
  const watcher = await connect(a, { sub: 'g-w', servers: ['s7'] });
  await connect(c, { sub: 'g-u', servers: ['s7'] });
  // Polled through the server API: a socket polling this fast would hit the
  // inbound rate limit.
  const online = async () =>
    (await http(a, 'GET', '/api/realtime/presence/s7', { headers: apiKeyHeader() })).body.members.map((m) => m.user_id);
  await until('ghost-to-be online', async () => (await online()).includes('g-u'));
  const killedAt = Date.now();
  await c.stop('SIGKILL');
  await until('the entry expired', async () => !(await online()).includes('g-u'), (PRESENCE_TTL_S + 3) * 1000);
  assert.ok(Date.now() - killedAt <= (PRESENCE_TTL_S + 3) * 1000);
  assert.deepEqual(await snapshot(watcher, 's7'), [{ user_id: 'g-w', status: 'online' }]);
});
