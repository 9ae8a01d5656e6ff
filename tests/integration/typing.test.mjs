// Typing indicators: broadcast to the others, refresh, expiry, and the ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, once, request, collect, ready } from './lib/client.mjs';

let d;
const sockets = [];
before(async () => { d = await startDaemon({ env: { REALTIME_TYPING_TTL_SECONDS: 1 } }); });
after(async () => { for (const s of sockets) s.close(); await d.stop(); });

async function connect(claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return ready(s);
}

// A channel with two users in it and one member outside.
async function room(id) {
  assert.equal((await http(d, 'PUT', `/api/realtime/channels/${id}`,
    { body: { server_id: '7' }, headers: apiKeyHeader() })).status, 200);
  const a = await connect({ sub: `${id}-a`, servers: ['7'] });
  const b = await connect({ sub: `${id}-b`, servers: ['7'] });
  const c = await connect({ sub: `${id}-c`, servers: ['7'] });
  for (const s of [a, b]) assert.equal((await request(s, 'join_channel', { channel_id: id })).ok, true);
  return { a, b, c, ch: { channel_id: id } };
}

test('typing_start reaches the others in the channel, not the sender', async () => {
  const { a, b, c, ch } = await room('t1');
  assert.deepEqual(await request(c, 'typing_start', ch), { ok: false, error: 'forbidden' });
  assert.deepEqual(await request(a, 'typing_start', {}), { ok: false, error: 'invalid_payload' });
  const atA = collect(a, 'typing_start');
  const atC = collect(c, 'typing_start');
  const atB = once(b, 'typing_start');
  const ack = await request(a, 'typing_start', ch);
  assert.equal(ack.ok, true);
  assert.equal(ack.expires_in, 1);
  assert.deepEqual(await atB, { channel_id: 't1', user_id: 't1-a', expires_in: 1 });
  // Who types now shows in a join.
  assert.deepEqual((await request(c, 'join_channel', ch)).typing, ['t1-a']);
  assert.equal(atA.length, 0);
  assert.equal(atC.length, 0);
});

test('without a refresh, typing ends by itself after the TTL', async () => {
  const { a, b, ch } = await room('t2');
  const starts = collect(b, 'typing_start');
  await request(a, 'typing_start', ch);
  const t0 = Date.now();
  await request(a, 'typing_start', ch); // a repeat refreshes without a new broadcast
  const stop = await once(b, 'typing_stop', 4000);
  const elapsed = Date.now() - t0;
  assert.deepEqual(stop, { channel_id: 't2', user_id: 't2-a' });
  assert.ok(elapsed >= 800 && elapsed < 2500, `ended after ${elapsed} ms`);
  assert.equal(starts.length, 1);
  assert.deepEqual((await request(b, 'join_channel', ch)).typing, []);
});

test('typing_stop ends it at once', async () => {
  const { a, b, ch } = await room('t3');
  await request(a, 'typing_start', ch);
  const stop = once(b, 'typing_stop');
  assert.equal((await request(a, 'typing_stop', ch)).ok, true);
  assert.deepEqual(await stop, { channel_id: 't3', user_id: 't3-a' });
});

test('a sent message ends the sender typing, before the message', async () => {
  const { a, b, ch } = await room('t4');
  await request(a, 'typing_start', ch);
  const order = [];
  b.on('typing_stop', () => order.push('typing_stop'));
  const msg = once(b, 'message');
  b.on('message', () => order.push('message'));
  assert.equal((await request(a, 'send_message', { ...ch, content: 'done' })).ok, true);
  await msg;
  assert.deepEqual(order, ['typing_stop', 'message']);
});

test('a disconnect ends the typing of that connection', async () => {
  const { a, b, ch } = await room('t5');
  await request(a, 'typing_start', ch);
  const stop = once(b, 'typing_stop');
  a.close();
  assert.deepEqual(await stop, { channel_id: 't5', user_id: 't5-a' });
});
