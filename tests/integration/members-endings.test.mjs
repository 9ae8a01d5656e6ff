// Endings the token lifetime and the memberships start, with the stock
// client, on two workers sharing Redis: with expire_connections a 3 s
// token that is not refreshed ends with disconnect_reason token_expired
// (and one refreshed in time stays); a client passing `auth` as a function
// reconnects with a fresh token; with end_when_no_servers a user removed
// from their last server ends with `removed`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, waitRedisConnected } from './lib/daemon.mjs';
import { startRedis } from './lib/redis.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, once, request, ready } from './lib/client.mjs';

const TTL = 3;
let redis;
let w1;
let w2;
const sockets = [];

before(async () => {
  redis = await startRedis();
  const env = {
    REALTIME_REDIS_URL: redis.url, REALTIME_JWT_TTL_SECONDS: TTL, REALTIME_JWT_LEEWAY_SECONDS: 0,
    REALTIME_EXPIRE_CONNECTIONS: 'true', REALTIME_END_WHEN_NO_SERVERS: 'true',
  };
  w1 = await startDaemon({ env });
  w2 = await startDaemon({ env });
  await waitRedisConnected(w1);
  await waitRedisConnected(w2);
});

after(async () => {
  for (const s of sockets) s.close();
  const exits = [await w1?.stop(), await w2?.stop()];
  await redis?.cleanup();
  // A crash, or a leak under ASan, is a failure too.
  assert.deepEqual(exits, [{ code: 0, signal: null }, { code: 0, signal: null }]);
});

const token = (claims) => realtimeToken({ exp: Math.floor(Date.now() / 1000) + TTL, ...claims });

function open(d, opts) {
  const s = client(d, opts);
  sockets.push(s);
  return s;
}

// The reason of an ending the server started, what the client said after
// it, and when.
function ending(s, timeoutMs) {
  const why = new Promise((resolve) => s.once('disconnect', (reason) => resolve(reason)));
  return Promise.all([once(s, 'disconnect_reason', timeoutMs), why]).then(([r, w]) => [r, w, Date.now()]);
}

test('a 3 s token not refreshed ends with token_expired; one refreshed stays', async () => {
  const lapsing = await ready(open(w1, { token: token({ sub: 'lapse' }) }));
  const kept = await ready(open(w2, { token: token({ sub: 'keep' }) }));
  const started = Date.now();
  const lapsed = ending(lapsing, (TTL + 3) * 1000);
  // Refreshed every second with a new 3 s token, across the first one's expiry.
  let refreshes = 0;
  while (Date.now() - started < (TTL + 2) * 1000) {
    const ack = await request(kept, 'refresh_token', { token: token({ sub: 'keep' }) });
    assert.equal(ack.ok, true);
    assert.ok(ack.expires_in >= TTL - 1 && ack.expires_in <= TTL, JSON.stringify(ack));
    refreshes++;
    await delay(1000);
  }
  const [reason, why, at] = await lapsed;
  assert.deepEqual(reason, { reason: 'token_expired' });
  assert.equal(why, 'io server disconnect');
  const after = at - started;
  assert.ok(after >= (TTL - 1) * 1000 && after <= (TTL + 2) * 1000, `ended after ${after} ms`);
  assert.ok(kept.connected, 'the refreshed socket is still connected');
  assert.ok(refreshes >= TTL + 1);
  // Once it stops refreshing, it ends too.
  const [late] = await ending(kept, (TTL + 3) * 1000);
  assert.deepEqual(late, { reason: 'token_expired' });
  const metrics = (await http(w1, 'GET', '/metrics')).body + (await http(w2, 'GET', '/metrics')).body;
  const expired = [...metrics.matchAll(/^superbot_auth_expired_total (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(expired, 2);
});

test('a client passing auth as a function reconnects with a fresh token', async () => {
  // What an app does: fetch a token from its backend, which asks the gateway.
  let fetched = 0;
  const fetchToken = async () => {
    fetched++;
    const r = await http(fetched % 2 ? w1 : w2, 'POST', '/api/realtime/token',
      { body: { user_id: 'fn-user', servers: ['s1'] }, headers: apiKeyHeader() });
    assert.equal(r.body.expires_in, TTL);
    return r.body.token;
  };
  const s = open(w1, { auth: (cb) => fetchToken().then((t) => cb({ token: t })), reconnection: true });
  // The documented pattern: reconnect by hand after token_expired (the stock
  // client does not after a server's DISCONNECT), which calls auth again.
  let lastReason = null;
  s.on('disconnect_reason', ({ reason }) => { lastReason = reason; });
  s.on('disconnect', (why) => {
    if (why === 'io server disconnect' && lastReason === 'token_expired') s.connect();
  });
  const readies = [];
  s.on('ready', (r) => readies.push({ at: Date.now(), ...r }));
  await ready(s);
  const start = Date.now();
  while (readies.length < 3 && Date.now() - start < (TTL + 2) * 3 * 1000) await delay(50);
  assert.equal(readies.length, 3, `ready ${readies.length} times in ${Date.now() - start} ms`);
  assert.ok(fetched >= 3);
  for (const r of readies) assert.deepEqual(r.servers, ['s1']);
  assert.ok(s.connected);
});

test('end_when_no_servers: removed from the last server ends the socket with removed', async () => {
  const one = await ready(open(w1, { token: realtimeToken({ sub: 'solo', servers: ['only'] }) }));
  const two = await ready(open(w2, { token: realtimeToken({ sub: 'solo', servers: ['only', 'other'] }) }));
  const ended = ending(one, 2000);
  const left = once(two, 'server_left', 2000);
  const r = await http(w2, 'DELETE', '/api/realtime/users/solo/servers/only', { headers: apiKeyHeader() });
  assert.equal(r.status, 200);
  const [reason, why] = await ended;
  assert.deepEqual(reason, { reason: 'removed' });
  assert.equal(why, 'io server disconnect');
  assert.deepEqual(await left, { server_id: 'only' });
  await delay(200);
  assert.ok(two.connected, 'a socket that keeps a server stays');
  // A refresh that leaves no server ends it the same way.
  const refreshEnds = ending(two, 2000);
  const ack = await request(two, 'refresh_token', { token: realtimeToken({ sub: 'solo', servers: [] }) });
  assert.equal(ack.ok, true);
  assert.deepEqual((await refreshEnds)[0], { reason: 'removed' });
});
