// How a cluster spreads the pub/sub load of many rooms over its masters.
//
// Two workers on a cluster of three masters (redis-cluster://).  `--rooms`
// channels, each with `--per-room` subscribers (stock socket.io-client) on
// worker B; the server API of worker A publishes `--messages` messages to
// every room, `--concurrency` requests in flight.  Every delivery is
// checked.  Then, per master: the slots it owns, the rooms whose channel
// hashes there, the SPUBLISH calls it served, the clients subscribed on it
// (INFO commandstats, PUBSUB SHARDNUMSUB, CLIENT LIST), and the rate.
//
//   node bench/cluster-shards.mjs [--rooms 48] [--per-room 2] [--messages 200] [--build build]
// (run from the repository root; needs redis-server and redis-cli, and the
// test dependencies installed in tests/integration: npm ci there).
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const ROOMS = Number(args.rooms || 48);
const PER_ROOM = Number(args['per-room'] || 2);
const MESSAGES = Number(args.messages || 200);
const CONCURRENCY = Number(args.concurrency || 32);
const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
process.env.SBR_BUILD_DIR ||= path.join(ROOT, args.build || 'build');
const { startDaemon, http, apiKeyHeader, waitRedisConnected, until } = await import('../tests/integration/lib/daemon.mjs');
const { startRedisCluster } = await import('../tests/integration/lib/redis-topologies.mjs');
const { client, request, ready } = await import('../tests/integration/lib/client.mjs');
const { realtimeToken } = await import('../tests/integration/lib/jwt.mjs');

const PREFIX = 'superbot-realtime:';
const cluster = await startRedisCluster();
const workers = [];
const sockets = [];
try {
  for (let i = 0; i < 2; i++) {
    workers.push(await startDaemon({ env: { REALTIME_REDIS_URL: cluster.url, REALTIME_LOG_LEVEL: 'warn' } }));
  }
  for (const w of workers) await waitRedisConnected(w);
  const [a, b] = workers;
  const rooms = Array.from({ length: ROOMS }, (_, i) => `shard-${i}`);
  for (const r of rooms) {
    const put = await http(a, 'PUT', `/api/realtime/channels/${r}`, { body: { server_id: 'bench' }, headers: apiKeyHeader() });
    if (put.status !== 200) throw new Error(`PUT channel ${r}: ${put.status}`);
  }
  const received = new Map(rooms.map((r) => [r, 0]));
  for (const r of rooms) {
    for (let k = 0; k < PER_ROOM; k++) {
      const s = await ready(client(b, { token: realtimeToken({ sub: `${r}-u${k}`, servers: ['bench'] }) }));
      sockets.push(s);
      if (!(await request(s, 'join_channel', { channel_id: r })).ok) throw new Error(`join ${r}`);
      s.on('tick', () => received.set(r, received.get(r) + 1));
    }
  }
  for (const p of cluster.ports) await cluster.nodeCommand(p, 'CONFIG', 'RESETSTAT');
  // What each master holds while the rooms are live.
  const holds = {};
  for (const p of cluster.ports) {
    const channels = rooms.map((r) => `${PREFIX}bus:room:channel:${r}`);
    const numsub = await cluster.nodeCommand(p, 'PUBSUB', 'SHARDNUMSUB', ...channels);
    const subscribed = numsub.filter((x, i) => i % 2 === 1 && x > 0).length;
    // The workers' links (CLIENT LIST counts the asking connection too).
    holds[p] = { rooms: subscribed, clients: (await cluster.nodeCommand(p, 'CLIENT', 'LIST')).trim().split('\n').length - 1 };
  }
  const jobs = [];
  for (let m = 0; m < MESSAGES; m++) for (const r of rooms) jobs.push(r);
  const started = Date.now();
  let next = 0;
  async function lane() {
    while (next < jobs.length) {
      const r = jobs[next++];
      const res = await http(a, 'POST', '/api/realtime/publish',
        { body: { room: `channel:${r}`, event: 'tick', data: { n: next } }, headers: apiKeyHeader() });
      if (res.status !== 200) throw new Error(`publish: ${res.status}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const want = MESSAGES * PER_ROOM;
  await until('every delivery', () => [...received.values()].every((n) => n >= want), 60000);
  const seconds = (Date.now() - started) / 1000;
  await delay(200);
  const lost = rooms.reduce((n, r) => n + Math.max(0, want - received.get(r)), 0);
  const extra = rooms.reduce((n, r) => n + Math.max(0, received.get(r) - want), 0);
  const rows = [];
  let total = 0;
  const slotsOf = {};
  for (const [from, to, [, port]] of await cluster.nodeCommand(cluster.ports[0], 'CLUSTER', 'SLOTS')) {
    slotsOf[port] = (slotsOf[port] || 0) + to - from + 1;
  }
  for (const p of cluster.ports) {
    const stats = await cluster.nodeCommand(p, 'INFO', 'commandstats');
    const calls = Number((/cmdstat_spublish:calls=(\d+)/.exec(stats) || [0, 0])[1]);
    total += calls;
    rows.push({ master: `127.0.0.1:${p}`, slots: slotsOf[p], rooms: holds[p].rooms, clients: holds[p].clients, spublish: calls });
  }
  for (const r of rows) r.share = `${((100 * r.spublish) / Math.max(1, total)).toFixed(1)} %`;
  const result = { rooms: ROOMS, per_room: PER_ROOM, messages: MESSAGES * ROOMS, deliveries: MESSAGES * ROOMS * PER_ROOM,
    lost, duplicated: extra, seconds: Number(seconds.toFixed(2)), publishes_per_s: Math.round((MESSAGES * ROOMS) / seconds),
    masters: rows };
  console.log(JSON.stringify(result));
  const head = ['master', 'slots', 'rooms', 'clients', 'SPUBLISH', 'share'];
  const lines = rows.map((r) => [r.master, r.slots, r.rooms, r.clients, r.spublish, r.share].map(String));
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ');
  process.stderr.write(`${fmt(head)}\n${lines.map(fmt).join('\n')}\n` +
    `${MESSAGES * ROOMS} publishes to ${ROOMS} rooms in ${seconds.toFixed(2)} s, ` +
    `${MESSAGES * ROOMS * PER_ROOM} deliveries, ${lost} lost, ${extra} duplicated\n`);
  if (lost || extra) process.exitCode = 1;
} finally {
  for (const s of sockets) s.close();
  for (const w of workers) if (!w.exited) await w.stop();
  await cluster.cleanup();
}
