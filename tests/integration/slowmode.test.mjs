// Slow mode: per-user cooldown per channel over the socket and the server API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, request } from './lib/client.mjs';

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

const putChannel = (id, body) => http(d, 'PUT', `/api/realtime/channels/${id}`, { body, headers: apiKeyHeader() });
const reserve = (id, body, headers = apiKeyHeader()) =>
  http(d, 'POST', `/api/realtime/channels/${id}/reserve`, { body, headers });
const send = (s, channel, content = 'hi') => request(s, 'send_message', { channel_id: channel, content });

test('a second message inside the cooldown gets slow_mode with the exact wait', async () => {
  await putChannel('s1', { server_id: '7', settings: { slow_mode: 2 } });
  const s = await connect({ sub: 'sm1', servers: ['7'] });
  const first = await send(s, 's1');
  const t0 = Date.now();
  assert.equal(first.ok, true);
  await delay(300);
  const t1 = Date.now();
  const refused = await send(s, 's1');
  assert.equal(refused.ok, false);
  assert.equal(refused.error, 'slow_mode');
  assert.equal(refused.status, 429);
  assert.equal(typeof refused.retry_after, 'number');
  const truth = 2 - (t1 - t0) / 1000;
  assert.ok(Math.abs(refused.retry_after - truth) <= 0.2, `retry_after ${refused.retry_after}, truth ${truth}`);
  assert.equal(Math.round(refused.retry_after * 1000), refused.retry_after * 1000, 'millisecond precision');
  // Another user has a slot of their own.
  const other = await connect({ sub: 'sm2', servers: ['7'] });
  assert.equal((await send(other, 's1')).ok, true);
  await delay(Math.ceil(refused.retry_after * 1000) + 50);
  assert.equal((await send(s, 's1')).ok, true);
});

test('moderators of the channel server are exempt; slow_mode 0 is off', async () => {
  await putChannel('s2', { server_id: '7', settings: { slow_mode: 60 } });
  const mod = await connect({ sub: 'sm3', servers: ['7'], moderates: ['7'] });
  for (let i = 0; i < 3; i++) assert.equal((await send(mod, 's2')).ok, true);
  const modElsewhere = await connect({ sub: 'sm4', servers: ['7'], moderates: ['8'] });
  assert.equal((await send(modElsewhere, 's2')).ok, true);
  assert.equal((await send(modElsewhere, 's2')).error, 'slow_mode');
  await putChannel('s3', { server_id: '7', settings: { slow_mode: 0 } });
  for (let i = 0; i < 3; i++) assert.equal((await send(modElsewhere, 's3')).ok, true);
});

test('a change of slow_mode applies to the next reservation', async () => {
  await putChannel('s4', { server_id: '7', settings: { slow_mode: 1 } });
  const s = await connect({ sub: 'sm5', servers: ['7'] });
  assert.equal((await send(s, 's4')).ok, true);
  await putChannel('s4', { settings: { slow_mode: 30 } });
  const r = await send(s, 's4');
  assert.ok(r.retry_after <= 1, `still the old reservation: ${r.retry_after}`);
  await delay(Math.ceil(r.retry_after * 1000) + 50);
  assert.equal((await send(s, 's4')).ok, true);
  const next = await send(s, 's4');
  assert.ok(next.retry_after > 29 && next.retry_after <= 30, `new cooldown: ${next.retry_after}`);
});

test('two simultaneous sends of one user: exactly one passes', async () => {
  await putChannel('s5', { server_id: '7', settings: { slow_mode: 30 } });
  const tab1 = await connect({ sub: 'sm6', servers: ['7'] });
  const tab2 = await connect({ sub: 'sm6', servers: ['7'] });
  const acks = await Promise.all([send(tab1, 's5'), send(tab2, 's5'), send(tab1, 's5'), send(tab2, 's5')]);
  assert.equal(acks.filter((a) => a.ok).length, 1);
  assert.equal(acks.filter((a) => a.error === 'slow_mode').length, 3);
});

test('the reserve API shares the slot and answers 429 with Retry-After', async () => {
  await putChannel('s6', { server_id: '7', settings: { slow_mode: 5 } });
  assert.equal((await reserve('s6', { user_id: 'sm7' }, {})).status, 401);
  const ok = await reserve('s6', { user_id: 'sm7' });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { ok: true });
  const t0 = Date.now();
  await delay(250);
  const t1 = Date.now();
  const busy = await reserve('s6', { user_id: 'sm7' });
  assert.equal(busy.status, 429);
  assert.equal(busy.body.error, 'slow_mode');
  const truth = 5 - (t1 - t0) / 1000;
  assert.ok(Math.abs(busy.body.retry_after - truth) <= 0.2, `retry_after ${busy.body.retry_after}, truth ${truth}`);
  assert.equal(busy.headers.get('retry-after'), String(Math.ceil(busy.body.retry_after)));
  const s = await connect({ sub: 'sm7', servers: ['7'] });
  assert.equal((await send(s, 's6')).error, 'slow_mode');
  const unknown = await reserve('nope', { user_id: 'sm7' });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { error: 'unknown_channel' });
  for (const body of [{}, { user_id: [] }, { user_id: '' }]) assert.equal((await reserve('s6', body)).status, 400);
  await putChannel('s7', { server_id: '7' });
  assert.equal((await reserve('s7', { user_id: 'sm7' })).status, 200);
  assert.equal((await reserve('s7', { user_id: 'sm7' })).status, 200);
});
