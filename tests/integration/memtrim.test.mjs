// After a burst (here a presence fan-out: 400 users of one server connecting,
// each announced to all already there), the worker returns its free heap
// memory to the system once it is quiet again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, until, plainBinary, rssBytes } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected } from './lib/client.mjs';

async function trims(d) {
  const r = await http(d, 'GET', '/metrics');
  const m = /^superbot_memory_trims_total (\d+)$/m.exec(r.body);
  assert.ok(m, 'superbot_memory_trims_total is on /metrics');
  return Number(m[1]);
}

test('a quiet worker after a burst returns free heap memory', async () => {
  const d = await startDaemon({ env: { REALTIME_LOG_LEVEL: 'warn' } });
  const sockets = [];
  try {
    // Idle: nothing to give back, no trim.
    await delay(1200);
    assert.equal(await trims(d), 0);
    const before = rssBytes(d.proc.pid);
    const n = 400;
    for (let i = 0; i < n; i += 50) {
      const batch = [];
      for (let k = i; k < i + 50; k++) {
        const s = client(d, { token: realtimeToken({ sub: `burst-${k}`, servers: ['big'] }), transports: ['websocket'] });
        sockets.push(s);
        batch.push(connected(s));
      }
      await Promise.all(batch);
    }
    await until('a trim after the burst', async () => (await trims(d)) >= 1, 5000);
    // The fan-out queued about n * n / 2 presence updates; what stays is the
    // connections themselves (a few KB each), not the burst's peak.
    if (!plainBinary()) return; // valgrind and ASan keep freed memory on purpose
    const perConnection = (rssBytes(d.proc.pid) - before) / n;
    assert.ok(perConnection < 16384, `RSS grew ${Math.round(perConnection)} bytes per connection`);
  } finally {
    for (const s of sockets) s.close();
    await d.stop();
  }
});
