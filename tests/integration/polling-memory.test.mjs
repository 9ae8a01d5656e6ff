// Memory of long-polling flushes: many sessions with thousands of small
// packets queued each, all collected by simultaneous GETs.  The worker's
// peak resident memory may grow by a small multiple of the bytes queued
// (each answer is one copy of its queue), not by a per-packet overhead.
// Also: outbound_buffer_max bounds what a polling session may hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startDaemon, apiKeyHeader, http as call, plainBinary, rssBytes } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';

const SESSIONS = Number(process.env.POLLING_MEMORY_SESSIONS || 500);
const PACKETS = Number(process.env.POLLING_MEMORY_PACKETS || 1500);

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(60000, () => req.destroy(new Error('GET timed out')));
    req.on('error', reject);
    req.end();
  });
}

function post(port, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A polling session in room server:pm, connected, its queue drained; returns its path.
async function session(d, i) {
  const base = '/socket.io/?EIO=4&transport=polling';
  const open = await get(d.port, base);
  const sid = JSON.parse(open.text.slice(1)).sid;
  const path = `${base}&sid=${sid}`;
  assert.equal(await post(d.port, path, `40${JSON.stringify({ token: realtimeToken({ sub: `pm${i}`, servers: ['pm'] }) })}`), 200);
  let text = '';
  while (!text.includes('"ready"')) text += (await get(d.port, path)).text;
  return path;
}

const hwmBytes = (pid) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

test('simultaneous polling flushes: peak memory grows a small multiple of the bytes queued', async (t) => {
  if (!plainBinary()) {
    t.skip('not a plain daemon binary (wrapper or sanitizer build)');
    return;
  }
  const d = await startDaemon({
    env: { REALTIME_PING_INTERVAL_MS: 120000, REALTIME_PING_TIMEOUT_MS: 60000 },
    // Presence would add its own packets; the queue is only what is published here.
    drop: ['40-presence.conf'],
  });
  try {
    const paths = [];
    for (let i = 0; i < SESSIONS; i += 50) {
      paths.push(...await Promise.all(Array.from({ length: Math.min(50, SESSIONS - i) }, (_, k) => session(d, i + k))));
    }
    const base = rssBytes(d.proc.pid);
    // Reset the peak (VmHWM) to the current resident size.
    fs.writeFileSync(`/proc/${d.proc.pid}/clear_refs`, '5');
    const data = { text: 'x'.repeat(40) };
    for (let i = 0; i < PACKETS; i++) {
      const r = await call(d, 'POST', '/api/realtime/publish', { headers: apiKeyHeader(), body: { room: 'server:pm', event: 'e', data: { ...data, i } } });
      assert.equal(r.status, 200);
    }
    const answers = await Promise.all(paths.map((p) => get(d.port, p)));
    const queued = answers.reduce((n, a) => n + Buffer.byteLength(a.text), 0);
    for (const a of answers) {
      assert.equal(a.status, 200);
      const packets = a.text.split('\x1e');
      assert.equal(packets.length, PACKETS, 'every packet in one answer');
      assert.equal(packets[PACKETS - 1], `42["e",{"text":"${data.text}","i":${PACKETS - 1}}]`);
    }
    const growth = hwmBytes(d.proc.pid) - base;
    console.log(`# ${SESSIONS} sessions x ${PACKETS} packets: ${(queued / 1048576).toFixed(1)} MiB queued, peak RSS growth ${(growth / 1048576).toFixed(1)} MiB (${(growth / queued).toFixed(2)}x)`);
    assert.ok(growth < 6 * queued, `peak growth ${growth} bytes for ${queued} bytes queued`);
  } finally {
    agent.destroy();
    assert.equal((await d.stop()).code, 0, d.log);
  }
});

test('outbound_buffer_max bounds what a polling session may hold', async () => {
  const core = fs.readFileSync(new URL('../../conf.d/10-core.conf', import.meta.url), 'utf8')
    .replace(/^outbound_buffer_max = .*$/m, 'outbound_buffer_max = 65536');
  const d = await startDaemon({ files: { '10-core.conf': core }, drop: ['40-presence.conf'] });
  const a = new http.Agent({ keepAlive: true });
  try {
    const path = await session(d, 'cap');
    for (let i = 0; i < 400; i++) {
      await call(d, 'POST', '/api/realtime/publish', { headers: apiKeyHeader(), body: { room: 'server:pm', event: 'e', data: { text: 'y'.repeat(200), i } } });
    }
    await d.waitLog(/slow consumer/);
    assert.match((await call(d, 'GET', '/metrics')).body, /^superbot_slow_consumer_disconnects_total 1$/m);
    // The session is closing: its next GET gets what was queued (no more
    // than the cap), the one after that the close packet, then it is gone.
    const last = await get(d.port, path);
    assert.equal(last.status, 200);
    assert.ok(Buffer.byteLength(last.text) <= 65536 + 512, `${Buffer.byteLength(last.text)} bytes held`);
    assert.deepEqual(await get(d.port, path), { status: 200, text: '1' });
    assert.equal((await call(d, 'GET', '/healthz')).body.connections, 0);
    assert.equal((await get(d.port, path)).status, 400, 'the session is gone');
  } finally {
    a.destroy();
    assert.equal((await d.stop()).code, 0, d.log);
  }
});
