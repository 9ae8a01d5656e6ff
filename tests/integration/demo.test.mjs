// The demo plugin: the page and its files at /demo/, the demo-only identity
// route (off by default), and a token from it working end to end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { BUILD_DIR, SOURCE_DIR, TEST_ENV, http, startDaemon } from './lib/daemon.mjs';
import { decode } from './lib/jwt.mjs';
import { client, connected, once, request } from './lib/client.mjs';

const EXAMPLE = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '80-demo.conf.disabled'), 'utf8');
const enabled = (extra = '') => `${EXAMPLE.replace(/^identity_route = .*$/m, 'identity_route = true')}${extra}`;
const BUNDLED = fs.existsSync(path.join(BUILD_DIR, 'plugins', 'demo', 'socket.io.min.js'));

async function get(d, p) {
  const r = await fetch(d.url + p);
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const login = (d, body) => http(d, 'POST', '/demo/api/login', { body });

describe('demo: the example conf file as shipped', () => {
  let d;
  before(async () => { d = await startDaemon({ files: { '80-demo.conf': EXAMPLE } }); });
  after(() => d.stop());

  it('serves the page at /demo/ and /demo', async () => {
    for (const p of ['/demo/', '/demo']) {
      const r = await get(d, p);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
      assert.match(r.text, /<script src="\/demo\/socket\.io\.min\.js"><\/script>/);
      assert.doesNotMatch(r.text, /https?:\/\//, 'the page loads nothing from elsewhere');
    }
  });

  it('serves its own files with their types, and nothing else', async () => {
    for (const [file, type] of [['demo.js', /^text\/javascript/], ['demo.css', /^text\/css/],
      ['index.html', /^text\/html/]]) {
      const r = await get(d, `/demo/${file}`);
      assert.equal(r.status, 200, file);
      assert.match(r.headers.get('content-type'), type);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    for (const p of ['/demo/nope.js', '/demo/..%2F..%2Fdemo.so', '/demo/%2Fetc%2Fpasswd', '/demo/CMakeFiles']) {
      const r = await get(d, p);
      assert.equal(r.status, 404, p);
      assert.deepEqual(JSON.parse(r.text), { error: 'not_found' });
    }
  });

  it('serves the socket.io-client bundle from the build', async () => {
    const r = await get(d, '/demo/socket.io.min.js');
    if (BUNDLED) {
      assert.equal(r.status, 200);
      assert.match(r.text, /^\/\*!\n \* Socket\.IO v4\.8\.1/);
    } else {
      assert.equal(r.status, 404);
      assert.match(d.log, /WARN demo: .*socket\.io\.min\.js/);
    }
  });

  it('describes itself, with the identity route off', async () => {
    const r = await http(d, 'GET', '/demo/api/info');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      identity_route: false, server_id: 'demo', socket_io: BUNDLED,
      channels: [{ id: 'general', slow_mode: 0 }, { id: 'slow', slow_mode: 5 }],
    });
  });

  it('refuses to sign anyone in', async () => {
    const r = await login(d, { user: 'alice' });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { error: 'identity_route_disabled' });
  });

  it('registers its channels for the backend\'s clients too', async () => {
    const r = await http(d, 'POST', '/api/realtime/channels/slow/reserve', {
      body: { user_id: 'u1' }, headers: { authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` },
    });
    assert.equal(r.status, 200);
    const again = await http(d, 'POST', '/api/realtime/channels/slow/reserve', {
      body: { user_id: 'u1' }, headers: { authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` },
    });
    assert.equal(again.status, 429);
  });
});

