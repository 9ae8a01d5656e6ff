// Faults under chat traffic: Redis paused (SIGSTOP) for 15 s, Redis killed
// and restarted 5 s later on its port (empty), a worker killed (SIGKILL),
// a worker restarted (SIGTERM).  Two workers, one Redis, stock
// socket.io-client clients on both sending every 300 ms.  For each: every
// acknowledged message reaches every client of the workers that stayed up,
// once; nobody stays typing; presence converges (what each client was told,
// and every worker's snapshot); slow mode holds across workers afterwards.
// Prints a table at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { redisMissing } from '../integration/lib/redis.mjs';
import { waitRedisConnected } from '../integration/lib/daemon.mjs';
import { request } from '../integration/lib/client.mjs';
import {
  Cluster, SLOW, PRESENCE_TTL_S, tally, ackedSoFar, staleTyping, presenceDiffs, converge, slowModeRace, report,
  printTable,
} from './lib/chat.mjs';

const skip = redisMissing();

after(printTable);

// Chatters a1 a2 on worker 0, b1 b2 on worker 1, each seeing the others online.
async function chatters(c) {
  const a = [await c.connect('a1', 0), await c.connect('a2', 0)];
  const b = [await c.connect('b1', 1), await c.connect('b2', 1)];
  return { a, b, all: [...a, ...b] };
}

async function settled(observers, online, what) {
  const ms = await converge(async () => (await presenceDiffs(observers, online)).length === 0, 15000);
  assert.ok(ms !== null, `${what}: ${(await presenceDiffs(observers, online)).join('; ')}`);
}

// Report the row first, so the table shows a failing scenario too.
// Receivers on the workers that stayed up must not have lost their connection.
function check(row, t, receivers) {
  const dropped = receivers.filter((r) => r.disconnects.length).map((r) => `${r.name}: ${r.disconnects.join(', ')}`);
  assert.deepEqual(dropped, [], 'receivers disconnected');
  assert.equal(row.lost, 0, `lost: ${t.missing.join(', ')}`);
  assert.equal(row.duplicated, 0);
  assert.equal(row.stale, 0);
  assert.ok(row.convergeMs !== null, `${row.scenario}: never converged: ${row.why}`);
  assert.ok(row.acked > 0);
}

// The part every Redis fault shares: an outage of `outageMs` made by
// `breakIt` and ended by `mendIt`; during it a user leaves (a worker 0
// user), one arrives (on worker 1), one with a tab on each worker closes
// the one on worker 0 (which cannot see the other and says `offline`), one
// takes a slow-mode slot on worker 0.
async function redisFault(scenario, breakIt, mendIt, outageMs) {
  const c = await Cluster.start();
  try {
    const { all } = await chatters(c);
    const leaver = await c.connect('leaver', 0, { chat: false });
    const tabA = await c.connect('twotabs', 0, { chat: false });
    await c.connect('twotabs', 1, { chat: false });
    await settled(all, ['a1', 'a2', 'b1', 'b2', 'leaver', 'twotabs'], 'before');
    for (const x of all) x.startChatting();
    await delay(2000);
    await breakIt(c);
    await delay(3000); // the workers notice (connect_timeout_ms)
    leaver.close();
    tabA.close();
    await c.connect('late', 1, { chat: false });
    const sm = await c.connect('sm', 0, { chat: false });
    const slot = await request(sm.socket, 'send_message', { channel_id: SLOW, content: 'during', nonce: 'sm:1' }, 10000);
    assert.equal(slot.ok, true, JSON.stringify(slot));
    await delay(outageMs - 3000);
    await mendIt(c);
    // Converged: what was acknowledged until Redis came back has reached
    // everyone, and every client and worker agrees on who is online.
    const during = ackedSoFar(all);
    const online = ['a1', 'a2', 'b1', 'b2', 'late', 'sm', 'twotabs'];
    const convergeMs = await converge(async () => tally(during, all).lost === 0 &&
      (await presenceDiffs(all, online)).length === 0, 30000);
    await delay(2000);
    for (const x of all) x.stopChatting();
    await converge(async () => tally(all, all).lost === 0 && staleTyping(all) === 0, 15000);
    await delay(1000); // late duplicates would show now
    const t = tally(all, all);
    const row = { scenario, ...t, stale: staleTyping(all), convergeMs, why: (await presenceDiffs(all, online)).join('; ') };
    report(row);
    check(row, t, all);
    // The slot taken in-process on worker 0 holds on worker 1 now.
    const smB = await c.connect('sm', 1, { chat: false });
    const again = await request(smB.socket, 'send_message', { channel_id: SLOW, content: 'after', nonce: 'sm:2' }, 10000);
    assert.equal(again.error, 'slow_mode', JSON.stringify(again));
    assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
  } finally {
    await c.stop();
  }
}

