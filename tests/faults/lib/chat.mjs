// A chat under faults: two workers on one Redis, stock socket.io-client
// clients on both sending a message every 300 ms (a nonce each) and typing
// before each one, and what every client saw: messages by nonce, who it
// sees typing, who it sees online.  The scenarios break Redis or a worker
// and check that nothing acknowledged is lost or doubled, that nobody stays
// typing, that presence converges, and that slow mode holds across workers.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, apiKeyHeader, freePort, waitRedisConnected, SOURCE_DIR } from '../../integration/lib/daemon.mjs';
import { startRedis } from '../../integration/lib/redis.mjs';
import { startRedisCluster, startSentinelSet } from '../../integration/lib/redis-topologies.mjs';
import { realtimeToken } from '../../integration/lib/jwt.mjs';
import { client, connected, request } from '../../integration/lib/client.mjs';

export const SERVER = 'fs';
export const CHANNEL = 'fc';
export const SLOW = 'fslow';
export const SEND_EVERY_MS = 300;
export const PRESENCE_TTL_S = 8;
export const TYPING_TTL_S = 4;

// The repo's bus-redis file with faster reconnects, so the suite stays
// short (SBR_FAULTS_RECONNECT_MAX_MS: another cap, e.g. the default 10000).
function busConf() {
  const text = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '30-bus-redis.conf'), 'utf8');
  const cap = process.env.SBR_FAULTS_RECONNECT_MAX_MS || '2000';
  return text.replace(/^reconnect_max_ms = .*$/m, `reconnect_max_ms = ${cap}`);
}

