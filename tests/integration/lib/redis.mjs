// A private redis-server for a test: loopback, a free port, a temp dir, no
// persistence; readiness by polling its port; stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './daemon.mjs';
import { startRedisCluster, startSentinelSet, topologyMissing } from './redis-topologies.mjs';

// SBR_TEST_REDIS=cluster or sentinel: the multi-worker tests run on a
// cluster of three masters or on a sentinel set instead of one server
// (ctest label cluster, sentinel).
const TOPOLOGY = process.env.SBR_TEST_REDIS || 'single';

// Why Redis tests cannot run here (a string for `test(..., { skip })`), or false.
export function redisMissing() {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return 'redis-server is not installed (apt-get install redis-server)';
  return TOPOLOGY === 'single' ? false : topologyMissing(TOPOLOGY);
}

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

// Parse one RESP reply at buf[i]; returns [value, next index] or null when incomplete.
function parseReply(buf, i = 0) {
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  if (type === '+') return [line, eol + 2];
  if (type === '-') return [new Error(line), eol + 2];
  if (type === ':') return [Number(line), eol + 2];
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return [null, eol + 2];
    if (buf.length < eol + 2 + n + 2) return null;
    return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return [null, eol + 2];
    const out = [];
    let at = eol + 2;
    for (let k = 0; k < n; k++) {
      const r = parseReply(buf, at);
      if (!r) return null;
      out.push(r[0]);
      at = r[1];
    }
    return [out, at];
  }
  throw new Error(`bad RESP type ${type}`);
}

// One command on a fresh connection; resolves with the reply (an Error for -ERR).
export function redisCommand(port, args, { password } = {}) {
  const encode = (a) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let skip = password ? 1 : 0;
    const timer = setTimeout(() => { s.destroy(); reject(new Error('redis command timed out')); }, 5000);
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('connect', () => s.write((password ? encode(['AUTH', password]) : '') + encode(args)));
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let at = 0;
      for (;;) {
        const r = parseReply(buf, at);
        if (!r) break;
        at = r[1];
        if (skip) { skip--; continue; }
        clearTimeout(timer);
        s.destroy();
        resolve(r[0]);
        return;
      }
    });
  });
}

// Returns { port, url, start(), stop(), cleanup(), command(...args) }; start() after stop() reuses the port.
// persist: keep the data across stop()/start() (append-only file), as a
// production Redis would; port: a fixed port (default: a free one).
export async function startRedis({ password, persist = false, port: fixedPort } = {}) {
  if (TOPOLOGY === 'cluster') return startRedisCluster({ password });
  if (TOPOLOGY === 'sentinel') return startSentinelSet({ password });
  const port = fixedPort || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-redis-'));
  const r = {
    port,
    dir,
    url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}/0`,
    proc: null,
    log: '',
  };
  r.start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', persist ? 'yes' : 'no',
      '--dir', dir];
    if (password) args.push('--requirepass', password);
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    r.proc = proc;
    proc.stdout.on('data', (b) => { r.log += b; });
    proc.stderr.on('data', (b) => { r.log += b; });
    r.exited = new Promise((resolve) => proc.on('exit', resolve));
    const end = Date.now() + 10000;
    while (!(await accepts(port))) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited:\n${r.log}`);
      if (Date.now() > end) { proc.kill('SIGKILL'); throw new Error(`redis-server not ready in 10 s:\n${r.log}`); }
      await delay(20);
    }
  };
  r.stop = async () => {
    if (!r.proc || r.proc.exitCode !== null) return;
    r.proc.kill('SIGTERM');
    const done = await Promise.race([r.exited.then(() => true), delay(10000).then(() => false)]);
    if (!done) { r.proc.kill('SIGKILL'); await r.exited; }
  };
  r.command = (...args) => redisCommand(port, args, { password });
  r.cleanup = async () => {
    await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  await r.start();
  return r;
}