test('Redis SIGSTOP 15 s then SIGCONT', { skip, timeout: 120000 }, async () => {
  await redisFault('redis SIGSTOP 15 s',
    async (c) => c.redis.proc.kill('SIGSTOP'),
    async (c) => c.redis.proc.kill('SIGCONT'),
    15000);
});

test('Redis kill -9, restarted empty 5 s later on its port', { skip, timeout: 120000 }, async () => {
  await redisFault('redis kill -9, restart',
    async (c) => { c.redis.proc.kill('SIGKILL'); await c.redis.exited; },
    async (c) => c.redis.start(),
    5000);
});

test('a worker killed (SIGKILL)', { skip, timeout: 120000 }, async () => {
  const c = await Cluster.start();
  try {
    const { a, b, all } = await chatters(c);
    const typer = await c.connect('typer', 1, { chat: false });
    await settled(all, ['a1', 'a2', 'b1', 'b2', 'typer'], 'before');
    for (const x of all) x.startChatting();
    await delay(2000);
    // typer is typing on worker 1 when it dies: its typing_stop never comes from there.
    typer.socket.emit('typing_start', { channel_id: 'fc' });
    await delay(300);
    assert.ok(a.every((x) => x.typing.has('typer')));
    c.workers[1].proc.kill('SIGKILL');
    const killed = Date.now();
    for (const x of b) x.stopChatting();
    await delay(2000);
    for (const x of a) x.stopChatting();
    const done = await converge(async () => tally(all, a).lost === 0 && staleTyping(a) === 0 &&
      (await presenceDiffs(a, ['a1', 'a2'])).length === 0, 30000);
    const convergeMs = done === null ? null : Date.now() - killed;
    await delay(1000);
    const t = tally(all, a);
    const row = { scenario: 'worker kill -9', ...t, stale: staleTyping(a), convergeMs,
      why: (await presenceDiffs(a, ['a1', 'a2'])).join('; ') };
    report(row);
    check(row, t, a);
    assert.ok(convergeMs < PRESENCE_TTL_S * 1000, `converged ${convergeMs} ms after the kill, past the presence TTL`);
    // Back on its port: its clients reconnect by themselves.
    await c.workers[1].exitPromise;
    c.workers[1] = await c.startWorker(1);
    await waitRedisConnected(c.workers[1]);
    await settled(all, ['a1', 'a2', 'b1', 'b2', 'typer'], 'after the restart');
    assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
  } finally {
    await c.stop();
  }
});

test('a worker restarted (SIGTERM)', { skip, timeout: 120000 }, async () => {
  const c = await Cluster.start();
  try {
    const { a, b, all } = await chatters(c);
    await settled(all, ['a1', 'a2', 'b1', 'b2'], 'before');
    for (const x of all) x.startChatting();
    await delay(2000);
    const stopping = Date.now();
    const res = await c.workers[1].stop('SIGTERM');
    assert.equal(res.code, 0);
    c.workers[1] = await c.startWorker(1);
    await waitRedisConnected(c.workers[1]);
    // Its clients come back to it by themselves: a drain closes the
    // transport without a Socket.IO DISCONNECT.
    const rejoined = await converge(async () => b.every((x) => x.socket.connected && x.joinedOk), 15000);
    assert.ok(rejoined !== null, 'the clients of the restarted worker did not come back');
    for (const x of b) assert.deepEqual(x.disconnects, ['transport close'], x.name);
    const before = ackedSoFar(all);
    await delay(3000);
    for (const x of all) x.stopChatting();
    const done = await converge(async () => tally(all, a).lost === 0 && staleTyping(all) === 0 &&
      (await presenceDiffs(all, ['a1', 'a2', 'b1', 'b2'])).length === 0, 30000);
    const convergeMs = done === null ? null : Date.now() - stopping;
    await delay(1000);
    const t = tally(all, a);
    const row = { scenario: 'worker SIGTERM restart', ...t, stale: staleTyping(all), convergeMs,
      why: (await presenceDiffs(all, ['a1', 'a2', 'b1', 'b2'])).join('; ') };
    report(row);
    check(row, t, a);
    // What was acknowledged once they were back reached the restarted worker's clients too.
    const since = all.map((x, i) => ({ sent: 0, acked: new Set([...x.acked].filter((n) => !before[i].acked.has(n))) }));
    const back = tally(since, b);
    assert.ok(back.acked > 0);
    assert.equal(back.lost, 0, back.missing.join(', '));
    assert.equal(back.duplicated, 0);
    assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
  } finally {
    await c.stop();
  }
});
