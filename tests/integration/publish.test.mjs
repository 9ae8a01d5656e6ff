// POST /api/realtime/publish: any event to exactly one room.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, request, collect } from './lib/client.mjs';

let d;
const sockets = [];
before(async () => { d = await startDaemon(); });
after(async () => { for (const s of sockets) s.close(); await d.stop(); });

async function connect(claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  await connected(s);
  return s;
}

const publish = (body, headers = apiKeyHeader()) => http(d, 'POST', '/api/realtime/publish', { body, headers });

test('publish reaches exactly the room', async () => {
  assert.equal((await http(d, 'PUT', '/api/realtime/channels/p1',
    { body: { server_id: '7' }, headers: apiKeyHeader() })).status, 200);
  const inRoom = await connect({ sub: 'p1', servers: ['7'] });
  const sameServer = await connect({ sub: 'p2', servers: ['7'] });
  const other = await connect({ sub: 'p3', servers: ['8'] });
  await request(inRoom, 'join_channel', { channel_id: 'p1' });
  const got = [inRoom, sameServer, other].map((s) => collect(s, 'message_created'));
  const r = await publish({ room: 'channel:p1', event: 'message_created', data: { id: 'x1', text: 'hi' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { ok: true });
  const r2 = await publish({ room: 'server:7', event: 'message_created', data: { id: 'x2' } });
  assert.equal(r2.status, 200);
  const r3 = await publish({ room: 'user:p3', event: 'message_created', data: { id: 'x3' } });
  assert.equal(r3.status, 200);
  // Round trips on each socket: what was published before has arrived.
  for (const s of [inRoom, sameServer, other]) await request(s, 'presence_snapshot', { server_id: '7' });
  assert.deepEqual(got[0].map((m) => m.id), ['x1', 'x2']);
  assert.deepEqual(got[0][0], { id: 'x1', text: 'hi' });
  assert.deepEqual(got[1].map((m) => m.id), ['x2']);
  assert.deepEqual(got[2].map((m) => m.id), ['x3']);
});

test('publish needs the api key and a valid body', async () => {
  assert.equal((await publish({ room: 'server:7', event: 'x' }, {})).status, 401);
  assert.equal((await publish({ room: 'server:7', event: 'x' }, { authorization: 'Bearer wrong' })).status, 401);
  for (const body of [{}, { room: 'server:7' }, { event: 'x' }, { room: '', event: 'x' }, { room: 'r', event: 5 },
    { room: 'r', event: '' }, { room: 'r', event: 'connect' }, [1], 'text']) {
    const r = await publish(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(typeof r.body.error, 'string');
  }
  const raw = await http(d, 'POST', '/api/realtime/publish', { raw: '{"room":', headers: apiKeyHeader() });
  assert.equal(raw.status, 400);
  assert.equal(raw.body.error, 'invalid_json');
  // Data is optional: the event then carries no argument.
  assert.equal((await publish({ room: 'nobody-here', event: 'ping_all' })).status, 200);
});
