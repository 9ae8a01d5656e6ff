// Channels: the registry (PUT), join_channel / leave_channel, send_message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, once, request, collect, ready } from './lib/client.mjs';

let d;
const sockets = [];
before(async () => { d = await startDaemon(); });
after(async () => { for (const s of sockets) s.close(); await d.stop(); });

async function connect(claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return ready(s);
}

const putChannel = (id, body, headers = apiKeyHeader()) =>
  http(d, 'PUT', `/api/realtime/channels/${id}`, { body, headers });

test('PUT registers a channel, behind the api key, with validation', async () => {
  assert.equal((await putChannel('c1', { server_id: '7' }, {})).status, 401);
  assert.deepEqual((await putChannel('c1', { server_id: '7' }, { authorization: 'Bearer nope' })).body,
    { error: 'unauthorized' });
  const noServer = await putChannel('c1', { settings: { slow_mode: 5 } });
  assert.equal(noServer.status, 400);
  assert.equal(noServer.body.error, 'invalid_body');
  for (const slow of [-1, 21601, '5', 1.5]) {
    const r = await putChannel('c1', { server_id: '7', settings: { slow_mode: slow } });
    assert.equal(r.status, 400, `slow_mode ${slow}`);
  }
  const bad = await http(d, 'PUT', '/api/realtime/channels/c1', { raw: '{nope', headers: apiKeyHeader() });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_json');
  const ok = await putChannel('c1', { server_id: '7', settings: { slow_mode: 21600 } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { ok: true, channel_id: 'c1', server_id: '7', slow_mode: 21600 });
  const update = await putChannel('c1', { settings: { slow_mode: 0 } });
  assert.deepEqual(update.body, { ok: true, channel_id: 'c1', server_id: '7', slow_mode: 0 });
});

test('join_channel checks the channel and the membership; PUT changes what it returns', async () => {
  await putChannel('c2', { server_id: '7', settings: { slow_mode: 10 } });
  const member = await connect({ sub: 'j1', servers: ['7'] });
  const stranger = await connect({ sub: 'j2', servers: ['8'] });
  assert.deepEqual(await request(member, 'join_channel', { channel_id: 'nope' }), { ok: false, error: 'unknown_channel' });
  assert.deepEqual(await request(stranger, 'join_channel', { channel_id: 'c2' }), { ok: false, error: 'forbidden' });
  const ack = await request(member, 'join_channel', { channel_id: 'c2' });
  assert.equal(ack.ok, true);
  assert.equal(ack.channel_id, 'c2');
  assert.equal(ack.slow_mode, 10);
  assert.deepEqual(ack.typing, []);
  await putChannel('c2', { settings: { slow_mode: 3 } });
  assert.equal((await request(member, 'join_channel', { channel_id: 'c2' })).slow_mode, 3);
  // Moving the channel to another server moves the right to join it.
  await putChannel('c2', { server_id: '8' });
  assert.equal((await request(stranger, 'join_channel', { channel_id: 'c2' })).ok, true);
  assert.deepEqual(await request(member, 'join_channel', { channel_id: 'c2' }), { ok: false, error: 'forbidden' });
});

test('send_message reaches everyone who joined, the sender too, with ids and ts', async () => {
  await putChannel('c3', { server_id: '7' });
  const a = await connect({ sub: 'm1', servers: ['7'] });
  const b = await connect({ sub: 'm2', servers: ['7'] });
  const outside = await connect({ sub: 'm3', servers: ['7'] });
  for (const s of [a, b]) assert.equal((await request(s, 'join_channel', { channel_id: 'c3' })).ok, true);
  const gotA = collect(a, 'message');
  const gotOutside = collect(outside, 'message');
  const atB = once(b, 'message');
  const before = Date.now();
  const ack = await request(a, 'send_message', { channel_id: 'c3', content: 'hello', nonce: 'n-1' });
  assert.equal(ack.ok, true);
  assert.match(ack.id, /^[0-9]+$/);
  const msg = await atB;
  assert.equal(msg.id, ack.id);
  assert.equal(msg.channel_id, 'c3');
  assert.equal(msg.user_id, 'm1');
  assert.equal(msg.content, 'hello');
  assert.equal(msg.nonce, 'n-1');
  assert.ok(Math.abs(msg.ts - before) < 5000, `ts ${msg.ts} near ${before}`);
  const ack2 = await request(a, 'send_message', { channel_id: 'c3', content: 'again', nonce: 2 });
  assert.ok(BigInt(ack2.id) > BigInt(ack.id), 'ids grow');
  const ack3 = await request(b, 'send_message', { channel_id: 'c3', content: 'from b' });
  assert.equal(ack3.nonce ?? null, null);
  // The sender's own copies arrived before its acks resolved the next emit.
  await request(a, 'leave_channel', { channel_id: 'c3' });
  assert.deepEqual(gotA.map((m) => m.content), ['hello', 'again', 'from b']);
  assert.equal(gotOutside.length, 0);
  await request(b, 'send_message', { channel_id: 'c3', content: 'after leave' });
  await request(a, 'presence_snapshot', { server_id: '7' }); // a round trip
  assert.equal(gotA.length, 3);
});

test('bad payloads get error acks, never a crash', async () => {
  await putChannel('c4', { server_id: '7' });
  const s = await connect({ sub: 'e1', servers: ['7'] });
  const stranger = await connect({ sub: 'e2', servers: ['9'] });
  for (const ev of ['join_channel', 'leave_channel', 'send_message']) {
    for (const payload of [undefined, null, 5, 'c4', [], {}, { channel_id: {} }, { channel_id: '' }, { channel_id: 'a b' }]) {
      const ack = await request(s, ev, payload);
      assert.deepEqual(ack, { ok: false, error: 'invalid_payload' }, `${ev} ${JSON.stringify(payload)}`);
    }
  }
  const bad = [
    { channel_id: 'c4' },
    { channel_id: 'c4', content: '' },
    { channel_id: 'c4', content: 42 },
    { channel_id: 'c4', content: 'x'.repeat(4001) },
    { channel_id: 'c4', content: 'ok', nonce: { a: 1 } },
  ];
  for (const payload of bad) {
    assert.deepEqual(await request(s, 'send_message', payload), { ok: false, error: 'invalid_payload' });
  }
  assert.equal((await request(s, 'send_message', { channel_id: 'c4', content: 'x'.repeat(4000) })).ok, true);
  assert.deepEqual(await request(s, 'send_message', { channel_id: 'zz', content: 'x' }), { ok: false, error: 'unknown_channel' });
  assert.deepEqual(await request(stranger, 'send_message', { channel_id: 'c4', content: 'x' }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await request(s, 'no_such_event', {}), { ok: false, error: 'unknown_event' });
});
