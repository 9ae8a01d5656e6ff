// Out-of-tree plugin build against the installed SDK: `cmake --install` into
// a temporary prefix, `make` in a copy of sdk/examples/wordfilter with only
// pkg-config pointing at that prefix, then the daemon loads the result from
// a conf.d file (`path =`) and the filter refuses banned words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDaemon, http, BUILD_DIR, SOURCE_DIR } from '../integration/lib/daemon.mjs';
import { client, connected, request } from '../integration/lib/client.mjs';

const CMAKE = process.env.SBR_CMAKE || 'cmake';
let work;
let d;

function findPc(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findPc(p);
      if (found) return found;
    } else if (entry.name === 'superbot-realtime-sdk.pc') {
      return p;
    }
  }
  return null;
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-sdk-'));
  const prefix = path.join(work, 'prefix');
  execFileSync(CMAKE, ['--install', BUILD_DIR, '--prefix', prefix], { stdio: 'pipe', timeout: 120000 });
  const pc = findPc(prefix);
  assert.ok(pc, 'the SDK .pc file is installed');
  assert.ok(fs.existsSync(path.join(prefix, 'include', 'superbot-realtime', 'plugin.h')));

  const src = path.join(work, 'wordfilter');
  fs.mkdirSync(src);
  for (const f of ['wordfilter.c', 'Makefile']) {
    fs.copyFileSync(path.join(SOURCE_DIR, 'sdk', 'examples', 'wordfilter', f), path.join(src, f));
  }
  // Plain pkg-config: the .pc written by this install points into the prefix.
  execFileSync('make', ['-C', src, 'CFLAGS=-O2 -Wall -Wextra -Werror'], {
    stdio: 'pipe', timeout: 120000,
    env: { ...process.env, PKG_CONFIG_PATH: path.dirname(pc), PKG_CONFIG_LIBDIR: path.dirname(pc) },
  });
  assert.ok(fs.existsSync(path.join(src, 'wordfilter.so')));

  const base = path.join(work, 'conf.d');
  fs.mkdirSync(base);
  fs.copyFileSync(path.join(SOURCE_DIR, 'conf.d', '10-core.conf'), path.join(base, '10-core.conf'));
  d = await startDaemon({
    confDir: base,
    files: { '65-wordfilter.conf': `plugin = wordfilter\npath = ${src}/wordfilter.so\nwords = spam, Scam\n` },
  });
});

after(async () => {
  if (d && !d.exited) await d.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the out-of-tree plugin is loaded', async () => {
  const r = await http(d, 'GET', '/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.plugins, ['wordfilter']);
  assert.match(d.log, /INFO wordfilter: 2 banned word\(s\) in 'send_message' events/);
});

test('banned words are refused with content_blocked, others pass', async () => {
  const c = client(d);
  await connected(c);
  try {
    assert.deepEqual(await request(c, 'send_message', { channel_id: '1', content: 'buy SPAM now', nonce: 'n1' }),
      { ok: false, error: 'content_blocked' });
    // Any key order, any case; the socket stays usable after a refusal.
    assert.deepEqual(await request(c, 'send_message', { nonce: 'x', content: 'a sCAM', channel_id: '1' }),
      { ok: false, error: 'content_blocked' });
    // No channels plugin here: a clean message reaches the end of the chain.
    assert.deepEqual(await request(c, 'send_message', { channel_id: '1', content: 'hello there', nonce: 'n2' }),
      { ok: false, error: 'unknown_event' });
    assert.deepEqual(await request(c, 'typing_start', { content: 'spam' }), { ok: false, error: 'unknown_event' });
  } finally {
    c.close();
  }
  const m = await http(d, 'GET', '/metrics');
  assert.match(m.body, /^superbot_wordfilter_blocked_total 2$/m);
});
