// Start the real daemon for a test: a temp conf.d made from the repo's
// (minus what the test drops, plus what it adds), a free loopback port,
// readiness by polling /healthz, SIGTERM at the end.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const SOURCE_DIR = process.env.SBR_SOURCE_DIR || path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const BUILD_DIR = process.env.SBR_BUILD_DIR || path.join(SOURCE_DIR, 'build');
export const BINARY = process.env.SBR_BINARY || path.join(BUILD_DIR, 'superbot-realtime');

// 1 if BINARY is the daemon itself, built without a sanitizer: only then do
// RSS figures mean what they say (a valgrind wrapper or ASan's allocator
// keeps freed memory on purpose).
export function plainBinary() {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(BINARY, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  return head.toString('latin1') === '\x7fELF' && !/libasan/.test(spawnSync('ldd', [BINARY]).stdout?.toString() || '');
}

// A process's resident memory (VmRSS), in bytes.
export const rssBytes = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

export const TEST_ENV = {
  REALTIME_JWT_SECRET: 'test-realtime-secret-0123456789abcdef',
  SECRET_KEY: 'test-app-secret-0123456789abcdef',
  REALTIME_API_KEY: 'test-api-key-0123456789abcdef',
};

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Options:
//   env:      extra environment (merged over TEST_ENV; null values unset)
//   drop:     conf.d file names to leave out (e.g. ['30-bus-redis.conf'])
//   files:    { '80-extra.conf': 'plugin = x\n...' } added to conf.d
//   confDir:  use this conf dir as the base instead of the repo's conf.d
//   port:     fixed port (default: a free one)
//   args:     extra daemon arguments
//   binary:   the daemon to run (default: BINARY, the build's)
//   noConfArg: true to pass no `-c`: the daemon finds its default conf.d
//   cwd:      the daemon's working directory (default: the temp dir, which holds conf.d)
//   ready:    false to return without waiting for /healthz (for start-up failures)
export async function startDaemon(opts = {}) {
  const port = opts.port || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-test-'));
  const confDir = path.join(dir, 'conf.d');
  fs.mkdirSync(confDir);
  const base = opts.confDir || path.join(SOURCE_DIR, 'conf.d');
  for (const name of fs.readdirSync(base)) {
    if ((opts.drop || []).includes(name)) continue;
    fs.copyFileSync(path.join(base, name), path.join(confDir, name));
  }
  for (const [name, text] of Object.entries(opts.files || {})) {
    fs.writeFileSync(path.join(confDir, name), text);
  }
  const env = { ...process.env, ...TEST_ENV, REALTIME_LISTEN: `127.0.0.1:${port}` };
  delete env.REALTIME_REDIS_URL;
  for (const [k, v] of Object.entries(opts.env || {})) {
    if (v === null || v === undefined) delete env[k]; else env[k] = String(v);
  }
  // opts.launcher: a command the daemon runs under ('prlimit', '--nofile=64:64').
  const launcher = opts.launcher || [];
  const binary = opts.binary || BINARY;
  const proc = spawn(launcher[0] || binary, [...launcher.slice(1), ...(launcher.length ? [binary] : []),
    ...(opts.noConfArg ? [] : ['-c', confDir]), ...(opts.args || [])], {
    cwd: opts.cwd || dir, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const d = {
    port, dir, confDir, proc, url: `http://127.0.0.1:${port}`, log: '',
    exited: null,
  };
  proc.stdout.on('data', (b) => { d.log += b; });
  proc.stderr.on('data', (b) => { d.log += b; if (process.env.SBR_TEST_VERBOSE) process.stderr.write(b); });
  d.exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
    d.exited = { code, signal };
    resolve(d.exited);
  }));
  d.stop = async (signal = 'SIGTERM', timeoutMs = 15000) => {
    if (!d.exited) proc.kill(signal);
    const res = await Promise.race([d.exitPromise, delay(timeoutMs, null, { ref: false })]);
    if (!res) { proc.kill('SIGKILL'); await d.exitPromise; throw new Error(`daemon did not exit within ${timeoutMs} ms after ${signal}\n${d.log}`); }
    fs.rmSync(dir, { recursive: true, force: true });
    return res;
  };
  d.waitLog = async (re, timeoutMs = 10000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (re.test(d.log)) return true;
      await delay(20);
    }
    throw new Error(`log never matched ${re}\n${d.log}`);
  };
  if (opts.ready === false) return d;
  const end = Date.now() + 15000;
  for (;;) {
    if (d.exited) throw new Error(`daemon exited during start-up (${JSON.stringify(d.exited)}):\n${d.log}`);
    try {
      const r = await fetch(`${d.url}/healthz`);
      if (r.status === 200) { await r.arrayBuffer(); break; }
    } catch { /* not listening yet */ }
    if (Date.now() > end) { proc.kill('SIGKILL'); throw new Error(`daemon not ready in 15 s:\n${d.log}`); }
    await delay(25);
  }
  return d;
}

// Stop every daemon given (null and exited ones skipped), all of them even
// when one of them fails to stop, so that an assertion on one exit never
// leaves another running (and the test hanging); then throws the first
// failure. Returns [daemon, { code, signal }] pairs for the caller to check.
export async function stopAll(daemons) {
  const results = [];
  let failure = null;
  for (const d of daemons) {
    if (!d || d.exited) continue;
    try {
      results.push([d, await d.stop()]);
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure) throw failure;
  return results;
}

// Call an HTTP endpoint; returns { status, headers, body (parsed JSON or text) }.
export async function http(d, method, pathName, { body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) init.body = raw;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  let r;
  try {
    r = await fetch(d.url + pathName, init);
  } catch (err) {
    // A pooled keep-alive connection the server closed for idleness just as
    // it was reused: retry an idempotent request once, as browsers do.
    if (err.cause?.code !== 'UND_ERR_SOCKET' || !['GET', 'HEAD', 'PUT'].includes(method)) throw err;
    r = await fetch(d.url + pathName, init);
  }
  const text = await r.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body: parsed };
}

export const apiKeyHeader = () => ({ authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` });

// Poll fn (sync or async) every 20 ms until it returns something truthy,
// which is returned; throw after timeoutMs naming `what`.
export async function until(what, fn, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

// Wait until the daemon's /healthz says its bus reaches Redis.
export async function waitRedisConnected(d, timeoutMs = 10000) {
  await until(`${d.url} to reach Redis`, async () => (await http(d, 'GET', '/healthz')).body.bus === 'connected',
    timeoutMs);
}