// The workers and the Redis they share: one server (persist: with an
// append-only file), a sentinel set (backend 'sentinel') or a cluster of
// three masters (backend 'cluster').
export class Cluster {
  static async start({ persist = false, backend = 'single' } = {}) {
    const c = new Cluster();
    if (backend === 'sentinel') c.redis = await startSentinelSet();
    else if (backend === 'cluster') c.redis = await startRedisCluster();
    else c.redis = await startRedis({ persist });
    c.env = {
      REALTIME_REDIS_URL: c.redis.url,
      REALTIME_PRESENCE_TTL_SECONDS: PRESENCE_TTL_S,
      REALTIME_TYPING_TTL_SECONDS: TYPING_TTL_S,
      REALTIME_LOG_LEVEL: 'info',
    };
    c.ports = [await freePort(), await freePort()];
    c.workers = [];
    c.clients = [];
    try {
      for (let i = 0; i < 2; i++) c.workers[i] = await c.startWorker(i);
      for (const w of c.workers) await waitRedisConnected(w);
      const put = async (id, settings) => (await http(c.workers[0], 'PUT', `/api/realtime/channels/${id}`,
        { body: { server_id: SERVER, settings }, headers: apiKeyHeader() })).status;
      if (await put(CHANNEL, {}) !== 200 || await put(SLOW, { slow_mode: 30 }) !== 200) {
        throw new Error('cannot register the channels');
      }
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  async startWorker(i) {
    const w = await startDaemon({ port: this.ports[i], env: this.env, files: { '30-bus-redis.conf': busConf() } });
    (this.logs ||= []).push('');
    const at = this.logs.length - 1;
    w.proc.stderr.on('data', () => { this.logs[at] = w.log; });
    return w;
  }

  url(i) { return `http://127.0.0.1:${this.ports[i]}`; }

  async connect(name, i, opts) {
    const c = new ChatClient(this, name, i, opts);
    this.clients.push(c);
    await c.ready;
    return c;
  }

  // Stop everything; a worker that does not exit 0 on SIGTERM (a crash, or
  // a leak under ASan) fails the test.
  async stop() {
    for (const c of this.clients) c.close();
    const bad = [];
    for (const w of this.workers) {
      if (!w || w.exited) continue;
      const res = await w.stop().catch((err) => ({ code: err.message }));
      if (res.code !== 0) bad.push(`worker on ${w.port} exited ${JSON.stringify(res)}:\n${w.log.slice(-4000)}`);
    }
    // SBR_FAULTS_LOG_DIR: keep the workers' logs there, for a failure.
    const dir = process.env.SBR_FAULTS_LOG_DIR;
    if (dir) this.logs.forEach((text, i) => fs.writeFileSync(path.join(dir, `worker-${i}-${Date.now()}.log`), text));
    await this.redis.cleanup();
    if (bad.length) throw new Error(bad.join('\n'));
  }
}

// One user on one worker, with the stock client reconnecting by itself.
export class ChatClient {
  constructor(cluster, name, worker, { chat = true } = {}) {
    this.cluster = cluster;
    this.name = name;
    this.worker = worker;
    this.chat = chat;
    this.sent = 0;
    this.acked = new Set();
    this.received = new Map();   // nonce -> times received
    this.typing = new Set();     // users seen typing now
    this.presence = new Map();   // user -> last status seen
    this.counter = 0;
    this.socket = client({ url: cluster.url(worker) }, {
      token: realtimeToken({ sub: name, servers: [SERVER] }),
      reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000,
    });
    this.socket.on('message', (m) => this.received.set(m.nonce, (this.received.get(m.nonce) || 0) + 1));
    this.socket.on('typing_start', (t) => this.typing.add(t.user_id));
    this.socket.on('typing_stop', (t) => this.typing.delete(t.user_id));
    this.socket.on('presence_update', (p) => this.presence.set(p.user_id, p.status));
    // Each (re)connection: back in the channel, and the server's presence read afresh.
    this.socket.on('connect', () => {
      this.joinedOk = false;
      this.joined = this.join().then(() => { this.joinedOk = true; });
    });
    // Why the connection was lost, each time (the client reconnects by itself).
    this.disconnects = [];
    this.socket.on('disconnect', (reason) => { if (!this.closed) this.disconnects.push(reason); });
    this.ready = connected(this.socket, 10000).then(() => this.joined);
  }

  async join() {
    const ack = await request(this.socket, 'join_channel', { channel_id: CHANNEL }, 10000);
    if (!ack.ok) throw new Error(`${this.name}: join_channel ${JSON.stringify(ack)}`);
    const snap = await request(this.socket, 'presence_snapshot', { server_id: SERVER }, 10000);
    this.presence = new Map(snap.members.map((m) => [m.user_id, m.status]));
  }

  startChatting() {
    this.timer = setInterval(() => this.tick(), SEND_EVERY_MS);
  }

  stopChatting() {
    clearInterval(this.timer);
  }

  tick() {
    if (!this.socket.connected || !this.chat) return;
    const nonce = `${this.name}:${++this.counter}`;
    this.sent++;
    this.socket.emit('typing_start', { channel_id: CHANNEL });
    this.socket.timeout(10000).emitWithAck('send_message', { channel_id: CHANNEL, content: `hi ${nonce}`, nonce })
      .then((ack) => { if (ack.ok) this.acked.add(nonce); })
      .catch(() => { /* no answer: not acknowledged */ });
  }

  close() {
    this.closed = true;
    this.stopChatting();
    this.socket.close();
  }
}

// What the receivers on healthy workers got of every acknowledged message.
export function tally(senders, receivers) {
  let sent = 0, acked = 0, delivered = 0, lost = 0, duplicated = 0;
  const missing = [];
  for (const s of senders) {
    sent += s.sent;
    acked += s.acked.size;
    for (const nonce of s.acked) {
      for (const r of receivers) {
        const n = r.received.get(nonce) || 0;
        if (n === 0) { lost++; if (missing.length < 5) missing.push(`${nonce} at ${r.name}`); }
        if (n > 1) duplicated += n - 1;
        if (n > 0) delivered++;
      }
    }
  }
  return { sent, acked, delivered, lost, duplicated, missing };
}

// The acknowledged messages so far, to check later that they arrived.
export function ackedSoFar(senders) {
  return senders.map((s) => ({ name: s.name, sent: 0, acked: new Set(s.acked) }));
}

// Observers still seeing someone type.
export function staleTyping(observers) {
  return observers.reduce((n, o) => n + o.typing.size, 0);
}

// Observers whose view (events) or snapshot (their worker's shared state)
// differs from who is really online; [] when presence converged.  At most
// one snapshot each per PRESENCE_POLL_MS, so that polling stays well within
// the inbound event rate a client is allowed (with the chat's own events).
const PRESENCE_POLL_MS = 500;
const lastPoll = { key: '', at: 0, diffs: [] };
export async function presenceDiffs(observers, online) {
  const key = `${observers.map((o) => o.name)}|${online}`;
  if (key === lastPoll.key && Date.now() - lastPoll.at < PRESENCE_POLL_MS) return lastPoll.diffs;
  Object.assign(lastPoll, { key, at: Date.now(), diffs: await presenceDiffsNow(observers, online) });
  return lastPoll.diffs;
}

async function presenceDiffsNow(observers, online) {
  const want = [...online].sort().join(',');
  const diffs = [];
  for (const o of observers) {
    const seen = [...o.presence].filter(([, s]) => s !== 'offline').map(([u]) => u).sort().join(',');
    if (seen !== want) diffs.push(`${o.name} sees ${seen}`);
    const snap = await request(o.socket, 'presence_snapshot', { server_id: SERVER }, 5000).catch(() => null);
    const listed = snap?.ok ? snap.members.map((m) => m.user_id).sort().join(',') : 'no answer';
    if (listed !== want) diffs.push(`${o.name}'s snapshot lists ${listed}`);
  }
  return diffs;
}

// Poll until check() returns true; the ms it took, or null past timeoutMs.
export async function converge(check, timeoutMs) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await delay(100);
  }
  return null;
}

// Slow mode across workers: a user with a socket on each worker sends on
// both at once; exactly one passes.
export async function slowModeRace(cluster, user) {
  const a = await cluster.connect(user, 0, { chat: false });
  const b = await cluster.connect(user, 1, { chat: false });
  const send = (c) => request(c.socket, 'send_message', { channel_id: SLOW, content: 'race', nonce: `${user}:race` }, 10000);
  const acks = await Promise.all([send(a), send(b)]);
  return { passed: acks.filter((x) => x.ok).length, refused: acks.filter((x) => x.error === 'slow_mode').length };
}

const rows = [];

export function report(row) {
  rows.push(row);
}

export function printTable() {
  const head = ['scenario', 'sent', 'acked', 'delivered', 'lost', 'duplicated', 'stale typing', 'converged in'];
  const lines = rows.map((r) => [r.scenario, r.sent, r.acked, r.delivered, r.lost, r.duplicated, r.stale,
    r.convergeMs === null ? 'never' : `${(r.convergeMs / 1000).toFixed(1)} s`].map(String));
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ');
  process.stdout.write(`\n${fmt(head)}\n${width.map((w) => '-'.repeat(w)).join('  ')}\n${lines.map(fmt).join('\n')}\n\n`);
}
