// Redis beyond one node, under chat traffic from stock socket.io-client
// clients on two workers (a message every 300 ms each):
//  - a sentinel set (master, replica, three sentinels): SENTINEL FAILOVER,
//    with a slow-mode slot taken in the middle of the switch; then the
//    master killed;
//  - a cluster of three masters: the slot of the chat's room channel moved
//    to another master by hand (IMPORTING/MIGRATING/MIGRATE/NODE), then
//    500 slots resharded with `redis-cli --cluster reshard`; a master added
//    and given a quarter of the slots, then one removed.
// For each: every message acknowledged reaches every client once, nobody
// stays typing, presence converges, slow mode holds across workers, and
// the workers follow (their links to the new master are up, redirections
// and failovers are counted on /metrics).  Rows go to the fault table.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { redisMissing } from '../integration/lib/redis.mjs';
import { topologyMissing } from '../integration/lib/redis-topologies.mjs';
import { http } from '../integration/lib/daemon.mjs';
import { request } from '../integration/lib/client.mjs';
import {
  Cluster, SLOW, CHANNEL, tally, ackedSoFar, staleTyping, presenceDiffs, converge, slowModeRace, report, printTable,
} from './lib/chat.mjs';

const PREFIX = 'superbot-realtime:';
after(printTable);

