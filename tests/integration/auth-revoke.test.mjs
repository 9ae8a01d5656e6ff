// Session revocation: live sockets of the session are closed, its tokens
// refused from then on, other sessions untouched; and start-up without any
// secret is refused with a clear message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected, once, refusal } from './lib/client.mjs';

describe('POST /api/realtime/sessions/{sid}/revoke', () => {
  let d;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  it('needs the API key', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const r = await http(d, 'POST', '/api/realtime/sessions/web-1/revoke', { headers });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { error: 'unauthorized' });
    }
  });

  it('refuses a session id that is no id', async () => {
    for (const sid of ['a%0Ab', 'x'.repeat(201)]) {
      const r = await http(d, 'POST', `/api/realtime/sessions/${sid}/revoke`, { headers: apiKeyHeader() });
      assert.equal(r.status, 400, sid);
      assert.deepEqual(r.body, { error: 'invalid_session_id' });
    }
  });

  it('disconnects the live sockets of the session and refuses its tokens', async () => {
    const token = realtimeToken({ sub: 'u1', sid: 'web-1' });
    const a = client(d, { token, transports: ['polling'] });
    const b = client(d, { token, transports: ['websocket'] });
    const other = client(d, { token: realtimeToken({ sub: 'u1', sid: 'web-2' }) });
    await Promise.all([connected(a), connected(b), connected(other)]);
    const goneA = once(a, 'disconnect');
    const goneB = once(b, 'disconnect');
    const whyA = once(a, 'disconnect_reason');
    const whyB = once(b, 'disconnect_reason');
    const r = await http(d, 'POST', '/api/realtime/sessions/web-1/revoke', { headers: apiKeyHeader() });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true, revoked: 'web-1' });
    // The reason first, then the DISCONNECT: socket.io-client passes
    // (reason, details) and does not reconnect after "io server
    // disconnect", on either transport (over polling the Engine.IO close
    // comes in the next answer, so the client acts on the DISCONNECT first).
    assert.deepEqual(await whyA, { reason: 'revoked' });
    assert.deepEqual(await whyB, { reason: 'revoked' });
    assert.equal([await goneA].flat()[0], 'io server disconnect', 'polling');
    assert.equal([await goneB].flat()[0], 'io server disconnect', 'websocket');
    // Reconnecting with the same token, or a fresh one of that session, is refused.
    assert.equal(await refusal(client(d, { token })), 'invalid_token');
    assert.equal(await refusal(client(d, { auth: { token: realtimeToken({ sub: 'u1', sid: 'web-1' }) } })),
      'invalid_token');
    // Another session of the same user is untouched.
    assert.equal(other.connected, true);
    other.close();
    const m = await http(d, 'GET', '/metrics');
    assert.match(m.body, /superbot_auth_revocations_total 1/);
    assert.match(m.body, /superbot_auth_connects_refused_total\{reason="revoked"\} 2/);
  });

  it('keeps accepting tokens without a session', async () => {
    const s = client(d, { token: realtimeToken({ sub: 'u1' }) });
    await connected(s);
    s.close();
  });
});

describe('start-up', () => {
  it('refuses to start without REALTIME_JWT_SECRET or SECRET_KEY', async () => {
    const d = await startDaemon({ env: { REALTIME_JWT_SECRET: null, SECRET_KEY: null }, ready: false });
    let timer;
    const exit = await Promise.race([d.exitPromise, new Promise((resolve) => { timer = setTimeout(resolve, 10000, null); })]);
    clearTimeout(timer);
    if (!exit) await d.stop('SIGKILL');
    assert.ok(exit, 'the daemon kept running');
    assert.notEqual(exit.code, 0);
    assert.match(d.log, /REALTIME_JWT_SECRET/);
    assert.match(d.log, /SECRET_KEY/);
    await d.stop();
  });

  it('signs with SECRET_KEY when REALTIME_JWT_SECRET is unset', async () => {
    const d = await startDaemon({ env: { REALTIME_JWT_SECRET: null } });
    try {
      const r = await http(d, 'POST', '/api/realtime/token', { headers: apiKeyHeader(), body: { user_id: 'u1' } });
      assert.equal(r.status, 200);
      const s = client(d, { token: r.body.token });
      await connected(s);
      s.close();
    } finally {
      await d.stop();
    }
  });
});
