// Socket.IO CONNECT with realtime tokens: both ways to present one, `ready`,
// and each refusal with its exact CONNECT_ERROR message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startDaemon, http, apiKeyHeader, TEST_ENV } from './lib/daemon.mjs';
import { sign, realtimeToken, sessionToken } from './lib/jwt.mjs';
import { client, connected, once, refusal } from './lib/client.mjs';

const now = () => Math.floor(Date.now() / 1000);
const SECRET = TEST_ENV.REALTIME_JWT_SECRET;

async function issue(d, body) {
  const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body });
  assert.equal(r.status, 200);
  return r.body.token;
}

// Any header, HMAC-SHA256-signed: the key-confusion forgery.
function hmacSigned(header, payload, secret) {
  const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b(header)}.${b(payload)}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

// Claims of a realtime token, for tokens built by hand.
function claims(extra = {}) {
  const iat = now();
  return { iss: 'superbot', aud: 'superbot-realtime', sub: 'u1', iat, exp: iat + 300, servers: [], ...extra };
}

describe('Socket.IO authentication', () => {
  let d;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  it('accepts a token in the query and sends ready', async () => {
    const token = await issue(d, { user_id: 'u1', servers: ['s1', 's2'], session_id: 'sess-q' });
    const s = client(d, { token });
    const ready = once(s, 'ready');
    await connected(s);
    assert.deepEqual(await ready, { user_id: 'u1', servers: ['s1', 's2'], session_id: 'sess-q' });
    s.close();
  });

  it('accepts a token in the auth payload, session_id null without a session', async () => {
    const token = await issue(d, { user_id: 'u2' });
    const s = client(d, { auth: { token } });
    const ready = once(s, 'ready');
    await connected(s);
    assert.deepEqual(await ready, { user_id: 'u2', servers: [], session_id: null });
    s.close();
  });

  it('accepts a token over WebSocket only', async () => {
    const s = client(d, { token: realtimeToken({ sub: 'u3' }), transports: ['websocket'] });
    const ready = once(s, 'ready');
    await connected(s);
    assert.equal((await ready).user_id, 'u3');
    s.close();
  });

  it('accepts a matching session bearer in the handshake headers', async () => {
    const token = realtimeToken({ sub: 'u4', sid: 'web-4' });
    const s = client(d, {
      token, transports: ['polling'],
      extraHeaders: { authorization: `Bearer ${sessionToken({ sub: 'u4', sid: 'web-4' })}` },
    });
    await connected(s);
    s.close();
  });

  it('refuses without a token: authentication_required', async () => {
    assert.equal(await refusal(client(d)), 'authentication_required');
    assert.equal(await refusal(client(d, { token: '' })), 'authentication_required');
    assert.equal(await refusal(client(d, { auth: { token: '' } })), 'authentication_required');
    assert.equal(await refusal(client(d, { auth: {} })), 'authentication_required');
  });

  it('refuses every bad token: invalid_token', async () => {
    const good = realtimeToken();
    const [h, p, sig] = good.split('.');
    const evil = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    const iat = now();
    const cases = {
      'garbage': 'garbage',
      'two segments': `${h}.${p}`,
      'bad signature': `${h}.${p}.${sig.slice(0, -4)}AAAA`,
      'tampered payload': `${h}.${evil}.${sig}`,
      'alg none': sign(claims(), '', { alg: 'none', typ: 'JWT' }),
      'alg none with a signature': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.${sig}`,
      'HS384 with the same secret': sign(claims(), SECRET, { alg: 'HS384', typ: 'JWT' }),
      'HS512 with the same secret': sign(claims(), SECRET, { alg: 'HS512', typ: 'JWT' }),
      'RS256 header': `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${p}.${sig}`,
      'RS256 header HMAC-signed': hmacSigned({ alg: 'RS256', typ: 'JWT' }, claims(), SECRET),
      'hs256 in lower case': hmacSigned({ alg: 'hs256', typ: 'JWT' }, claims(), SECRET),
      'expired': realtimeToken({ iat: iat - 600, exp: iat - 60 }),
      'exp missing': sign((({ exp, ...c }) => c)(claims()), SECRET),
      'not yet valid': realtimeToken({ nbf: iat + 600 }),
      'issued in the future': realtimeToken({ iat: iat + 600, exp: iat + 900 }),
      'wrong aud': realtimeToken({ aud: 'someone-else' }),
      'aud array without ours': realtimeToken({ aud: ['a', 'b'] }),
      'wrong iss': realtimeToken({ iss: 'evil' }),
      'signed with SECRET_KEY': realtimeToken({}, TEST_ENV.SECRET_KEY),
      'missing sub': sign((({ sub, ...c }) => c)(claims()), SECRET),
      'empty sub': realtimeToken({ sub: '' }),
      'numeric sub': realtimeToken({ sub: 1 }),
      'servers not an array': realtimeToken({ servers: 's1' }),
      'servers with a number': realtimeToken({ servers: ['s1', 2] }),
      'moderates not an array': realtimeToken({ moderates: 's1' }),
      'an 8 KB token': realtimeToken({ pad: 'x'.repeat(8192) }),
      'a session bearer': sessionToken(),
    };
    // Each transport on its own: the refusal must not depend on the upgrade.
    for (const transports of [['polling'], ['websocket']]) {
      for (const [name, token] of Object.entries(cases)) {
        assert.equal(await refusal(client(d, { token, transports })), 'invalid_token', `${name} (${transports})`);
      }
    }
    // The same through the auth payload.
    assert.equal(await refusal(client(d, { auth: { token: 'garbage' } })), 'invalid_token');
    assert.equal(await refusal(client(d, { auth: { token: 42 } })), 'invalid_token');
  });

  it('accepts an aud array containing ours', async () => {
    const s = client(d, { token: realtimeToken({ aud: ['other', 'superbot-realtime'] }) });
    await connected(s);
    s.close();
  });

  it('refuses a session bearer for another user or session: invalid_token', async () => {
    const token = realtimeToken({ sub: 'u5', sid: 'web-5' });
    const headers = {
      'another user': sessionToken({ sub: 'u6', sid: 'web-5' }),
      'another session': sessionToken({ sub: 'u5', sid: 'web-6' }),
      'no session': sessionToken({ sub: 'u5' }),
      'a forged bearer': sessionToken({ sub: 'u5', sid: 'web-5' }, 'not-the-app-secret-0123456789abcdef'),
    };
    for (const [name, session] of Object.entries(headers)) {
      const s = client(d, { token, transports: ['polling'], extraHeaders: { authorization: `Bearer ${session}` } });
      assert.equal(await refusal(s), 'invalid_token', name);
    }
  });

  it('counts refusals by reason on /metrics', async () => {
    const r = await http(d, 'GET', '/metrics');
    assert.match(r.body, /superbot_auth_connects_refused_total\{reason="missing_token"\} \d+/);
    assert.match(r.body, /superbot_auth_connects_refused_total\{reason="expired"\} 2/);
    assert.match(r.body, /superbot_auth_connects_refused_total\{reason="bad_alg"\} \d+/);
    assert.match(r.body, /superbot_auth_connects_refused_total\{reason="session_mismatch"\} 3/);
  });
});
