// A relocatable install: `cmake --install build --prefix P` whatever prefix
// the build was configured with.  The installed daemon finds its plugins and
// conf.d relative to its own place, the units start P's daemon on P's
// conf.d, the .pc file points into P, and the whole tree still works after
// it is moved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startDaemon, http, BUILD_DIR, TEST_ENV } from '../integration/lib/daemon.mjs';

const CMAKE = process.env.SBR_CMAKE || 'cmake';
let work;
let prefix;

// Run the installed daemon with an empty environment but PATH; cwd has no conf.d.
function runInstalled(bin, args, extraEnv = {}) {
  return spawnSync(bin, args, { cwd: work, env: { PATH: process.env.PATH, ...extraEnv }, encoding: 'utf8', timeout: 60000 });
}

function findUnder(dir, name) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findUnder(p, name);
      if (found) return found;
    } else if (entry.name === name) {
      return p;
    }
  }
  return null;
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-install-'));
  prefix = path.join(work, 'P');
  execFileSync(CMAKE, ['--install', BUILD_DIR, '--prefix', prefix], { stdio: 'pipe', timeout: 120000 });
  fs.writeFileSync(path.join(work, 'env'),
    `# as /etc/superbot-realtime/env\nREALTIME_JWT_SECRET='${TEST_ENV.REALTIME_JWT_SECRET}'\n` +
    `REALTIME_API_KEY=${TEST_ENV.REALTIME_API_KEY}\n`);
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the units start the installed daemon on the installed conf.d', () => {
  for (const unit of ['superbot-realtime.service', 'superbot-realtime@.service']) {
    const text = fs.readFileSync(path.join(prefix, 'lib/systemd/system', unit), 'utf8');
    const exec = /^ExecStart=(\S+) -c (\S+)$/m.exec(text);
    assert.ok(exec, `${unit} has ExecStart`);
    assert.equal(exec[1], path.join(prefix, 'bin/superbot-realtime'));
    assert.equal(exec[2], path.join(prefix, 'etc/superbot-realtime/conf.d'));
    assert.ok(fs.statSync(exec[2]).isDirectory());
    assert.match(text, new RegExp(`^EnvironmentFile=-${prefix}/etc/superbot-realtime/env$`, 'm'));
    // Every path the unit names under the prefix is where the install put it
    // (the env file itself is the operator's to create).
    for (const [named] of text.matchAll(new RegExp(`${prefix}/[^\\s)]+`, 'g'))) {
      const p = named.replace(/[.,]+$/, '');
      if (/\/env(\.[^/]*)?$/.test(p) || p.includes('*')) continue;
      assert.ok(fs.existsSync(p), `${unit} names ${p}, which exists`);
    }
    assert.doesNotMatch(text, /\/usr\/local|\/usr\/bin/, `${unit} names no other prefix`);
  }
});

test('the .pc file points into the prefix', () => {
  const pc = findUnder(prefix, 'superbot-realtime-sdk.pc');
  assert.ok(pc);
  const env = { ...process.env, PKG_CONFIG_PATH: path.dirname(pc), PKG_CONFIG_LIBDIR: path.dirname(pc) };
  const cflags = execFileSync('pkg-config', ['--cflags', 'superbot-realtime-sdk'], { env, encoding: 'utf8' });
  const inc = /-I(\S+)/.exec(cflags)[1];
  assert.equal(fs.realpathSync(inc), fs.realpathSync(path.join(prefix, 'include')));
  assert.ok(fs.existsSync(path.join(inc, 'superbot-realtime/plugin.h')));
  const plugindir = execFileSync('pkg-config', ['--variable=plugindir', 'superbot-realtime-sdk'], { env, encoding: 'utf8' }).trim();
  assert.ok(fs.existsSync(path.join(plugindir, 'auth-jwt.so')), `${plugindir} holds the plugins`);
});

test('--check-config of the installed tree, with --env-file', () => {
  const bin = path.join(prefix, 'bin/superbot-realtime');
  const conf = path.join(prefix, 'etc/superbot-realtime/conf.d');
  const ok = runInstalled(bin, ['--check-config', '--env-file', path.join(work, 'env'), '-c', conf]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /configuration OK/);
  // Without the secret the installed auth-jwt refuses: the check is real.
  const bad = runInstalled(bin, ['--check-config', '-c', conf]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /20-auth-jwt\.conf:\d+: .*secret/);
});

test('the installed daemon starts with its own plugins and conf.d', async () => {
  const bin = path.join(prefix, 'bin/superbot-realtime');
  const d = await startDaemon({ binary: bin, noConfArg: true, cwd: work, args: ['--env-file', path.join(work, 'env')],
    env: { REALTIME_JWT_SECRET: null, SECRET_KEY: null, REALTIME_API_KEY: null } });
  try {
    const h = await http(d, 'GET', '/healthz');
    assert.equal(h.status, 200);
    assert.ok(h.body.plugins.includes('auth-jwt') && h.body.plugins.includes('channels'), JSON.stringify(h.body));
    const plugins = fs.realpathSync(path.join(prefix, 'lib/superbot-realtime/plugins'));
    const conf = fs.realpathSync(path.join(prefix, 'etc/superbot-realtime/conf.d'));
    assert.match(d.log, new RegExp(`conf\\.d ${conf}, plugins from ${plugins}\\n`));
    // The API key came from the env file.
    const t = await http(d, 'POST', '/api/realtime/token', {
      body: { user_id: 'u1' }, headers: { authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` },
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
  } finally {
    await d.stop();
  }
});

test('the installed tree still works once moved', () => {
  const moved = path.join(work, 'moved');
  fs.renameSync(prefix, moved);
  try {
    const r = runInstalled(path.join(moved, 'bin/superbot-realtime'), ['--check-config', '-v', '--env-file', path.join(work, 'env')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /configuration OK/);
    assert.match(r.stdout, /^auth-jwt\.audience = superbot-realtime /m);
  } finally {
    fs.renameSync(moved, prefix);
  }
});
