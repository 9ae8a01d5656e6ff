// Presence: online with the first connection, offline with the last,
// statuses, snapshots over the socket and the server API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, once, request, collect, ready } from './lib/client.mjs';

let d;
const sockets = [];
before(async () => { d = await startDaemon(); });
after(async () => { for (const s of sockets) s.close(); await d.stop(); });

function open(claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return s;
}
async function connect(claims) { return ready(open(claims)); }

// Poll until the daemon holds `n` connections (a closed socket is processed).
async function connectionsReach(n) {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await http(d, 'GET', '/healthz');
    if (r.body.connections === n) return;
    if (Date.now() > end) throw new Error(`connections stayed ${r.body.connections}, wanted ${n}`);
    await delay(20);
  }
}

const members = async (s, server) => (await request(s, 'presence_snapshot', { server_id: server })).members;

test('first connection: one online to the servers', async () => {
  const watcher = await connect({ sub: 'pw1', servers: ['p1'] });
  const other = await connect({ sub: 'pw1b', servers: ['p2'] });
  const updates = collect(watcher, 'presence_update');
  const otherUpdates = collect(other, 'presence_update');
  await connect({ sub: 'pu1', servers: ['p1', 'p2'] });
  for (const s of [watcher, other]) await members(s, 'p1'); // round trips
  assert.deepEqual(updates, [{ server_id: 'p1', user_id: 'pu1', status: 'online' }]);
  assert.deepEqual(otherUpdates, [{ server_id: 'p2', user_id: 'pu1', status: 'online' }]);
});

test('two tabs: one offline, only after the second closes', async () => {
  const watcher = await connect({ sub: 'pw2', servers: ['p3'] });
  const updates = collect(watcher, 'presence_update');
  const base = (await http(d, 'GET', '/healthz')).body.connections;
  const tab1 = await connect({ sub: 'pu2', servers: ['p3'] });
  const tab2 = await connect({ sub: 'pu2', servers: ['p3'] });
  await members(watcher, 'p3');
  assert.deepEqual(updates.map((u) => u.status), ['online']);
  tab1.close();
  await connectionsReach(base + 1);
  assert.deepEqual((await members(watcher, 'p3')).map((m) => m.user_id).sort(), ['pu2', 'pw2']);
  assert.deepEqual(updates.map((u) => u.status), ['online']);
  const offline = once(watcher, 'presence_update');
  tab2.close();
  assert.deepEqual(await offline, { server_id: 'p3', user_id: 'pu2', status: 'offline' });
  await connectionsReach(base);
  assert.deepEqual(await members(watcher, 'p3'), [{ user_id: 'pw2', status: 'online' }]);
  assert.equal(updates.length, 2);
});

test('presence_set: statuses, invisible shows offline and leaves snapshots', async () => {
  const watcher = await connect({ sub: 'pw3', servers: ['p4'] });
  const s = await connect({ sub: 'pu3', servers: ['p4'] });
  await members(watcher, 'p4');
  const updates = collect(watcher, 'presence_update');
  assert.deepEqual(await request(s, 'presence_set', { status: 'idle' }), { ok: true, status: 'idle' });
  assert.deepEqual(await request(s, 'presence_set', { status: 'dnd' }), { ok: true, status: 'dnd' });
  const find = async () => (await members(watcher, 'p4')).find((m) => m.user_id === 'pu3');
  assert.deepEqual(await find(), { user_id: 'pu3', status: 'dnd' });
  assert.deepEqual(await request(s, 'presence_set', { status: 'invisible' }), { ok: true, status: 'invisible' });
  assert.equal(await find(), undefined);
  const api = await http(d, 'GET', '/api/realtime/presence/p4', { headers: apiKeyHeader() });
  assert.deepEqual(api.body, { server_id: 'p4', members: [{ user_id: 'pw3', status: 'online' }] });
  assert.deepEqual(await request(s, 'presence_set', { status: 'online' }), { ok: true, status: 'online' });
  await members(watcher, 'p4');
  assert.deepEqual(updates.map((u) => u.status), ['idle', 'dnd', 'offline', 'online']);
  for (const u of updates) assert.deepEqual(Object.keys(u).sort(), ['server_id', 'status', 'user_id']);
  for (const status of ['away', 'offline', '', 5]) {
    const ack = await request(s, 'presence_set', { status });
    assert.equal(ack.ok, false);
    assert.match(ack.error, /^invalid_(status|payload)$/);
  }
  assert.deepEqual(await request(s, 'presence_set', { status: 'busy' }), { ok: false, error: 'invalid_status' });
});

test('presence_snapshot and the server API: members only, api key', async () => {
  const s = await connect({ sub: 'pu4', servers: ['p5'] });
  const snap = await request(s, 'presence_snapshot', { server_id: 'p5' });
  assert.deepEqual(snap, { ok: true, server_id: 'p5', members: [{ user_id: 'pu4', status: 'online' }] });
  assert.deepEqual(await request(s, 'presence_snapshot', { server_id: 'p6' }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await request(s, 'presence_snapshot', {}), { ok: false, error: 'invalid_payload' });
  assert.deepEqual(await request(s, 'presence_snapshot', 'p5'), { ok: false, error: 'invalid_payload' });
  assert.equal((await http(d, 'GET', '/api/realtime/presence/p5')).status, 401);
  const r = await http(d, 'GET', '/api/realtime/presence/p5', { headers: apiKeyHeader() });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { server_id: 'p5', members: [{ user_id: 'pu4', status: 'online' }] });
  const empty = await http(d, 'GET', '/api/realtime/presence/nobody', { headers: apiKeyHeader() });
  assert.deepEqual(empty.body, { server_id: 'nobody', members: [] });
});

test('a fresh connection gets its own online presence_update before ready', async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const user = `pu5-${transports[0]}`;
    const s = client(d, { token: realtimeToken({ sub: user, servers: ['p7', 'p8'] }), transports });
    sockets.push(s);
    // Listening from the start: events the server sent before its CONNECT
    // answer are replayed by the client when it connects.
    const seen = [];
    s.onAny((event, arg) => seen.push([event, arg]));
    const ready = once(s, 'ready');
    await connected(s);
    await ready;
    assert.deepEqual(seen, [
      ['presence_update', { server_id: 'p7', user_id: user, status: 'online' }],
      ['presence_update', { server_id: 'p8', user_id: user, status: 'online' }],
      ['ready', { user_id: user, servers: ['p7', 'p8'], session_id: null }],
    ]);
  }
});
