// A worker that dies leaves no ghosts: its users leave the presence maps
// within the presence TTL, and the members of their servers get one
// `offline` each from a live worker, except for a user who reconnected
// elsewhere meanwhile; the live worker keeps its own users online.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, waitRedisConnected } from './lib/daemon.mjs';
import { startRedis } from './lib/redis.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, ready } from './lib/client.mjs';

const TTL_SECONDS = 2;
let redis;
let doomed;
let survivor;
const sockets = [];

before(async () => {
  redis = await startRedis();
  const env = { REALTIME_REDIS_URL: redis.url, REALTIME_PRESENCE_TTL_SECONDS: TTL_SECONDS };
  doomed = await startDaemon({ env });
  survivor = await startDaemon({ env });
  await waitRedisConnected(doomed);
  await waitRedisConnected(survivor);
});

after(async () => {
  for (const s of sockets) s.close();
  await doomed?.stop();
  await survivor?.stop();
  await redis?.cleanup();
});

async function connect(d, claims) {
  const s = client(d, { token: realtimeToken(claims) });
  sockets.push(s);
  return ready(s);
}

const membersOf = async (server) =>
  (await http(survivor, 'GET', `/api/realtime/presence/${server}`, { headers: apiKeyHeader() })).body.members
    .map((m) => m.user_id).sort();

test('the users of a killed worker vanish within the TTL', async () => {
  await connect(doomed, { sub: 'ghost', servers: ['g1'] });
  await connect(doomed, { sub: 'ghost', servers: ['g1'] }); // two tabs there
  await connect(doomed, { sub: 'mover', servers: ['g1'] });
  const watcher = await connect(survivor, { sub: 'alive', servers: ['g1'] });
  const updates = [];
  watcher.on('presence_update', (u) => updates.push(u));
  assert.deepEqual(await membersOf('g1'), ['alive', 'ghost', 'mover']);
  doomed.proc.kill('SIGKILL');
  // mover's client reconnects at once, on the live worker.
  await connect(survivor, { sub: 'mover', servers: ['g1'] });
  await doomed.exitPromise;
  const killedAt = Date.now();
  let members;
  while (Date.now() - killedAt < (TTL_SECONDS + 2) * 1000) {
    members = await membersOf('g1');
    if (!members.includes('ghost')) break;
    await delay(50);
  }
  assert.deepEqual(members, ['alive', 'mover']);
  assert.ok(Date.now() - killedAt <= TTL_SECONDS * 1000 + 500, `gone after ${Date.now() - killedAt} ms`);
  // The killed worker is found silent after TTL + one refresh period (a
  // third of the TTL), at the survivor's next refresh.
  const offline = { server_id: 'g1', user_id: 'ghost', status: 'offline' };
  while (Date.now() - killedAt < (TTL_SECONDS * 2 + 2) * 1000 && !updates.some((u) => u.user_id === 'ghost')) await delay(50);
  assert.deepEqual(updates.filter((u) => u.user_id === 'ghost'), [offline]);
  // The survivor's refresh keeps its users online past several TTLs, and
  // nobody is announced twice, nor mover at all.
  await delay(TTL_SECONDS * 1000 + 500);
  assert.deepEqual(await membersOf('g1'), ['alive', 'mover']);
  assert.deepEqual(updates.filter((u) => u.user_id !== 'alive'), [offline]);
  assert.match((await http(survivor, 'GET', '/metrics')).body, /^superbot_presence_orphans_offline_total 1$/m);
});

test('a draining worker announces its users offline to the other workers only', async () => {
  const env = { REALTIME_REDIS_URL: redis.url, REALTIME_PRESENCE_TTL_SECONDS: TTL_SECONDS };
  const leaving = await startDaemon({ env });
  try {
    await waitRedisConnected(leaving);
    const watcher = await connect(survivor, { sub: 'stays', servers: ['d1'] });
    const remote = [];
    watcher.on('presence_update', (u) => remote.push(u));
    const local = [];
    const n = 30;
    for (let i = 0; i < n; i++) {
      const s = await connect(leaving, { sub: `leaver-${i}`, servers: ['d1'] });
      s.on('presence_update', (u) => { if (u.status === 'offline') local.push(u); });
    }
    await delay(200);
    leaving.proc.kill('SIGTERM');
    assert.deepEqual(await leaving.exitPromise, { code: 0, signal: null });
    const end = Date.now() + 5000;
    while (remote.filter((u) => u.status === 'offline').length < n && Date.now() < end) await delay(20);
    // Each leaver once, to the member on the live worker ...
    const offline = remote.filter((u) => u.status === 'offline').map((u) => u.user_id).sort();
    assert.deepEqual(offline, Array.from({ length: n }, (_, i) => `leaver-${i}`).sort());
    // ... and nothing to the sockets that were closing with it.
    assert.deepEqual(local, []);
  } finally {
    if (!leaving.exited) await leaving.stop();
  }
});
