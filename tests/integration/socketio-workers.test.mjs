// Two workers on one Redis: long-polling needs no sticky sessions (a request
// for a session of the other worker is relayed to that worker), and a
// room broadcast reaches the members on the other worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startDaemon, BUILD_DIR, SOURCE_DIR, until, waitRedisConnected, stopAll } from './lib/daemon.mjs';
import { connected, once } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';

const skip = redisMissing();
const FIXTURES = path.join(BUILD_DIR, 'tests', 'fixtures');
const PREFIX = 'superbot-realtime:';
let redis;
const workers = [];

before(async () => {
  if (skip) return;
  redis = await startRedis();
  for (let i = 0; i < 2; i++) {
    workers.push(await startDaemon({
      confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'),
      env: { REALTIME_REDIS_URL: redis.url, REALTIME_LOG_LEVEL: 'info' },
      files: {
        '15-bus-redis.conf': `plugin = bus-redis\nurl = \${REALTIME_REDIS_URL}\nkey_prefix = ${PREFIX}\n`,
        '30-sio-rooms.conf': `plugin = sio-rooms\npath = ${FIXTURES}/sio-rooms.so\n`,
      },
    }));
  }
  for (const w of workers) {
    await waitRedisConnected(w);
  }
  // Both have advertised where the other one relays requests to.
  await until('worker addresses advertised', async () =>
    (await redis.command('KEYS', `${PREFIX}*eio:worker:*`)).length === 2);
});

after(async () => {
  try {
    for (const [w, res] of await stopAll(workers)) assert.equal(res.code, 0, w.log);
  } finally {
    if (redis) await redis.cleanup();
  }
});

const poll = (w, sid) => fetch(`${w.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
const push = (w, sid, body) => fetch(`${w.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body });

test('long-polling requests for a session land on either worker', { skip }, async () => {
  const [a, b] = workers;
  const open = await (await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`)).text();
  const sid = JSON.parse(open.slice(1)).sid;
  // CONNECT and an event with an ack, posted to the other worker.
  let r = await push(b, sid, '40\x1e427["message-with-ack","via-b"]');
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok');
  const got = [];
  for (let i = 0; i < 6 && !got.includes('437["via-b"]'); i++) {
    r = await poll(i % 2 ? a : b, sid);
    assert.equal(r.status, 200);
    got.push(...(await r.text()).split('\x1e'));
  }
  assert.match(got[0], /^40\{"sid":"/);
  assert.ok(got.includes('42["auth",{}]'), got.join(' | '));
  assert.ok(got.includes('437["via-b"]'), got.join(' | '));
  // Close through the other worker; then the session is unknown on both.
  r = await push(b, sid, '1');
  await r.text();
  await until('session closed', async () => {
    const x = await poll(b, sid);
    await x.text();
    return x.status === 400;
  });
  r = await poll(a, sid);
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { code: 1, message: 'Session ID unknown' });
});

test('a sid of a worker that does not answer gets 400 after the heartbeat timeout', { skip }, async () => {
  const r = await poll(workers[0], 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  // Either no worker has that id (owner unreachable: answered after a
  // timeout) or it is ours: either way 400, and the server stays up.
  assert.equal(r.status, 400);
  await r.text();
});

test('a room broadcast on one worker reaches members on the other', { skip }, async () => {
  const [a, b] = workers;
  const sa = io(a.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
  const sb = io(b.url, { forceNew: true, reconnection: false, transports: ['polling'] });
  await Promise.all([connected(sa), connected(sb)]);
  await sa.timeout(3000).emitWithAck('join', { room: 'x-room' });
  await sb.timeout(3000).emitWithAck('join', { room: 'x-room' });
  await until('both workers on the room', async () => {
    const [, n] = await redis.command('PUBSUB', 'NUMSUB', `${PREFIX}bus:room:x-room`);
    return n === 2;
  });
  const atA = once(sa, 'news');
  const atB = once(sb, 'news');
  await sb.timeout(3000).emitWithAck('broadcast', { room: 'x-room', event: 'news', data: { from: 'b' } });
  assert.deepEqual(await atA, { from: 'b' });
  assert.deepEqual(await atB, { from: 'b' });
  sa.close();
  sb.close();
});
