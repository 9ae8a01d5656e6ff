// The cost of serving a session from a worker that does not own it.
//
// Two workers share a Redis; every session is opened on worker A.  Each
// sample is one Engine.IO round trip on an idle session: the client sends a
// ping packet ("2") and waits for the server's pong ("3").
//   polling:   a GET is held, the POST carries "2", the GET returns "3"
//              (POST + GET), both to A (local) or both to B (forwarded);
//   websocket: the session upgraded through A (local) or through B (the
//              connection relayed to A), then "2" -> "3" over the socket.
// Prints one JSON line per case and a table: median and p99 in microseconds.
//
//   node bench/forward-latency.mjs [--samples 2000] [--build build]
// (run from the repository root; needs redis-server, and the test
// dependencies installed in tests/integration: npm ci there).
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const SAMPLES = Number(args.samples || 2000);
const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
process.env.SBR_BUILD_DIR ||= path.join(ROOT, args.build || 'build');
const { startDaemon } = await import('../tests/integration/lib/daemon.mjs');
const { startRedis } = await import('../tests/integration/lib/redis.mjs');
const WebSocket = createRequire(path.join(ROOT, 'tests/integration/package.json'))('ws');

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function call(url, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { 'content-type': 'text/plain' } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function open(base) {
  const r = await call(`${base}/socket.io/?EIO=4&transport=polling`);
  return JSON.parse(r.body.slice(1)).sid;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { samples: s.length, median_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)) };
}

async function pollingCase(owner, via) {
  const sid = await open(owner.url);
  const url = `${via.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const out = [];
  for (let i = 0; i < SAMPLES + 100; i++) {
    const t0 = process.hrtime.bigint();
    const get = call(url);
    const post = await call(url, 'POST', '2');
    if (post.status !== 200 || post.body !== 'ok') throw new Error(`POST: ${post.status} ${post.body}`);
    const got = await get;
    if (got.status !== 200) throw new Error(`GET: ${got.status} ${got.body}`);
    const t1 = process.hrtime.bigint();
    // The server's own heartbeat ping may come first: answer it, drop the sample.
    if (got.body.split('\x1e').includes('2')) { await call(url, 'POST', '3'); continue; }
    if (i >= 100) out.push(Number(t1 - t0) / 1000);
  }
  await call(url, 'POST', '1');
  return stats(out);
}

async function websocketCase(owner, via) {
  const sid = await open(owner.url);
  const ws = new WebSocket(`${via.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
  const queue = [];
  let waiter = null;
  ws.on('message', (m) => { queue.push(m.toString()); if (waiter) { waiter(); waiter = null; } });
  const next = async () => { while (!queue.length) await new Promise((r) => { waiter = r; }); return queue.shift(); };
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send('2probe');
  if ((await next()) !== '3probe') throw new Error('no 3probe');
  ws.send('5');
  const out = [];
  for (let i = 0; i < SAMPLES + 100; i++) {
    const t0 = process.hrtime.bigint();
    ws.send('2');
    let m = await next();
    while (m !== '3') { if (m === '2') ws.send('3'); m = await next(); }
    const t1 = process.hrtime.bigint();
    if (i >= 100) out.push(Number(t1 - t0) / 1000);
  }
  ws.close();
  return stats(out);
}

const redis = await startRedis();
const env = { REALTIME_REDIS_URL: redis.url, REALTIME_LOG_LEVEL: 'warn' };
const a = await startDaemon({ env });
const b = await startDaemon({ env });
try {
  for (const w of [a, b]) {
    const end = Date.now() + 10000;
    while ((await (await fetch(`${w.url}/healthz`)).json()).bus !== 'connected') {
      if (Date.now() > end) throw new Error('worker never reached Redis');
      await delay(20);
    }
  }
  const end = Date.now() + 10000;
  while ((await redis.command('KEYS', '*eio:worker:*')).length < 2) {
    if (Date.now() > end) throw new Error('workers never advertised their addresses');
    await delay(20);
  }
  const rows = [];
  for (const [name, fn] of [['polling', pollingCase], ['websocket', websocketCase]]) {
    for (const [where, via] of [['local', a], ['forwarded', b]]) {
      const r = { case: name, path: where, ...(await fn(a, via)) };
      console.log(JSON.stringify(r));
      rows.push(r);
    }
  }
  console.error('case       path       median_us  p99_us');
  for (const r of rows)
    console.error(`${r.case.padEnd(10)} ${r.path.padEnd(10)} ${String(r.median_us).padStart(9)} ${String(r.p99_us).padStart(7)}`);
} finally {
  agent.destroy();
  await a.stop();
  await b.stop();
  await redis.cleanup();
}
