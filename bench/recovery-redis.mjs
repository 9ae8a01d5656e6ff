// What connection state recovery costs Redis, with the stock socket.io-client
// on one worker with bus-redis: Redis's used_memory growth per idle connected
// client (recovery off, then on: each user's own presence_update is one
// logged event in its server room's log), and the size Redis gives a lost
// client's session key, a room log with one event, and one with 1,000.
//
//   node bench/recovery-redis.mjs [--connections 1000] [--build build]
// (run from the repository root; needs redis-server and the test
// dependencies in tests/integration: npm ci there).  Prints JSON lines.
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const N = Number(args.connections || 1000);
const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
process.env.SBR_BUILD_DIR ||= path.join(ROOT, args.build || 'build');
const { startDaemon, http, apiKeyHeader, waitRedisConnected } = await import('../tests/integration/lib/daemon.mjs');
const { startRedis } = await import('../tests/integration/lib/redis.mjs');
const { realtimeToken } = await import('../tests/integration/lib/jwt.mjs');
const { io } = createRequire(path.join(ROOT, 'tests/integration/package.json'))('socket.io-client');

const used = async (redis) => {
  await delay(500);
  const info = await redis.command('INFO', 'memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
};

async function connectAll(d, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 100); k++) {
      const s = io(d.url, { transports: ['websocket'], forceNew: true, reconnection: false,
        auth: { token: realtimeToken({ sub: `r-${k}`, servers: [`own-${k}`] }) } });
      sockets.push(s);
      batch.push(new Promise((resolve, reject) => { s.once('ready', resolve); s.once('connect_error', reject); }));
    }
    await Promise.all(batch);
  }
  return sockets;
}

async function run(window) {
  const redis = await startRedis();
  const d = await startDaemon({ env: { REALTIME_REDIS_URL: redis.url, REALTIME_LOG_LEVEL: 'warn',
    REALTIME_RECOVERY_WINDOW_SECONDS: window } });
  const out = { recovery_window_seconds: window, connections: N };
  try {
    await waitRedisConnected(d);
    const base = await used(redis);
    const sockets = await connectAll(d, N);
    const connected = await used(redis);
    out.redis_bytes_per_idle_connection = Math.round((connected - base) / N);
    if (window) {
      // Lost, not closed: each saves its session for the window.
      for (const s of sockets) s.io.engine.transport.ws._socket.destroy();
      await delay(1000);
      // One of each, as Redis accounts a key (used_memory's growth is
      // blurred here by the presence entries the losses rewrite).
      const [session] = await redis.command('KEYS', 'superbot-realtime:kv:recovery:session:*');
      out.redis_bytes_one_session_key = await redis.command('MEMORY', 'USAGE', session);
      out.redis_bytes_one_room_log_one_event = await redis.command('MEMORY', 'USAGE',
        'superbot-realtime:{rlog}:room:server:own-1');
      // Room events: 1,000 messages to a channel nobody is in.
      await http(d, 'PUT', '/api/realtime/channels/bench', { body: { server_id: 'own-0' }, headers: apiKeyHeader() });
      const before = await used(redis);
      for (let i = 0; i < 1000; i++) {
        await http(d, 'POST', '/api/realtime/publish', { body: { room: 'channel:bench', event: 'message_created',
          data: { id: String(i), content: 'x'.repeat(64) } }, headers: apiKeyHeader() });
      }
      out.redis_bytes_per_logged_event_64b = Math.round((await used(redis) - before) / 1000);
      out.redis_bytes_room_log_1000_events = await redis.command('MEMORY', 'USAGE',
        'superbot-realtime:{rlog}:room:channel:bench', 'SAMPLES', '0');
    }
    for (const s of sockets) s.close();
  } finally {
    await d.stop();
    await redis.cleanup();
  }
  console.log(JSON.stringify(out));
}

await run(0);
await run(120);
