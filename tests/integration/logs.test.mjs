// Logs: log_level = debug adds connection-level lines (sessions opened and
// upgraded, connects with user and transport, refusals with their reasons,
// rooms joined and left, disconnect reasons); log_format = json writes each
// line as one JSON object, escaped so that hostile text stays one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, http, apiKeyHeader, until } from './lib/daemon.mjs';
import { client, connected, refusal, request } from './lib/client.mjs';
import { realtimeToken } from './lib/jwt.mjs';

// A user id with quotes, a backslash and non-ASCII text (auth-jwt refuses
// control characters in ids), and an event name with control characters.
const HOSTILE_USER = 'u"1\\é}{ \'x';
const HOSTILE_EVENT = 'ev"il\n\r\t\u0001\u007f\\end';

function jsonLines(log) {
  return log.split('\n').filter((l) => l.length).map((l) => {
    try {
      return JSON.parse(l);
    } catch (err) {
      throw new Error(`not a JSON line: ${JSON.stringify(l)}`);
    }
  });
}

test('json and debug: one JSON object per line, with connection fields', async () => {
  const d = await startDaemon({ env: { REALTIME_LOG_FORMAT: 'json', REALTIME_LOG_LEVEL: 'debug' } });
  try {
    assert.equal((await http(d, 'PUT', '/api/realtime/channels/42', {
      body: { server_id: 's1' }, headers: apiKeyHeader(),
    })).status, 200);
    const ws = client(d, { token: realtimeToken({ sub: HOSTILE_USER, servers: ['s1'] }), transports: ['websocket'] });
    await connected(ws);
    assert.equal((await request(ws, 'join_channel', { channel_id: '42' })).ok, true);
    assert.deepEqual(await request(ws, 'join_channel', { channel_id: 'nope' }), { ok: false, error: 'unknown_channel' });
    assert.deepEqual(await request(ws, HOSTILE_EVENT, {}), { ok: false, error: 'unknown_event' });
    ws.disconnect();
    assert.equal(await refusal(client(d, { token: 'not.a.token' })), 'invalid_token');
    const polling = client(d, { token: realtimeToken({ sub: 'u2' }) });
    await connected(polling);
    await until('the upgrade', () => polling.io.engine.transport.name === 'websocket');
    polling.close();

    const lines = await until('the disconnects logged', () => {
      const all = jsonLines(d.log);
      return all.filter((l) => l.msg === 'disconnected').length >= 3 ? all : null;
    });
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).slice(0, 4), ['ts', 'level', 'component', 'msg']);
      assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level));
    }
    const find = (pred, what) => {
      const l = lines.find(pred);
      assert.ok(l, `${what} in\n${d.log}`);
      return l;
    };
    assert.equal(find((l) => l.msg.startsWith('superbot-realtime') && l.msg.includes('ready'), 'ready').level, 'info');
    const conn = find((l) => l.msg === 'connected' && l.user === HOSTILE_USER, 'the connect');
    assert.equal(conn.level, 'debug');
    assert.equal(conn.component, 'sio');
    assert.equal(conn.transport, 'websocket');
    assert.equal(conn.nsp, '/');
    assert.equal(conn.remote, '127.0.0.1');
    assert.match(conn.conn, /^\d+$/);
    assert.ok(conn.sid.length > 10);
    find((l) => l.msg === 'joined a room' && l.room === 'channel:42' && l.conn === conn.conn, 'the join');
    find((l) => l.msg === 'joined a room' && l.room === `user:${HOSTILE_USER}`, 'the user room, escaped');
    find((l) => l.msg === 'event refused' && l.event === 'join_channel' && l.reason === 'unknown_channel', 'the refusal');
    find((l) => l.msg === 'event refused' && l.event === HOSTILE_EVENT && l.reason === 'unknown_event',
      'the event name with control characters, escaped');
    find((l) => l.msg === 'connect refused' && l.reason === 'invalid_token', 'the refused connect');
    find((l) => l.msg === 'disconnected' && l.conn === conn.conn && l.reason === 'client namespace disconnect',
      'the disconnect reason');
    find((l) => l.msg === 'session opened' && l.transport === 'polling', 'a polling session');
    find((l) => l.msg === 'session upgraded from polling' && l.transport === 'websocket', 'the upgrade');
    find((l) => l.msg === 'connected' && l.user === 'u2', 'the polling connect');
  } finally {
    await d.stop();
  }
});

test('text: debug lines carry key=value fields; info has none of them', async () => {
  const d = await startDaemon({ env: { REALTIME_LOG_LEVEL: 'debug' } });
  try {
    const c = client(d, { token: realtimeToken({ sub: 'u3' }), transports: ['websocket'] });
    await connected(c);
    c.disconnect();
    await d.waitLog(/ DEBUG sio: disconnected conn=\d+ sid=\S+ nsp=\/ user=u3 transport=websocket remote=127\.0\.0\.1 reason="client namespace disconnect"\n/);
    assert.match(d.log, / DEBUG sio: connected conn=\d+ sid=\S+ nsp=\/ user=u3 transport=websocket remote=127\.0\.0\.1\n/);
    assert.match(d.log, / DEBUG sio: joined a room conn=\d+ .* room=user:u3\n/);
    assert.match(d.log, / INFO core: superbot-realtime \S+ ready/);
  } finally {
    await d.stop();
  }
  const quiet = await startDaemon();
  try {
    const c = client(quiet, { token: realtimeToken({ sub: 'u4' }), transports: ['websocket'] });
    await connected(c);
    c.disconnect();
    assert.equal(await refusal(client(quiet, { token: 'bad' })), 'invalid_token');
    await delayMs(100);
    assert.doesNotMatch(quiet.log, /DEBUG|connected conn=/);
  } finally {
    await quiet.stop();
  }
});

test('a bad log_format stops start-up with file:line', async () => {
  const d = await startDaemon({ env: { REALTIME_LOG_FORMAT: 'yaml' }, ready: false });
  const exit = await d.exitPromise;
  assert.equal(exit.code, 1);
  assert.match(d.log, /10-core\.conf:\d+: key 'log_format' expects text or json, got 'yaml'/);
});

const delayMs = (ms) => new Promise((r) => setTimeout(r, ms));
