// The core daemon end to end: built-in endpoints, routing, errors, limits,
// CORS, plugin hooks, start-up refusals, --check-config, .env, SIGHUP and
// SIGTERM.  Plugins come from the fixture probe (tests/fixtures/probe.c).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, http, BINARY, BUILD_DIR, SOURCE_DIR, TEST_ENV, apiKeyHeader, until } from './lib/daemon.mjs';
import { client, connected, request } from './lib/client.mjs';

const FIXTURES = path.join(BUILD_DIR, 'tests', 'fixtures');
const probeConf = (extra = '') => `plugin = probe\npath = ${FIXTURES}/probe.so\n${extra}`;

// A conf.d holding only the core file, as the base of each daemon.
function coreOnlyDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-core-base-'));
  fs.copyFileSync(path.join(SOURCE_DIR, 'conf.d', '10-core.conf'), path.join(dir, '10-core.conf'));
  return dir;
}

describe('running daemon', () => {
  let d;
  let base;
  before(async () => {
    base = coreOnlyDir();
    d = await startDaemon({ confDir: base, files: { '50-probe.conf': probeConf('label = before\n') } });
  });
  after(async () => {
    if (d && !d.exited) await d.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('GET /healthz', async () => {
    const r = await http(d, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /application\/json/);
    assert.deepEqual(r.body, { status: 'ok', bus: 'disabled', redis: 'disabled', connections: 0, plugins: ['probe'] });
  });

  test('GET /metrics is Prometheus text', async () => {
    await http(d, 'GET', '/healthz');
    const r = await http(d, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.match(r.body, /^# TYPE superbot_connections gauge$/m);
    assert.match(r.body, /^superbot_connections \d+$/m);
    assert.match(r.body, /^superbot_bus_state 0$/m);
    assert.match(r.body, /^superbot_plugins_loaded 1$/m);
    assert.match(r.body, /^superbot_received_events_total \d+$/m);
    assert.match(r.body, /^superbot_http_requests_total\{route="\/healthz",status="200"\} \d+$/m);
    assert.match(r.body, /^superbot_plugin_info\{name="probe",version="1.0.0"\} 1$/m);
  });

  test('unknown route: 404 JSON', async () => {
    for (const p of ['/nope', '/', '/probe', '/probe/counts/extra', '/%00', '/probe/echo/']) {
      const r = await http(d, 'GET', p);
      assert.equal(r.status, 404, p);
      assert.deepEqual(r.body, { error: 'not_found' }, p);
    }
  });

  test('wrong method: 405 JSON with Allow', async () => {
    const r = await http(d, 'DELETE', '/probe/counts');
    assert.equal(r.status, 405);
    assert.deepEqual(r.body, { error: 'method_not_allowed' });
    assert.equal(r.headers.get('allow'), 'GET');
    const h = await http(d, 'POST', '/healthz', { body: {} });
    assert.equal(h.status, 405);
    assert.deepEqual(h.body, { error: 'method_not_allowed' });
  });

  test('route parameters, headers, body and the api key', async () => {
    const r = await http(d, 'POST', '/probe/echo/a%20b', {
      body: { x: [1, 2] }, headers: { 'x-probe': 'yes', ...apiKeyHeader() },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { id: 'a b', method: 'POST', body: { x: [1, 2] }, x_probe: 'yes', api_key: true });
    const bad = await http(d, 'POST', '/probe/echo/1', { body: {}, headers: { authorization: 'Bearer wrong' } });
    assert.equal(bad.body.api_key, false);
    const none = await http(d, 'POST', '/probe/echo/1', { body: {} });
    assert.equal(none.body.api_key, false);
  });

  test('malformed body: the plugin answers 400 JSON', async () => {
    const r = await http(d, 'POST', '/probe/echo/1', { raw: '{"unterminated": ', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'invalid_json' });
  });

  test('oversize body: 413 JSON', async () => {
    const r = await http(d, 'POST', '/probe/echo/1', { raw: 'x'.repeat(1048576 + 10) });
    assert.equal(r.status, 413);
    assert.deepEqual(r.body, { error: 'payload_too_large' });
    const ok = await http(d, 'GET', '/healthz');
    assert.equal(ok.status, 200);
  });

  test('oversize headers: 431 JSON', async () => {
    const r = await http(d, 'GET', '/healthz', { headers: { 'x-big': 'y'.repeat(20000) } });
    assert.equal(r.status, 431);
    assert.deepEqual(r.body, { error: 'request_header_fields_too_large' });
  });

  test('a handler may answer later', async () => {
    const r = await http(d, 'GET', '/probe/later');
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('x-probe-late'), 'yes');
    assert.deepEqual(r.body, { late: true });
  });

  test('CORS: headers and preflight', async () => {
    const r = await http(d, 'GET', '/healthz', { headers: { origin: 'https://app.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const p = await fetch(`${d.url}/probe/echo/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(p.status, 204);
    assert.equal(p.headers.get('access-control-allow-origin'), '*');
    assert.match(p.headers.get('access-control-allow-methods'), /POST/);
    assert.equal(p.headers.get('access-control-allow-headers'), 'authorization, content-type');
  });

  test('bus publish reaches local subscribers on a later loop turn', async () => {
    const before = (await http(d, 'GET', '/probe/counts')).body.bus_messages;
    const r = await http(d, 'POST', '/probe/publish', { body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 0);
    await until('the probe\'s counts', async () => (await http(d, 'GET', '/probe/counts')).body.bus_messages === before + 1);
  });

  test('Socket.IO clients run the hook chains', async () => {
    const c = client(d);
    await connected(c);
    const counts = await until('the probe\'s counts', async () => {
      const b = (await http(d, 'GET', '/probe/counts')).body;
      return b.connected >= 1 ? b : null;
    });
    assert.ok(counts.connect >= 1);
    const ack = await request(c, 'anything', { a: 1 });
    assert.deepEqual(ack, { ok: false, error: 'unknown_event' });
    c.close();
    await until('the probe\'s counts', async () => (await http(d, 'GET', '/probe/counts')).body.disconnect >= 1);
  });

  test('SIGHUP applies reloadable keys, keeps fixed ones, refuses a bad config', async () => {
    const reloads = (await http(d, 'GET', '/probe/counts')).body.reload;
    fs.writeFileSync(path.join(d.confDir, '50-probe.conf'), probeConf('label = after\nfixed = 7\nrefuse_event = nope\n'));
    d.proc.kill('SIGHUP');
    await d.waitLog(/configuration reloaded/);
    assert.match(d.log, /50-probe\.conf:\d+: probe key 'fixed' changed; it takes effect after a restart/);
    assert.deepEqual((await http(d, 'GET', '/probe/config')).body, { label: 'after', fixed: 1 });
    assert.equal((await http(d, 'GET', '/probe/counts')).body.reload, reloads + 1);

    const c = client(d);
    await connected(c);
    assert.deepEqual(await request(c, 'nope', {}), { ok: false, error: 'probe_refused' });
    c.close();

    fs.writeFileSync(path.join(d.confDir, '50-probe.conf'), probeConf('label = broken\nfixed = many\n'));
    d.proc.kill('SIGHUP');
    await d.waitLog(/reload refused, the running configuration stays: .*50-probe\.conf:4: key 'fixed' expects an integer, got 'many'/);
    assert.deepEqual((await http(d, 'GET', '/probe/config')).body, { label: 'after', fixed: 1 });
    assert.equal((await http(d, 'GET', '/healthz')).status, 200);

    // Valid keys, but the plugin's own check (on_check) refuses the values.
    fs.writeFileSync(path.join(d.confDir, '50-probe.conf'), probeConf('label = invalid\n'));
    d.proc.kill('SIGHUP');
    await d.waitLog(/reload refused, the running configuration stays: .*50-probe\.conf:1: plugin 'probe': label 'invalid' is refused by the probe's check/);
    assert.deepEqual((await http(d, 'GET', '/probe/config')).body, { label: 'after', fixed: 1 });
  });

  test('SIGTERM drains and exits 0', async () => {
    const c = client(d, { transports: ['websocket'] });
    await connected(c);
    const gone = new Promise((resolve) => c.once('disconnect', resolve));
    // A request the plugin never answers must not hold up or leak at exit.
    const never = fetch(`${d.url}/probe/never`).then(() => 'answered', () => 'dropped');
    await until('the probe\'s counts', async () => (await http(d, 'GET', '/probe/counts')).body.never === 1);
    const started = Date.now();
    const res = await d.stop('SIGTERM');
    assert.deepEqual(res, { code: 0, signal: null });
    assert.ok(Date.now() - started < 5000, 'drained well before shutdown_timeout_ms');
    assert.equal(await gone, 'transport close'); // no DISCONNECT: the client would reconnect
    assert.equal(await never, 'dropped');
    c.close();
    assert.match(d.log, /STOPPING|stopping/);
    assert.match(d.log, /plugin 'probe' 1\.0\.0 loaded/);
    assert.match(d.log, /INFO probe: probe unloaded/);
  });
});

describe('limits', () => {
  test('a request whose headers do not arrive in header_timeout_ms is dropped', async () => {
    const base = coreOnlyDir();
    const core = fs.readFileSync(path.join(base, '10-core.conf'), 'utf8').replace(/^header_timeout_ms = .*$/m, 'header_timeout_ms = 300');
    fs.writeFileSync(path.join(base, '10-core.conf'), core);
    const d = await startDaemon({ confDir: base });
    try {
      const sock = net.connect(d.port, '127.0.0.1');
      await new Promise((resolve) => sock.once('connect', resolve));
      sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const started = Date.now();
      await Promise.race([
        new Promise((resolve) => sock.once('close', resolve)),
        delay(5000, null, { ref: false }).then(() => { throw new Error('not closed'); }),
      ]);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 200 && elapsed < 3000, `closed after ${elapsed} ms`);
      assert.equal((await http(d, 'GET', '/healthz')).status, 200);
    } finally {
      await d.stop();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('out of file descriptors', () => {
  test('accepting pauses instead of spinning, with one log line, and resumes', async () => {
    const cpuTicks = (pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      .slice(11, 13).reduce((a, b) => a + Number(b), 0);
    const base = coreOnlyDir();
    // 64 descriptors: a few dozen connections exhaust them.
    const d = await startDaemon({ confDir: base, launcher: ['prlimit', '--nofile=64:64'] });
    const socks = [];
    try {
      assert.match(d.log, /open files limit \(\d+\) is below max_connections/); // valgrind keeps a few
      const before = cpuTicks(d.proc.pid);
      for (let i = 0; i < 100; i++) {
        const s = net.connect(d.port, '127.0.0.1');
        s.on('error', () => {});
        socks.push(s);
      }
      await delay(1500);
      // A listener left readable by EMFILE would spin: 150 ticks in 1.5 s.
      const spent = cpuTicks(d.proc.pid) - before;
      assert.ok(spent < 40, `${spent} ticks of CPU while out of descriptors`);
      assert.equal(d.log.match(/cannot accept: Too many open files/g)?.length, 1, d.log);
      for (const s of socks) s.destroy();
      socks.length = 0;
      await until('serving again', async () => (await http(d, 'GET', '/healthz')).status === 200, 5000);
      const metrics = (await http(d, 'GET', '/metrics')).body;
      assert.ok(Number(/^superbot_accept_pauses_total (\d+)$/m.exec(metrics)[1]) > 0);
    } finally {
      for (const s of socks) s.destroy();
      await d.stop();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('start-up refusals', () => {
  let base;
  before(() => { base = coreOnlyDir(); });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  async function refused(files, re, extra = {}) {
    const d = await startDaemon({ confDir: base, files, ready: false, ...extra });
    const res = await Promise.race([d.exitPromise, delay(10000, null, { ref: false })]);
    if (!res) { d.proc.kill('SIGKILL'); await d.exitPromise; }
    assert.deepEqual(res, { code: 1, signal: null }, d.log);
    assert.match(d.log, re);
    assert.doesNotMatch(d.log, /listening on/);
    fs.rmSync(d.dir, { recursive: true, force: true });
    return d.log;
  }

  test('unknown key in the core file', async () => {
    await refused({ '10-core.conf': 'plugin = core\nlisten = ${REALTIME_LISTEN}\ncolour = red\n' },
      /ERROR core: .*conf\.d\/10-core\.conf:3: unknown key 'colour' for plugin 'core'/);
  });

  test('bad value and bounds', async () => {
    await refused({ '10-core.conf': 'plugin = core\nlisten = ${REALTIME_LISTEN}\nmax_connections = 0\n' },
      /10-core\.conf:3: key 'max_connections': 0 is out of bounds 1\.\.1000000/);
    await refused({ '50-probe.conf': probeConf('fixed = x\n') },
      /50-probe\.conf:3: key 'fixed' expects an integer, got 'x'/);
  });

  test('ABI mismatch', async () => {
    await refused({ '40-typing.conf': `# typing indicators\nplugin = typing\npath = ${FIXTURES}/abi-mismatch.so\n` },
      /conf\.d\/40-typing\.conf:3: plugin 'typing' built for SDK ABI 2, core provides 1/);
  });

  test('missing .so, missing symbol, failing on_load', async () => {
    await refused({ '50-ghost.conf': 'plugin = ghost\n' }, /50-ghost\.conf:1: plugin 'ghost' cannot be loaded: .*ghost\.so/);
    await refused({ '50-ns.conf': `plugin = nosymbol\npath = ${FIXTURES}/nosymbol.so\n` },
      /50-ns\.conf:2: plugin 'nosymbol' \(.*\) has no 'sbr_plugin_entry' symbol/);
    const log = await refused({ '50-f.conf': `plugin = failing\npath = ${FIXTURES}/failing.so\n` },
      /50-f\.conf:1: plugin 'failing' failed to load: database unreachable at db:5432/);
    assert.doesNotMatch(log, /plugin 'failing' .* loaded from/);
  });

  test('file without plugin line, duplicate plugin', async () => {
    await refused({ '50-x.conf': 'label = x\n' }, /50-x\.conf:1: the first key must be 'plugin = NAME'/);
    await refused({ '50-a.conf': probeConf(), '60-b.conf': probeConf() },
      /60-b\.conf:1: plugin 'probe' is already configured by .*50-a\.conf/);
  });

  test('a secret is never logged', async () => {
    const log = await refused({ '10-core.conf': 'plugin = core\nlisten = ${REALTIME_LISTEN}\napi_key = ${REALTIME_API_KEY}\nbogus = 1\n' },
      /unknown key 'bogus'/);
    assert.ok(!log.includes(TEST_ENV.REALTIME_API_KEY));
  });
});

describe('command line', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-cli-'));
    fs.mkdirSync(path.join(dir, 'conf.d'));
    fs.writeFileSync(path.join(dir, 'conf.d', '10-core.conf'),
      'plugin = core\nlog_level = ${SBRT_LEVEL:-info}\n');
    fs.writeFileSync(path.join(dir, 'conf.d', '50-probe.conf'), probeConf());
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (args, env = {}) => spawnSync(BINARY, args, {
    cwd: dir, encoding: 'utf8', timeout: 10000, env: { ...process.env, ...env },
  });

  test('--version and --help', () => {
    const v = run(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^superbot-realtime \d+\.\d+\.\d+ \(plugin SDK ABI 1\)/);
    const h = run(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--check-config/);
    const bad = run(['--frobnicate']);
    assert.equal(bad.status, 2);
  });

  test('--check-config: OK, then the same error as start-up', () => {
    const ok = run(['--check-config']); // ./conf.d is the default
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'configuration OK\n');
    const bad = run(['--check-config', '-c', 'conf.d'], { SBRT_LEVEL: 'loud' });
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').pop(),
      "conf.d/10-core.conf:2: key 'log_level' expects debug, info, warn or error, got 'loud'");
  });

  test("--check-config runs the plugins' own checks", () => {
    fs.writeFileSync(path.join(dir, 'conf.d', '50-probe.conf'), probeConf('label = invalid\n'));
    try {
      const bad = run(['--check-config']);
      assert.equal(bad.status, 1);
      assert.equal(bad.stderr.trim().split('\n').pop(),
        "conf.d/50-probe.conf:1: plugin 'probe': label 'invalid' is refused by the probe's check");
    } finally {
      fs.writeFileSync(path.join(dir, 'conf.d', '50-probe.conf'), probeConf());
    }
    // The shipped conf.d: what bus-redis and presence would refuse at start
    // is refused here already.
    const shipped = path.join(SOURCE_DIR, 'conf.d');
    const env = { ...TEST_ENV };
    const good = run(['--check-config', '-c', shipped], { ...env, REALTIME_REDIS_URL: 'redis://127.0.0.1:6379/0' });
    assert.equal(good.status, 0, good.stderr);
    const badUrl = run(['--check-config', '-c', shipped], { ...env, REALTIME_REDIS_URL: 'redis://127.0.0.1:99999' });
    assert.equal(badUrl.status, 1);
    // Reported at the line of `url`, not at the file's `plugin =` line.
    const lineOf = (file, re) => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => re.test(l)) + 1;
    const urlLine = lineOf(path.join(shipped, '30-bus-redis.conf'), /^url = /);
    assert.ok(urlLine > 2);
    assert.equal(badUrl.stderr.trim().split('\n').pop(), `${shipped}/30-bus-redis.conf:${urlLine}: plugin 'bus-redis': ` +
      "key 'url': bad url (REALTIME_REDIS_URL): bad port (expected 1-65535)");
    // The sentinel and cluster forms too.
    for (const [url, why] of [
      ['redis-sentinel://127.0.0.1:26379,127.0.0.1:26380', 'missing master name (redis-sentinel://host:port/master-name)'],
      ['redis-cluster://127.0.0.1:7000,127.0.0.1:7001/2', 'nothing may follow the hosts of redis-cluster:// (a cluster has database 0 only)'],
      ['redis-cluster://127.0.0.1:7000,,127.0.0.1:7001', 'missing host'],
    ]) {
      const bad = run(['--check-config', '-c', shipped], { ...env, REALTIME_REDIS_URL: url });
      assert.equal(bad.status, 1, url);
      assert.equal(bad.stderr.trim().split('\n').pop(), `${shipped}/30-bus-redis.conf:${urlLine}: plugin 'bus-redis': ` +
        `key 'url': bad url (REALTIME_REDIS_URL): ${why}`);
    }
    for (const url of ['redis-sentinel://s1:26379,s2:26379/mymaster/2', 'redis-cluster://:pw@n1:7000,n2:7001']) {
      const ok = run(['--check-config', '-c', shipped], { ...env, REALTIME_REDIS_URL: url });
      assert.equal(ok.status, 0, `${url}: ${ok.stderr}`);
    }
    const copy = path.join(dir, 'shipped');
    fs.cpSync(shipped, copy, { recursive: true });
    try {
      const presence = path.join(copy, '40-presence.conf');
      fs.writeFileSync(presence, fs.readFileSync(presence, 'utf8').replace(/^refresh_seconds = .*$/m, 'refresh_seconds = 40'));
      const badRefresh = run(['--check-config', '-c', copy], env);
      assert.equal(badRefresh.status, 1);
      assert.match(badRefresh.stderr, new RegExp(`40-presence\\.conf:${lineOf(presence, /^refresh_seconds = /)}: ` +
        "plugin 'presence': key 'refresh_seconds': refresh_seconds \\(40\\) must be shorter than ttl_seconds \\(30\\)"));
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test('.env is read, and the real environment wins', () => {
    fs.writeFileSync(path.join(dir, '.env'), '# test\nexport SBRT_LEVEL="shouty"\n');
    try {
      const fromDotenv = run(['--check-config']);
      assert.equal(fromDotenv.status, 1);
      assert.match(fromDotenv.stderr, /got 'shouty'/);
      const real = run(['--check-config'], { SBRT_LEVEL: 'debug' });
      assert.equal(real.status, 0, real.stderr);
    } finally {
      fs.rmSync(path.join(dir, '.env'));
    }
  });
});