describe('demo: the identity route enabled', () => {
  let d;
  before(async () => { d = await startDaemon({ files: { '80-demo.conf': enabled() } }); });
  after(() => d.stop());

  it('warns in the log that anyone can sign in', () => {
    assert.match(d.log, /WARN demo: identity_route is on/);
  });

  it('answers a realtime token for a user name', async () => {
    const r = await login(d, { user: 'alice' });
    assert.equal(r.status, 200);
    assert.equal(r.body.user_id, 'alice');
    assert.equal(r.body.server_id, 'demo');
    assert.equal(r.body.expires_in, 300);
    assert.deepEqual(r.body.channels, [{ id: 'general', slow_mode: 0 }, { id: 'slow', slow_mode: 5 }]);
    const { header, payload } = decode(r.body.token);
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.iss, 'superbot');
    assert.equal(payload.aud, 'superbot-realtime');
    assert.deepEqual(payload.servers, ['demo']);
    assert.equal(payload.exp - payload.iat, 300);
    assert.match(payload.jti, /^[0-9a-f]{32}$/);
    assert.equal(payload.moderates, undefined, 'demo users are never moderators');
  });

  it('refuses what is not a user name', async () => {
    for (const body of [{}, { user: '' }, { user: 'a b' }, { user: 'x'.repeat(33) }, { user: 42 },
      { user: 'al\u0000ice' }, { user: 'élodie' }, { name: 'alice' }]) {
      const r = await login(d, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(r.body, { error: 'invalid_user' });
    }
    for (const raw of ['', 'not json', '[1]', '"alice"']) {
      const r = await http(d, 'POST', '/demo/api/login', { raw });
      assert.equal(r.status, 400, raw);
      assert.deepEqual(r.body, { error: 'invalid_json' });
    }
  });

  it('gives a token the gateway accepts: channels, messages, slow mode', async () => {
    const { body } = await login(d, { user: 'alice' });
    const s = client(d, { auth: { token: body.token } });
    const ready = once(s, 'ready');
    await connected(s);
    assert.deepEqual((await ready).servers, ['demo']);
    assert.equal((await ready).user_id, 'alice');

    const general = await request(s, 'join_channel', { channel_id: 'general' });
    assert.equal(general.ok, true);
    assert.equal(general.slow_mode, 0);
    const slow = await request(s, 'join_channel', { channel_id: 'slow' });
    assert.equal(slow.ok, true);
    assert.equal(slow.slow_mode, 5);
    const other = await request(s, 'join_channel', { channel_id: 'elsewhere' });
    assert.equal(other.ok, false);

    const snapshot = await request(s, 'presence_snapshot', { server_id: 'demo' });
    assert.deepEqual(snapshot.members, [{ user_id: 'alice', status: 'online' }]);

    const first = await request(s, 'send_message', { channel_id: 'slow', content: 'one', nonce: 'n1' });
    assert.equal(first.ok, true);
    const second = await request(s, 'send_message', { channel_id: 'slow', content: 'two', nonce: 'n2' });
    assert.equal(second.ok, false);
    assert.equal(second.error, 'slow_mode');
    assert.ok(second.retry_after > 0 && second.retry_after <= 5, `retry_after ${second.retry_after}`);
    s.close();
  });

  it('re-registers its channels at each sign-in', async () => {
    // A backend (or a flushed Redis) changed the demo channel: signing in puts it back.
    const put = await http(d, 'PUT', '/api/realtime/channels/general', {
      body: { server_id: 'elsewhere', settings: { slow_mode: 0 } },
      headers: { authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` },
    });
    assert.equal(put.status, 200);
    const { body } = await login(d, { user: 'bob' });
    const s = client(d, { auth: { token: body.token } });
    await connected(s);
    assert.equal((await request(s, 'join_channel', { channel_id: 'general' })).ok, true);
    s.close();
  });
});

describe('demo: refused at start-up', () => {
  async function refused(conf, re) {
    const d = await startDaemon({ files: { '80-demo.conf': conf }, ready: false });
    const res = await Promise.race([d.exitPromise, delay(10000, null, { ref: false })]);
    if (!res) { d.proc.kill('SIGKILL'); await d.exitPromise; }
    assert.equal(res?.code, 1, d.log);
    assert.match(d.log, re);
    assert.doesNotMatch(d.log, /listening on/);
    fs.rmSync(d.dir, { recursive: true, force: true });
  }

  it('the identity route without a secret', () => refused(
    enabled().replace(/^secret = .*$/m, 'secret ='),
    /80-demo\.conf:\d+: .*identity_route needs the realtime secret/));

  it('a bad channel list', () => refused(
    `${EXAMPLE.replace(/^channels = .*$/m, 'channels = general, slow:abc')}`,
    /80-demo\.conf:\d+: .*slow mode of 'slow' must be 0 to 21600 seconds/));

  it('a missing assets_dir', () => refused(
    EXAMPLE.replace(/^assets_dir =.*$/m, 'assets_dir = /nonexistent/demo'),
    /80-demo\.conf:\d+: .*\/nonexistent\/demo\/index\.html: No such file or directory\); set assets_dir/));
});
