// POST /api/realtime/token: both identity sources, the exact claims, and
// every way to be refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, http, apiKeyHeader, TEST_ENV, SOURCE_DIR } from './lib/daemon.mjs';
import { sign, decode, sessionToken, realtimeToken } from './lib/jwt.mjs';

const bearer = (t) => ({ authorization: `Bearer ${t}` });
const now = () => Math.floor(Date.now() / 1000);

// The HS256 signature of a token, checked with node:crypto.
function signedWith(token, secret) {
  const [h, p, s] = token.split('.');
  const want = crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return crypto.timingSafeEqual(Buffer.from(s), Buffer.from(want));
}

describe('POST /api/realtime/token', () => {
  let d;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  it('issues by API key with exactly the contract claims', async () => {
    const t0 = now();
    const r = await http(d, 'POST', '/api/realtime/token', {
      headers: apiKeyHeader(),
      body: { user_id: 'u1', servers: ['s1', 's2'], session_id: 'sess-1', moderates: ['s2'] },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(r.body).sort(), ['expires_in', 'token']);
    assert.equal(r.body.expires_in, 300);
    const { header, payload } = decode(r.body.token);
    assert.equal(header.alg, 'HS256');
    assert.ok(signedWith(r.body.token, TEST_ENV.REALTIME_JWT_SECRET));
    assert.deepEqual(Object.keys(payload).sort(),
      ['aud', 'exp', 'iat', 'iss', 'jti', 'moderates', 'servers', 'sid', 'sub']);
    assert.equal(payload.iss, 'superbot');
    assert.equal(payload.aud, 'superbot-realtime');
    assert.equal(payload.sub, 'u1');
    assert.equal(payload.sid, 'sess-1');
    assert.deepEqual(payload.servers, ['s1', 's2']);
    assert.deepEqual(payload.moderates, ['s2']);
    assert.ok(payload.iat >= t0 - 1 && payload.iat <= now() + 1);
    assert.equal(payload.exp, payload.iat + 300);
    assert.match(payload.jti, /^[0-9a-f]{32}$/);
  });

  it('writes servers always, and sid and moderates only when known', async () => {
    const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body: { user_id: 'u2' } });
    assert.equal(r.status, 200);
    const { payload } = decode(r.body.token);
    assert.deepEqual(payload.servers, []);
    assert.equal('sid' in payload, false);
    assert.equal('moderates' in payload, false);
  });

  it('gives every token its own jti', async () => {
    const seen = new Set();
    for (let i = 0; i < 20; i++) {
      const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body: { user_id: 'u1' } });
      seen.add(decode(r.body.token).payload.jti);
    }
    assert.equal(seen.size, 20);
  });

  it('issues from a session bearer signed with SECRET_KEY', async () => {
    const session = sessionToken({ sub: 'u7', sid: 'web-1', servers: ['a', 'b'] });
    const r = await http(d, 'POST', '/api/realtime/token', { headers: bearer(session) });
    assert.equal(r.status, 200);
    const { payload } = decode(r.body.token);
    assert.equal(payload.sub, 'u7');
    assert.equal(payload.sid, 'web-1');
    assert.deepEqual(payload.servers, ['a', 'b']);
    assert.ok(signedWith(r.body.token, TEST_ENV.REALTIME_JWT_SECRET));
  });

  it('answers 401 authentication_required without a good identity', async () => {
    const iat = now();
    const cases = {
      'no header': {},
      'empty bearer': { authorization: 'Bearer ' },
      'another scheme': { authorization: 'Basic dTE6cHc=' },
      'garbage': bearer('garbage'),
      'wrong API key': bearer('not-the-api-key'),
      'session bearer with a wrong secret': bearer(sessionToken({}, 'some-other-secret-0123456789abcdef')),
      'expired session bearer': bearer(sessionToken({ iat: iat - 7200, exp: iat - 3600 })),
      'session bearer without sub': bearer(sign({ sid: 'x', exp: iat + 60 }, TEST_ENV.SECRET_KEY)),
      'session bearer without exp': bearer(sign({ sub: 'u1', iat }, TEST_ENV.SECRET_KEY)),
      'session bearer alg none': bearer(sign({ sub: 'u1' }, '', { alg: 'none', typ: 'JWT' })),
      'session bearer HS512': bearer(sign({ sub: 'u1' }, TEST_ENV.SECRET_KEY, { alg: 'HS512', typ: 'JWT' })),
      'a realtime token': bearer(realtimeToken()),
    };
    for (const [name, headers] of Object.entries(cases)) {
      const r = await http(d, 'POST', '/api/realtime/token', { headers, body: { user_id: 'u1' } });
      assert.equal(r.status, 401, name);
      assert.deepEqual(r.body, { error: 'authentication_required' }, name);
    }
  });

  it('takes a session bearer without exp only when session_require_exp = false', async () => {
    const conf = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '20-auth-jwt.conf'), 'utf8')
      .replace(/^session_require_exp = true$/m, 'session_require_exp = false');
    const lenient = await startDaemon({ files: { '20-auth-jwt.conf': conf } });
    try {
      const r = await http(lenient, 'POST', '/api/realtime/token', { headers: bearer(sign({ sub: 'u8', iat: now() }, TEST_ENV.SECRET_KEY)) });
      assert.equal(r.status, 200);
      assert.equal(decode(r.body.token).payload.sub, 'u8');
    } finally {
      await lenient.stop();
    }
  });

  it('answers 400 to a bad body from the backend', async () => {
    const badJson = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), raw: '{"user_id":' });
    assert.equal(badJson.status, 400);
    assert.deepEqual(badJson.body, { error: 'invalid_json' });
    const bodies = [
      {}, { user_id: '' }, { user_id: true }, { user_id: ['u1'] }, { user_id: 'u1', servers: 's1' },
      { user_id: 'u1', servers: [{}] }, { user_id: 'u1', moderates: 'x' }, { user_id: 'u1', session_id: {} },
    ];
    for (const body of bodies) {
      const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(r.body, { error: 'invalid_body' }, JSON.stringify(body));
    }
    const empty = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader() });
    assert.equal(empty.status, 400);
  });

  it('refuses to issue a token it would itself refuse as oversize', async () => {
    const servers = Array.from({ length: 400 }, (_, i) => `server-${i}`);
    const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body: { user_id: 'u1', servers } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'token_too_large' });
  });

  it('counts tokens by source on /metrics', async () => {
    const r = await http(d, 'GET', '/metrics');
    assert.match(r.body, /superbot_auth_tokens_issued_total\{source="api_key"\} \d+/);
    assert.match(r.body, /superbot_auth_tokens_issued_total\{source="session"\} 1/);
  });
});
