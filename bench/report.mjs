// Turns the JSON lines of one bench/run into docs/BENCHMARKS.md: medians with
// min-max per target, the gateway/peer ratio of the medians, the targets of
// the benchmark issue, versions and conditions.  Everything below the marker
// line of an existing file (profiles, analysis) is kept as is.
//
// usage: node bench/report.mjs results.jsonl docs/BENCHMARKS.md
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [resultsPath, outPath] = process.argv.slice(2);
if (!resultsPath || !outPath) {
  console.error('usage: node bench/report.mjs results.jsonl docs/BENCHMARKS.md');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const marker = '<!-- bench/run writes everything above this line and keeps what follows -->';
const env = process.env;

const runs = fs.readFileSync(resultsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

function values(target, kase, pick) {
  return runs
    .filter((r) => r.target === target && r.case === kase && r.result && r.exit === 0)
    .map((r) => pick(r.result))
    .filter((v) => typeof v === 'number' && v >= 0);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v, unit) {
  if (unit === 'ms') return (v / 1000).toFixed(v < 10000 ? 2 : 1);
  if (unit === 'us') return v.toFixed(v < 10 ? 3 : 2);
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(1);
}

function cell(xs, unit) {
  if (!xs.length) return 'n/a';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return `${fmt(median(xs), unit)} (${fmt(lo, unit)}–${fmt(hi, unit)})`;
}

// The rooms shape's server CPU per delivered event on the tree as it was
// before the chat-shape work (bench/run of commit a1da1a7, median of three
// rounds, 13.87 µs): the target is half of it.  BENCH_ROOMS_CPU_BEFORE_US
// overrides it (0: no target).
const roomsCpuBefore = Number(env.BENCH_ROOMS_CPU_BEFORE_US ?? 13.87) || null;

// [case, label, picker, unit, higher is better, targets, compare with the floor]
// targets: { ratio } gateway ÷ peer, { floor } gateway ÷ floor, { max } gateway itself.
const cpu = (r) => r.cpu_us_per_delivery;
const rows = [
  ['connect', 'connects/s, auth included', (r) => r.connects_per_s, '', true, { ratio: 5 }],
  ['connect', 'handshake p99, ms', (r) => r.handshake_us.p99, 'ms', false, null],
  ['connect', 'server RSS per idle connection, bytes', (r) => r.bytes_per_connection, '', false, { max: 4096 }],
  ['fanout', 'deliveries/s, flat out', (r) => r.deliveries_per_s, '', true, { ratio: 10 }],
  ['fanout', 'server CPU per delivery, µs', cpu, 'us', false, null],
  ['fanout', 'latency p50, ms (flat out)', (r) => r.latency_us.p50, 'ms', false, null],
  ['fanout', 'latency p99, ms (flat out)', (r) => r.latency_us.p99, 'ms', false, null],
  ['fanout-20', 'latency p50, ms at 20 msg/s', (r) => r.latency_us.p50, 'ms', false, null, true],
  ['fanout-20', 'latency p99, ms at 20 msg/s', (r) => r.latency_us.p99, 'ms', false, { ratio: 1 / 3 }, true],
  ['fanout-20', 'latency max, ms at 20 msg/s', (r) => r.latency_us.max, 'ms', false, null],
  ['cross', 'deliveries/s, 2 workers + Redis', (r) => r.deliveries_per_s, '', true, { ratio: 8 }],
  ['cross', 'latency p99, ms (flat out)', (r) => r.latency_us.p99, 'ms', false, null],
  ['fanout10x100', 'deliveries/s, flat out', (r) => r.deliveries_per_s, '', true, { ratio: 15, floor: 0.5 }, true],
  ['fanout10x100', 'server CPU per delivery, µs', cpu, 'us', false, null, true],
  ['fanout10x100', 'latency p50, ms (flat out)', (r) => r.latency_us.p50, 'ms', false, null, true],
  ['fanout10x100', 'latency p99, ms (flat out)', (r) => r.latency_us.p99, 'ms', false, null, true],
  ['cross10x100', 'deliveries/s, 2 workers + Redis', (r) => r.deliveries_per_s, '', true, null],
  ['cross10x100', 'CPU per delivery, µs (workers + Redis)', cpu, 'us', false, null],
  ['cross10x100', 'latency p99, ms (flat out)', (r) => r.latency_us.p99, 'ms', false, null],
  ['rooms', 'message deliveries/s', (r) => r.deliveries_per_s, '', true, null, true],
  ['rooms', 'events delivered/s (messages, typing, presence)', (r) => r.events_per_s, '', true, null],
  ['rooms', 'server CPU per delivered event, µs', cpu, 'us', false, roomsCpuBefore ? { max: roomsCpuBefore / 2 } : null, true],
  ['rooms', 'message latency p50, ms', (r) => r.latency_us.p50, 'ms', false, null, true],
  ['rooms', 'message latency p99, ms', (r) => r.latency_us.p99, 'ms', false, null, true],
  ['rooms-cross', 'events delivered/s, 2 workers + Redis', (r) => r.events_per_s, '', true, null],
  ['rooms-cross', 'CPU per delivered event, µs (workers + Redis)', cpu, 'us', false, null],
  ['rooms-cross', 'message latency p99, ms', (r) => r.latency_us.p99, 'ms', false, null],
  ['token', 'POST /api/realtime/token requests/s', (r) => r.requests_per_s, '', true, null],
];

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function pkgVersion(name) {
  try {
    const file = path.join(root, 'bench/peers/socketio/node_modules', name, 'package.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

const out = [];
const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const commit = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' (with local changes)' : '';
const first = (kase) => runs.find((r) => r.case === kase && r.result)?.result ?? {};

out.push('# Benchmarks');
out.push('');
out.push(`Generated by \`bench/run\` on ${now}, commit ${commit}${dirty}, in ${env.BENCH_ELAPSED ?? '?'} s.`);
out.push('One load tool (`bench/loadgen`, C on libevent, WebSocket-only Socket.IO client) drives');
out.push('superbot-realtime ("gateway") and the Node Socket.IO server of `bench/peers/socketio`');
out.push('("peer") in turn, in the same run, with the same scenarios. Each cell is the median of');
out.push(`${env.BENCH_ROUNDS ?? '?'} rounds with the min–max in parentheses; the ratio is gateway ÷ peer of the medians.`);
out.push('');
out.push('| scenario | metric | gateway | peer | floor | gateway ÷ peer | gateway ÷ floor | target | met |');
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const ratioText = (a, b) => (a.length && b.length && median(b) > 0 ? `${(median(a) / median(b)).toFixed(2)}×` : '');
for (const [kase, label, pick, unit, higherBetter, target, withFloor] of rows) {
  const g = values('gateway', kase, pick);
  const p = values('peer', kase, pick);
  const f = withFloor ? values('floor', kase, pick) : [];
  const ratio = g.length && p.length && median(p) > 0 ? median(g) / median(p) : null;
  const floorRatio = g.length && f.length && median(f) > 0 ? median(g) / median(f) : null;
  const texts = [];
  const checks = [];
  if (target?.ratio !== undefined) {
    texts.push(higherBetter ? `≥ ${target.ratio}× the peer` : `≤ ${target.ratio.toFixed(2)}× the peer`);
    if (ratio !== null) checks.push(higherBetter ? ratio >= target.ratio : ratio <= target.ratio);
  }
  if (target?.floor !== undefined) {
    texts.push(`≥ ${target.floor}× the floor`);
    if (floorRatio !== null) checks.push(floorRatio >= target.floor);
  }
  if (target?.max !== undefined) {
    texts.push(`gateway ≤ ${fmt(target.max, unit)}`);
    if (g.length) checks.push(median(g) <= target.max);
  }
  const met = checks.length ? (checks.every(Boolean) ? 'yes' : 'no') : '';
  const peerCell = p.length ? cell(p, unit) : 'n/a';
  out.push(`| ${kase} | ${label} | ${cell(g, unit)} | ${peerCell} | ${withFloor ? cell(f, unit) : ''} | ${ratioText(g, p) || 'n/a'} | ${withFloor ? ratioText(g, f) : ''} | ${texts.join(', ')} | ${met} |`);
}
out.push('');

// The kernel's part of fanout-20, measured with no server (loadgen floor).
const floorP99 = values('floor', 'fanout-20', (r) => r.latency_us.p99);
const floorRound = values('floor', 'fanout-20', (r) => r.send_round_us);
if (floorP99.length) {
  const floorRun = runs.find((r) => r.target === 'floor' && r.result)?.result ?? {};
  const g = values('gateway', 'fanout-20', (r) => r.latency_us.p99);
  const p = values('peer', 'fanout-20', (r) => r.latency_us.p99);
  const ratio = (a, b) => (a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a');
  out.push(`**The floor of fanout-20.** \`loadgen floor\` runs no server: a child process pinned to the servers' core sends a ${floorRun.size ?? '?'}-byte payload (about the size of the gateway's \`message\` frame) to ${floorRun.subscribers ?? '?'} loopback TCP sockets in a bare \`send()\` loop, 20 times a second, and the load tool reads them as it reads the servers. Its p99 is ${cell(floorP99, 'ms')} ms and one round of sends takes ${cell(floorRound, 'ms')} ms: the kernel's loopback TCP path alone. That floor alone is ${ratio(floorP99, p)} the peer's p99: where it is above 0.33×, the target asks for less than the kernel's loopback path allows any server on one core of this machine. The gateway's p99 is ${ratio(g, floorP99)} the floor.`);
  out.push('');
}

const chatFloor = runs.find((r) => r.target === 'floor' && r.case === 'fanout10x100' && r.result)?.result;
const roomsFloor = runs.find((r) => r.target === 'floor' && r.case === 'rooms' && r.result)?.result;
if (chatFloor || roomsFloor) {
  const perSend = (kase) => cell(values('floor', kase, (r) => r.deliveries_per_send), '');
  out.push(`**The floors of the chat shapes.** \`loadgen floor --shape fanout|rooms\` runs no server either: a child process pinned to the servers' core relays what the publishers send to every member of their room, each message encoded once as a ${chatFloor?.size ?? roomsFloor?.size ?? '?'}-byte WebSocket frame of a Socket.IO \`message\` event, and writes each connection once per loop turn (one \`send()\` carrying every frame that reached it in that turn); the load tool drives and reads it exactly as it drives and reads the servers. Its deliveries/s and CPU per delivery are the floor column. In fanout10x100 it delivers ${perSend('fanout10x100')} frames per \`send()\`; in rooms ${perSend('rooms')} (at one message per connection per 10 s, a room's messages rarely meet in one turn, so the kernel's per-\`send()\` cost is the floor). The rooms floor has no typing or presence traffic, so its CPU per delivery is that of a message alone.`);
  out.push('');
}

const fanout = first('fanout');
const connect = first('connect');
const chat = first('fanout10x100');
const rooms = first('rooms');
out.push('Scenarios:');
out.push('');
out.push(`- **connect**: ${connect.connections ?? env.BENCH_CONNECTIONS} WebSocket connections, ${connect.concurrency ?? '?'} handshakes in flight, each with its own HS256 token minted by the load tool; a connect ends at the Socket.IO CONNECT ack (\`40{...}\`), so it includes the token check. The connections then stay open and idle; the server's VmRSS growth divided by their number is the cost of one idle connection (the peer's includes garbage not yet collected).`);
out.push(`- **fanout**: ${fanout.subscribers ?? env.BENCH_SUBSCRIBERS} subscribers \`join_channel\` one channel, ${fanout.publishers ?? 1} publisher sends ${fanout.size ?? 64}-byte \`send_message\` contents for ${env.BENCH_DURATION ?? '?'} s flat out, keeping ${fanout.window ?? '?'} messages in flight (a message leaves the window when every subscriber has it). Latency is end to end, from the send time written in the content to its arrival at each subscriber.`);
out.push('- **fanout-20**: the same at a fixed 20 messages/s: latency when the server is not saturated.');
out.push('- **cross**: fanout with the subscribers spread over two workers sharing one Redis (the gateway with `bus-redis`, the peer with `@socket.io/redis-adapter`); the publisher is on the first worker.');
out.push(`- **fanout10x100**: the shape of a busy chat room: ${chat.publishers ?? 10} publishers send into one channel of ${chat.subscribers ?? 100} subscribers flat out, each keeping ${chat.window ?? 32} messages in flight; **cross10x100** the same with the subscribers over two workers and Redis. CPU per delivery is the server's user and system CPU time over the measured part (from \`/proc/<pid>/stat\`; both workers and Redis for the cross cases) divided by the deliveries.`);
out.push(`- **rooms**: the shape of many small conversations: ${rooms.connections ?? env.BENCH_ROOMS_CONNECTIONS ?? '?'} connections in channels of ${rooms.room_size ?? 10} (every member joined; ${rooms.channels_per_server ?? 10} channels to a server, the token's membership), each connection sending one message every ${rooms.period_s ?? 10} s (a \`typing_start\` one second before it, which the message ends), spread evenly, and changing its status (\`presence_set\`) once every ${rooms.presence_period_s ?? 300} s, for ${env.BENCH_ROOMS_DURATION ?? '?'} s. Every message reaches its ${rooms.room_size ?? 10} members (the sender too); typing reaches the other members, presence the ${(rooms.room_size ?? 10) * (rooms.channels_per_server ?? 10)} members of the server. CPU per delivered event is the server's CPU time over the measured part divided by every event delivered. **rooms-cross**: the same over two workers and Redis, connections alternating between them. The peer implements \`typing_start\`, \`typing_stop\` and \`presence_set\` the way a Socket.IO application would (per-worker typing timers, no shared state).`);
out.push('- **token**: `POST /api/realtime/token` with the API key over 16 keep-alive connections.');
out.push('');
out.push('Every run checks deliveries: expected (sent × subscribers) against received; a loss, a refused message or a dropped connection fails the run.');
const failedRuns = runs.filter((r) => r.exit !== 0);
let lost = 0;
for (const r of runs) lost += r.result?.losses ?? 0;
out.push(`In this run: ${runs.length} runs, ${failedRuns.length} failed, ${lost} deliveries lost.`);
for (const r of failedRuns) {
  out.push(`- ${r.target} ${r.case} round ${r.round}: exit ${r.exit}${r.result?.error ? `, ${r.result.error}` : ''}`);
}
out.push('');

const cpus = os.cpus();
out.push('## Conditions');
out.push('');
out.push(`- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; load average before → after: ${env.BENCH_LOAD ?? '?'}.`);
out.push('- Each server (and Redis) pinned to core 0 with `taskset -c 0`, the load tool to core 1; loopback only. The gateway and the peer run one after the other, never together, and every case starts a fresh server (two workers and a flushed Redis for cross).');
out.push('- Gateway: the default `conf.d` with `max_connections = 15000`, `inbound_rate = 0` (the default per-socket limit of 120 events/10 s would disconnect a publisher sending flat out), `log_level = warn`; build type ' + (sh('grep', ['-m1', '^CMAKE_BUILD_TYPE', path.join(path.dirname(env.BENCH_GATEWAY_BIN ?? ''), 'CMakeCache.txt')]).split('=')[1] ?? 'unknown') + `; libevent ${sh('pkg-config', ['--modversion', 'libevent'])}, hiredis ${sh('pkg-config', ['--modversion', 'hiredis'])}, libjwt ${sh('pkg-config', ['--modversion', 'libjwt'])}.`);
out.push(`- Peer: Node ${process.version}, socket.io ${pkgVersion('socket.io')}, @socket.io/redis-adapter ${pkgVersion('@socket.io/redis-adapter')}, redis ${pkgVersion('redis')}, jsonwebtoken ${pkgVersion('jsonwebtoken')}; default server options (WebSocket and polling allowed, no per-message deflate).`);
out.push(`- Redis: ${sh('redis-server', ['--version']).replace(/ sha=.*$/, '')}, no persistence.`);
out.push('- The machine may be shared: other work running at the same time makes the numbers noisy (see the load average and the min–max spread).');
out.push('');
out.push('Reproduce: `bench/run` (full, ≤ 15 minutes, writes this file) or `bench/run --smoke` (tiny sizes, under a minute, non-zero exit on any error or loss). One scenario by hand: `build/bench/loadgen fanout --url http://127.0.0.1:8080 --secret "$REALTIME_JWT_SECRET" --api-key "$REALTIME_API_KEY" --subscribers 1000`; `loadgen --help` lists the options.');
out.push('');
out.push(marker);

let tail = '';
if (fs.existsSync(outPath)) {
  const old = fs.readFileSync(outPath, 'utf8');
  const at = old.indexOf(marker);
  if (at >= 0) tail = old.slice(at + marker.length);
}
fs.writeFileSync(outPath, out.join('\n') + (tail || '\n'));
