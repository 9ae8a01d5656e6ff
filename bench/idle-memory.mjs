// Idle memory per connection with the stock socket.io-client, as a browser
// app would connect, rather than with bench/loadgen: the gateway's RSS growth
// per connection, WebSocket only and polling-then-upgrade, with tokens that
// name no server, one server per user (as loadgen connect), or one server for
// everybody (each arrival announced to all members already online: a
// presence fan-out of n²/2 updates, after which the worker returns the freed
// heap to the system; at most 2,000 connections there, 2 M updates, which one
// Node client process takes a while to read).
//
//   node bench/idle-memory.mjs [--connections 4000] [--build build] [--recovery 120]
// (--recovery: connection state recovery on, with that window in seconds)
// (run from the repository root; needs the test dependencies installed in
// tests/integration: npm ci there).  Prints one JSON line per case and a table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const N = Number(args.connections || 4000);
const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
process.env.SBR_BUILD_DIR ||= path.join(ROOT, args.build || 'build');
const { startDaemon, rssBytes: rss } = await import('../tests/integration/lib/daemon.mjs');
const { realtimeToken } = await import('../tests/integration/lib/jwt.mjs');
const { io } = createRequire(path.join(ROOT, 'tests/integration/package.json'))('socket.io-client');

// The shipped conf.d with room for N connections.
const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-idle-'));
for (const name of fs.readdirSync(path.join(ROOT, 'conf.d'))) {
  let text = fs.readFileSync(path.join(ROOT, 'conf.d', name), 'utf8');
  if (name === '10-core.conf') text = text.replace(/^max_connections *=.*$/m, `max_connections = ${N + 1000}`);
  fs.writeFileSync(path.join(confDir, name), text);
}

async function measure(n, transports, servers) {
  const d = await startDaemon({
    confDir, env: { REALTIME_LOG_LEVEL: 'warn', REALTIME_RECOVERY_WINDOW_SECONDS: args.recovery || 0 },
  });
  const sockets = [];
  try {
    await delay(300);
    const before = rss(d.proc.pid);
    for (let i = 0; i < n; i += 100) {
      const batch = [];
      for (let k = i; k < Math.min(n, i + 100); k++) {
        const s = io(d.url, {
          transports, forceNew: true, reconnection: false,
          query: { token: realtimeToken({ sub: `idle-${k}`, servers: servers(k) }) },
        });
        sockets.push(s);
        batch.push(new Promise((resolve, reject) => { s.once('connect', resolve); s.once('connect_error', reject); }));
      }
      await Promise.all(batch);
    }
    // Upgrades finish, the fan-out drains, the worker goes quiet.
    await delay(3000);
    const upgraded = sockets.filter((s) => s.io.engine.transport.name === 'websocket').length;
    return { bytes_per_connection: Math.round((rss(d.proc.pid) - before) / n), upgraded };
  } finally {
    for (const s of sockets) s.close();
    await d.stop();
  }
}

const cases = [
  ['websocket', 'no server', N, ['websocket'], () => []],
  ['polling, then upgrade', 'no server', N, ['polling', 'websocket'], () => []],
  ['websocket', 'a server each', N, ['websocket'], (k) => [`own-${k}`]],
  ['websocket', 'one server for all', Math.min(N, 2000), ['websocket'], () => ['everyone']],
];
const rows = [];
try {
  for (const [transport, servers, n, transports, pick] of cases) {
    const r = await measure(n, transports, pick);
    const line = { connections: n, transport, servers, ...r };
    console.log(JSON.stringify(line));
    rows.push(line);
  }
} finally {
  fs.rmSync(confDir, { recursive: true, force: true });
}
console.log('transport              servers             connections  bytes/connection');
for (const r of rows) {
  console.log(`${r.transport.padEnd(22)} ${r.servers.padEnd(19)} ${String(r.connections).padStart(11)}  ${String(r.bytes_per_connection).padStart(16)}`);
}
