// A worker that dies leaves no ghosts: its users leave the presence maps
// within the presence TTL, while the live worker keeps its own users online.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, waitRedisConnected } from './lib/daemon.mjs';
import { startRedis } from './lib/redis.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected } from './lib/client.mjs';

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
  return connected(s);
}

const membersOf = async (server) =>
  (await http(survivor, 'GET', `/api/realtime/presence/${server}`, { headers: apiKeyHeader() })).body.members
    .map((m) => m.user_id).sort();

test('the users of a killed worker vanish within the TTL', async () => {
  await connect(doomed, { sub: 'ghost', servers: ['g1'] });
  await connect(survivor, { sub: 'alive', servers: ['g1'] });
  assert.deepEqual(await membersOf('g1'), ['alive', 'ghost']);
  doomed.proc.kill('SIGKILL');
  await doomed.exitPromise;
  const killedAt = Date.now();
  let members;
  while (Date.now() - killedAt < (TTL_SECONDS + 2) * 1000) {
    members = await membersOf('g1');
    if (!members.includes('ghost')) break;
    await delay(50);
  }
  assert.deepEqual(members, ['alive']);
  assert.ok(Date.now() - killedAt <= TTL_SECONDS * 1000 + 500, `gone after ${Date.now() - killedAt} ms`);
  // The survivor's refresh keeps its user online past several TTLs.
  await delay(TTL_SECONDS * 1000 + 500);
  assert.deepEqual(await membersOf('g1'), ['alive']);
});
