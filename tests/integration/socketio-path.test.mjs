// The Socket.IO `path` option (core key `path`, REALTIME_SOCKETIO_PATH):
// the stock client with io(url, { path }) on one worker and on two workers
// behind a round-robin balancer (relaying follows the path), the default
// path gone from a worker that moved it, and a bad value refused with
// file:line by --check-config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, http, apiKeyHeader, until, waitRedisConnected, BINARY, SOURCE_DIR, TEST_ENV, stopAll } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, once, request } from './lib/client.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { roundRobin } from './lib/balancer.mjs';

const CUSTOM = '/chat/io/';
const skipRedis = redisMissing();
let redis;

before(async () => {
  if (!skipRedis) redis = await startRedis();
});

after(async () => {
  if (redis) await redis.cleanup();
});

const token = (sub) => realtimeToken({ sub, servers: ['srv-path'] });

// A user who joins the channel and sends one message; resolves with its ack.
async function chat(url, user, transports) {
  const s = client({ url }, { token: token(user), path: CUSTOM, ...(transports ? { transports } : {}) });
  const ready = once(s, 'ready');
  await connected(s);
  assert.equal((await ready).user_id, user);
  const join = await request(s, 'join_channel', { channel_id: 'path-1' });
  assert.equal(join.ok, true, JSON.stringify(join));
  return s;
}

test('one worker serves Socket.IO at its path only', async () => {
  const d = await startDaemon({ env: { REALTIME_SOCKETIO_PATH: CUSTOM } });
  const sockets = [];
  try {
    const put = await http(d, 'PUT', '/api/realtime/channels/path-1', { body: { server_id: 'srv-path' }, headers: apiKeyHeader() });
    assert.equal(put.status, 200);
    sockets.push(await chat(d.url, 'p1'), await chat(d.url, 'p2', ['polling']), await chat(d.url, 'p3', ['websocket']));
    const got = sockets.map((s) => once(s, 'message'));
    const ack = await request(sockets[1], 'send_message', { channel_id: 'path-1', content: 'hi', nonce: 'n' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    for (const m of await Promise.all(got)) assert.equal(m.content, 'hi');
    // The default path is an ordinary unknown route now.
    const old = await http(d, 'GET', '/socket.io/?EIO=4&transport=polling');
    assert.equal(old.status, 404);
    assert.deepEqual(old.body, { error: 'not_found' });
    // A plugin route can never hide under the path; the path itself speaks Engine.IO.
    const eio = await fetch(`${d.url}${CUSTOM}?EIO=3&transport=polling`);
    assert.equal(eio.status, 400);
    assert.deepEqual(await eio.json(), { code: 5, message: 'Unsupported protocol version' });
  } finally {
    for (const s of sockets) s.close();
    assert.equal((await d.stop()).code, 0, d.log);
  }
});

test('the default path still serves the stock client', async () => {
  const d = await startDaemon();
  try {
    const s = client(d, { token: token('def') });
    await connected(s);
    s.close();
    const moved = await fetch(`${d.url}${CUSTOM}?EIO=4&transport=polling`);
    assert.equal(moved.status, 404);
  } finally {
    assert.equal((await d.stop()).code, 0, d.log);
  }
});

test('two workers relay at the custom path', { skip: skipRedis, timeout: 40000 }, async () => {
  await redis.command('FLUSHALL');
  const env = { REALTIME_SOCKETIO_PATH: CUSTOM, REALTIME_REDIS_URL: redis.url, REALTIME_LOG_LEVEL: 'warn' };
  const workers = [await startDaemon({ env }), await startDaemon({ env })];
  // Three turns for two workers, so that no client's requests fall into
  // step with the workers: some polls and some upgrades reach the other one.
  const balancer = await roundRobin([workers[0].port, workers[1].port, workers[1].port]);
  const sockets = [];
  try {
    for (const w of workers) await waitRedisConnected(w);
    await until('workers registered', async () => (await redis.command('KEYS', '*eio:worker:*')).length === 2, 10000);
    const put = await http(workers[0], 'PUT', '/api/realtime/channels/path-1',
      { body: { server_id: 'srv-path' }, headers: apiKeyHeader() });
    assert.equal(put.status, 200);
    for (let i = 0; i < 6; i++) sockets.push(await chat(balancer.url, `w${i}`, i % 2 ? ['polling'] : undefined));
    const seen = sockets.map(() => []);
    sockets.forEach((s, i) => s.on('message', (m) => seen[i].push(m.content)));
    for (const s of sockets) {
      const ack = await request(s, 'send_message', { channel_id: 'path-1', content: s.id, nonce: 'n' }, 10000);
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    await until('every message everywhere', () => seen.every((list) => list.length === sockets.length), 15000);
    await until('default clients upgraded', () =>
      sockets.every((s, i) => s.io.engine.transport.name === (i % 2 ? 'polling' : 'websocket')), 15000);
    let polls = 0, upgrades = 0;
    for (const w of workers) {
      const text = await (await fetch(`${w.url}/metrics`)).text();
      polls += Number(/^superbot_eio_forwarded_polls_total (\d+)$/m.exec(text)[1]);
      upgrades += Number(/^superbot_eio_forwarded_upgrades_total (\d+)$/m.exec(text)[1]);
    }
    assert.ok(polls > 0 && upgrades > 0, `relayed polls ${polls}, upgrades ${upgrades}`);
    for (const w of workers) assert.doesNotMatch(w.log, /Session ID unknown/);
  } finally {
    for (const s of sockets) s.close();
    await balancer.close();
    for (const [w, res] of await stopAll(workers)) assert.equal(res.code, 0, w.log);
  }
});

test('a bad path is refused with file:line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-path-'));
  try {
    fs.cpSync(path.join(SOURCE_DIR, 'conf.d'), path.join(dir, 'conf.d'), { recursive: true });
    const run = (value) => spawnSync(BINARY, ['--check-config', '-c', 'conf.d'], {
      cwd: dir, encoding: 'utf8', timeout: 10000, env: { ...process.env, ...TEST_ENV, REALTIME_SOCKETIO_PATH: value },
    });
    assert.equal(run('/rt/').status, 0);
    const line = fs.readFileSync(path.join(dir, 'conf.d', '10-core.conf'), 'utf8').split('\n')
      .findIndex((l) => l.startsWith('path =')) + 1;
    for (const bad of ['socket.io', '/socket.io', '/', '/a b/', '/../']) {
      const r = run(bad);
      assert.equal(r.status, 1, bad);
      assert.match(r.stderr, new RegExp(`^conf\\.d/10-core\\.conf:${line}: key 'path': `, 'm'), r.stderr);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