// A worker's /metrics value of one series (0 when absent).
async function metric(worker, name, labels = '') {
  const text = (await http(worker, 'GET', '/metrics')).body;
  const line = String(text).split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function chatters(c) {
  const a = [await c.connect('a1', 0), await c.connect('a2', 0)];
  const b = [await c.connect('b1', 1), await c.connect('b2', 1)];
  return { a, b, all: [...a, ...b] };
}

async function settled(observers, online, what) {
  const ms = await converge(async () => (await presenceDiffs(observers, online)).length === 0, 15000);
  assert.ok(ms !== null, `${what}: ${(await presenceDiffs(observers, online)).join('; ')}`);
}

// Traffic for a while around `disturb`, then what every client saw.
async function underTraffic(c, scenario, online, disturb) {
  const { all } = await chatters(c);
  await settled(all, ['a1', 'a2', 'b1', 'b2'], 'before');
  for (const x of all) x.startChatting();
  await delay(2000);
  const started = Date.now();
  await disturb(all);
  const during = ackedSoFar(all);
  const convergeMs = await converge(async () => tally(during, all).lost === 0, 30000);
  await delay(2000);
  for (const x of all) x.stopChatting();
  await converge(async () => tally(all, all).lost === 0 && staleTyping(all) === 0, 15000);
  await delay(1000); // late duplicates would show now
  const t = tally(all, all);
  const row = { scenario, ...t, stale: staleTyping(all), convergeMs: convergeMs === null ? null : Date.now() - started,
    why: (await presenceDiffs(all, online)).join('; ') };
  report(row);
  const dropped = all.filter((r) => r.disconnects.length).map((r) => `${r.name}: ${r.disconnects.join(', ')}`);
  assert.deepEqual(dropped, [], 'receivers disconnected');
  assert.equal(row.lost, 0, `lost: ${t.missing.join(', ')}`);
  assert.equal(row.duplicated, 0);
  assert.equal(row.stale, 0);
  assert.ok(row.acked > 0);
  await settled(all, online, 'after');
}

test('sentinel: SENTINEL FAILOVER under traffic', { skip: redisMissing() || topologyMissing('sentinel'),
  timeout: 180000 }, async () => {
  const c = await Cluster.start({ backend: 'sentinel' });
  try {
    const first = await c.redis.master();
    let second;
    await underTraffic(c, 'sentinel failover', ['a1', 'a2', 'b1', 'b2', 'sm'], async () => {
      const sm = await c.connect('sm', 0, { chat: false });
      const switching = c.redis.failover();
      // A slow-mode slot taken while the sentinels switch: it holds on the
      // other worker afterwards, whichever master took it.
      await delay(300);
      const slot = await request(sm.socket, 'send_message', { channel_id: SLOW, content: 'during', nonce: 'sm:1' }, 10000);
      assert.equal(slot.ok, true, JSON.stringify(slot));
      second = await switching;
      // Both workers follow: their links to the new master are up.
      const up = await converge(async () => {
        for (const w of c.workers) {
          if (await metric(w, 'superbot_bus_redis_link_up', `node="127.0.0.1:${second}",role="master"`) !== 1) return false;
        }
        return true;
      }, 20000);
      assert.ok(up !== null, 'the workers did not reach the new master');
    });
    assert.notEqual(first, second);
    for (const w of c.workers) assert.ok(await metric(w, 'superbot_bus_redis_failovers_total') >= 1);
    const smB = await c.connect('sm', 1, { chat: false });
    const again = await request(smB.socket, 'send_message', { channel_id: SLOW, content: 'after', nonce: 'sm:2' }, 10000);
    assert.equal(again.error, 'slow_mode', JSON.stringify(again));
    assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
  } finally {
    await c.stop();
  }
});

test('sentinel: the master killed (SIGKILL) under traffic', { skip: redisMissing() || topologyMissing('sentinel'),
  timeout: 180000 }, async () => {
  const c = await Cluster.start({ backend: 'sentinel' });
  try {
    const first = await c.redis.master();
    const second = first === c.redis.ports.master ? c.redis.ports.replica : c.redis.ports.master;
    await underTraffic(c, 'sentinel master killed', ['a1', 'a2', 'b1', 'b2'], async () => {
      await c.redis.kill(first);
      // down-after-milliseconds (2 s), the sentinels' election, then the switch.
      const up = await converge(async () => {
        for (const w of c.workers) {
          if (await metric(w, 'superbot_bus_redis_link_up', `node="127.0.0.1:${second}",role="master"`) !== 1) return false;
        }
        return true;
      }, 30000);
      assert.ok(up !== null, 'the workers did not reach the new master');
    });
    assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
  } finally {
    await c.stop();
  }
});

test('cluster: the room\'s slot migrated, then 500 slots resharded, under traffic',
  { skip: redisMissing() || topologyMissing('cluster'), timeout: 180000 }, async () => {
    const c = await Cluster.start({ backend: 'cluster' });
    try {
      const slot = await c.redis.slotOf(`${PREFIX}bus:room:channel:${CHANNEL}`);
      await underTraffic(c, 'cluster slot migration', ['a1', 'a2', 'b1', 'b2'], async () => {
        const from = await c.redis.ownerOf(slot);
        const to = c.redis.ports.find((p) => p !== from);
        await c.redis.moveSlot(slot, to);
        assert.equal(await c.redis.ownerOf(slot), to);
        await delay(1500);
        // Then many slots at once, as an operator rebalancing would.
        const ids = {};
        for (const p of c.redis.ports) ids[p] = await c.redis.nodeCommand(p, 'CLUSTER', 'MYID');
        const [src, dst] = [c.redis.ports[0], c.redis.ports[1]];
        const r = spawnSync('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${src}`, '--cluster-from', ids[src],
          '--cluster-to', ids[dst], '--cluster-slots', '500', '--cluster-yes'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      });
      // The publishers were sent to the new master (MOVED), and their
      // subscriptions followed.
      let moved = 0;
      for (const w of c.workers) moved += await metric(w, 'superbot_bus_redis_redirects_total', 'kind="moved"');
      assert.ok(moved > 0, 'no MOVED followed');
      const numsub = await c.redis.command('PUBSUB', 'NUMSUB', `${PREFIX}bus:room:channel:${CHANNEL}`);
      assert.equal(numsub[1], 2);
      assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
    } finally {
      await c.stop();
    }
  });

test('cluster: a master added and given slots, then one removed, under traffic',
  { skip: redisMissing() || topologyMissing('cluster'), timeout: 180000 }, async () => {
    const c = await Cluster.start({ backend: 'cluster' });
    try {
      let added;
      await underTraffic(c, 'cluster master added, removed', ['a1', 'a2', 'b1', 'b2'], async () => {
        // Scaling out: a fourth master takes a quarter of the slots.
        added = await c.redis.addMaster();
        await c.redis.reshard('all', added, 4096);
        const up = await converge(async () => {
          for (const w of c.workers) {
            if (await metric(w, 'superbot_bus_redis_link_up', `node="127.0.0.1:${added}",role="master"`) !== 1) return false;
          }
          return true;
        }, 20000);
        assert.ok(up !== null, 'the workers did not connect the new master');
        await delay(1500);
        // Scaling in: the first master hands its slots over and leaves.
        await c.redis.removeMaster(c.redis.ports[0]);
      });
      for (const [i, w] of c.workers.entries()) {
        const why = `worker ${i}:\n${c.logs[i].split('\n').filter((l) => /bus-redis|bus state/.test(l)).join('\n')}`;
        assert.equal(await metric(w, 'superbot_bus_redis_masters'), 3, why);
        assert.equal(await metric(w, 'superbot_bus_state'), 1, why); // connected all along
        assert.equal(await metric(w, 'superbot_bus_redis_reconnects_total'), 0, why);
      }
      assert.deepEqual(await slowModeRace(c, 'racer'), { passed: 1, refused: 1 });
    } finally {
      await c.stop();
    }
  });
