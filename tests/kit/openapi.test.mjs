// docs/openapi.yaml against the live daemon: the document is valid OpenAPI
// 3.1, and every answer of every operation (successes and errors) that the
// test provokes matches it; each documented answer must be provoked, but for
// the few listed in UNPROVOKED with the reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startDaemon, SOURCE_DIR, TEST_ENV, until } from '../integration/lib/daemon.mjs';
import { client, connected } from '../integration/lib/client.mjs';
import { sessionToken, sign } from '../integration/lib/jwt.mjs';
import { Contract } from './lib/contract.mjs';

const DOC = path.join(SOURCE_DIR, 'docs/openapi.yaml');
const KEY = { authorization: `Bearer ${TEST_ENV.REALTIME_API_KEY}` };
const JSON_TYPE = { 'content-type': 'application/json' };

// Answers the stock plugins give only when memory or the shared state fails.
const UNPROVOKED = {
  500: 'out of memory in the gateway',
  503: 'the shared state failing to answer (the in-process stand-in always answers)',
};

const contract = new Contract(DOC);
let d;

// One request on its own connection, raw: any method may carry a body.
function call(method, urlPath, { headers = {}, body } = {}) {
  const data = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const all = { ...(data && typeof body !== 'string' ? JSON_TYPE : {}), ...headers };
  if (data) all['content-length'] = data.length;
  return new Promise((resolve, reject) => {
    const req = http.request(`${d.url}${urlPath}`, { method, headers: all, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// Call, check the status, and validate the answer against the document.
async function expect(status, method, urlPath, opts) {
  const answer = await call(method, urlPath, opts);
  assert.equal(answer.status, status, `${method} ${urlPath}: ${answer.text}`);
  contract.check(answer, contract.response(method, urlPath, status));
  return answer.headers['content-type']?.startsWith('application/json') ? JSON.parse(answer.text) : answer.text;
}

// A method the path does not document: 405 with the right Allow.
async function notAllowed(method, urlPath) {
  const answer = await call(method, urlPath);
  assert.equal(answer.status, 405, `${method} ${urlPath}: ${answer.text}`);
  contract.checkNotAllowed(answer, method, urlPath);
}

before(async () => {
  d = await startDaemon();
});

after(async () => {
  const exit = await d?.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'the daemon ends cleanly (no crash, no leak under ASan)');
});

test('the document is valid OpenAPI 3.1 and its $refs resolve', async () => {
  const validator = new Validator();
  const res = await validator.validate(DOC);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 2));
  assert.equal(validator.version, '3.1');
  validator.resolveRefs();
  // Every schema the test validates with compiles under JSON Schema 2020-12.
  for (const id of contract.documented()) {
    const [method, template, status] = id.split(' ');
    const { node, pointer } = contract.deref(contract.doc.paths[template][method.toLowerCase()].responses[status],
      `/paths/${template.replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}`);
    assert.ok(node.description, `${id}: no description`);
    for (const type of Object.keys(node.content || {})) contract.validator(`${pointer}/content/${type.replace('/', '~1')}/schema`);
  }
});

test('POST /api/realtime/token, both identity sources and every refusal', async () => {
  const bearer = { authorization: `Bearer ${sessionToken({ sub: 'u1', sid: 's1', servers: ['7'] })}` };
  const session = await expect(200, 'POST', '/api/realtime/token', { headers: bearer });
  assert.ok(session.token.length > 20);
  await expect(200, 'POST', '/api/realtime/token',
    { headers: KEY, body: { user_id: 'u2', servers: ['7', 8], session_id: 's2', moderates: ['7'] } });
  assert.equal((await expect(400, 'POST', '/api/realtime/token', { headers: { ...KEY, ...JSON_TYPE }, body: '{nope' })).error,
    'invalid_json');
  assert.equal((await expect(400, 'POST', '/api/realtime/token', { headers: KEY, body: { servers: ['7'] } })).error,
    'invalid_body');
  const many = Array.from({ length: 60 }, (_, i) => `server-${i}-${'x'.repeat(40)}`);
  assert.equal((await expect(400, 'POST', '/api/realtime/token', { headers: KEY, body: { user_id: 'u3', servers: many } })).error,
    'token_too_large');
  await expect(401, 'POST', '/api/realtime/token');
  await expect(401, 'POST', '/api/realtime/token', { headers: { authorization: 'Bearer not.a.jwt' } });
  const withoutExp = sign({ sub: 'u1', iat: Math.floor(Date.now() / 1000) }, TEST_ENV.SECRET_KEY);
  await expect(401, 'POST', '/api/realtime/token', { headers: { authorization: `Bearer ${withoutExp}` } });
  await notAllowed('GET', '/api/realtime/token');
});

test('PUT /api/realtime/channels/{channel_id}', async () => {
  const made = await expect(200, 'PUT', '/api/realtime/channels/c1', { headers: KEY, body: { server_id: '7', settings: { slow_mode: 30 } } });
  assert.deepEqual(made, { ok: true, channel_id: 'c1', server_id: '7', slow_mode: 30 });
  const kept = await expect(200, 'PUT', '/api/realtime/channels/c1', { headers: KEY, body: {} });
  assert.equal(kept.slow_mode, 30);
  await expect(200, 'PUT', '/api/realtime/channels/c2', { headers: KEY, body: { server_id: 7 } });
  const missing = await expect(400, 'PUT', '/api/realtime/channels/c3', { headers: KEY, body: { settings: { slow_mode: 1 } } });
  assert.equal(missing.error, 'invalid_body');
  assert.match(missing.detail, /server_id/);
  await expect(400, 'PUT', '/api/realtime/channels/c1', { headers: KEY, body: { settings: { slow_mode: 21601 } } });
  await expect(400, 'PUT', '/api/realtime/channels/bad%20id', { headers: KEY, body: { server_id: '7' } });
  await expect(400, 'PUT', '/api/realtime/channels/c1', { headers: { ...KEY, ...JSON_TYPE }, body: 'nope' });
  await expect(401, 'PUT', '/api/realtime/channels/c1', { body: { server_id: '7' } });
  await expect(401, 'PUT', '/api/realtime/channels/c1', { headers: { authorization: 'Bearer wrong' }, body: { server_id: '7' } });
  await notAllowed('GET', '/api/realtime/channels/c1');
});

test('POST /api/realtime/channels/{channel_id}/reserve', async () => {
  await expect(200, 'PUT', '/api/realtime/channels/slow', { headers: KEY, body: { server_id: '7', settings: { slow_mode: 30 } } });
  assert.deepEqual(await expect(200, 'POST', '/api/realtime/channels/slow/reserve', { headers: KEY, body: { user_id: 'u1' } }),
    { ok: true });
  const refused = await expect(429, 'POST', '/api/realtime/channels/slow/reserve', { headers: KEY, body: { user_id: 'u1' } });
  assert.ok(refused.retry_after > 25 && refused.retry_after <= 30, String(refused.retry_after));
  await expect(404, 'POST', '/api/realtime/channels/never/reserve', { headers: KEY, body: { user_id: 'u1' } });
  await expect(400, 'POST', '/api/realtime/channels/slow/reserve', { headers: KEY, body: { user: 'u1' } });
  await expect(401, 'POST', '/api/realtime/channels/slow/reserve', { body: { user_id: 'u1' } });
  await notAllowed('GET', '/api/realtime/channels/slow/reserve');
});

test('POST /api/realtime/publish', async () => {
  await expect(200, 'POST', '/api/realtime/publish', { headers: KEY, body: { room: 'channel:c1', event: 'message_created', data: { id: '1' } } });
  await expect(200, 'POST', '/api/realtime/publish', { headers: KEY, body: { room: 'user:u1', event: 'ping' } });
  await expect(400, 'POST', '/api/realtime/publish', { headers: KEY, body: { room: 'channel:c1', event: 'connect' } });
  await expect(400, 'POST', '/api/realtime/publish', { headers: KEY, body: [1] });
  await expect(401, 'POST', '/api/realtime/publish', { body: { room: 'channel:c1', event: 'x' } });
  await notAllowed('GET', '/api/realtime/publish');
});

test('GET /api/realtime/presence/{server_id}, with a member online', async (t) => {
  const { token } = await expect(200, 'POST', '/api/realtime/token', { headers: KEY, body: { user_id: 'p1', servers: ['77'] } });
  const socket = client(d, { token });
  t.after(() => socket.close());
  await connected(socket);
  const snap = await until('p1 online', async () => {
    const body = await expect(200, 'GET', '/api/realtime/presence/77', { headers: KEY });
    return body.members.length ? body : null;
  });
  assert.deepEqual(snap, { server_id: '77', members: [{ user_id: 'p1', status: 'online' }] });
  await expect(400, 'GET', '/api/realtime/presence/%01', { headers: KEY });
  await expect(401, 'GET', '/api/realtime/presence/77');
  await notAllowed('POST', '/api/realtime/presence/77');
});

test('POST /api/realtime/sessions/{sid}/revoke', async () => {
  assert.deepEqual(await expect(200, 'POST', '/api/realtime/sessions/s1/revoke', { headers: KEY }), { ok: true, revoked: 's1' });
  await expect(400, 'POST', `/api/realtime/sessions/${'x'.repeat(201)}/revoke`, { headers: KEY });
  await expect(401, 'POST', '/api/realtime/sessions/s1/revoke');
  await notAllowed('GET', '/api/realtime/sessions/s1/revoke');
});

test('PUT and DELETE /api/realtime/users/{user_id}/servers/{server_id}, with the user connected', async (t) => {
  const { token } = await expect(200, 'POST', '/api/realtime/token', { headers: KEY, body: { user_id: 'm1', servers: ['home'] } });
  const socket = client(d, { token });
  t.after(() => socket.close());
  await connected(socket);
  const joined = new Promise((resolve) => socket.once('server_joined', resolve));
  assert.deepEqual(await expect(200, 'PUT', '/api/realtime/users/m1/servers/club', { headers: KEY, body: { moderator: true } }),
    { ok: true, user_id: 'm1', server_id: 'club', member: true, moderator: true });
  assert.deepEqual(await joined, { server_id: 'club' });
  await expect(200, 'PUT', '/api/realtime/users/m1/servers/club', { headers: KEY });
  const left = new Promise((resolve) => socket.once('server_left', resolve));
  assert.deepEqual(await expect(200, 'DELETE', '/api/realtime/users/m1/servers/club', { headers: KEY }),
    { ok: true, user_id: 'm1', server_id: 'club', member: false });
  assert.deepEqual(await left, { server_id: 'club' });
  await expect(200, 'DELETE', '/api/realtime/users/nobody/servers/club', { headers: KEY });
  assert.equal((await expect(400, 'PUT', '/api/realtime/users/m1/servers/club', { headers: { ...KEY, ...JSON_TYPE }, body: '{nope' })).error,
    'invalid_json');
  assert.equal((await expect(400, 'PUT', '/api/realtime/users/m1/servers/club', { headers: KEY, body: { moderator: 1 } })).error,
    'invalid_body');
  await expect(400, 'DELETE', `/api/realtime/users/m1/servers/${'x'.repeat(201)}`, { headers: KEY });
  await expect(400, 'PUT', '/api/realtime/users/%01/servers/club', { headers: KEY });
  await expect(401, 'PUT', '/api/realtime/users/m1/servers/club');
  await expect(401, 'DELETE', '/api/realtime/users/m1/servers/club', { headers: { authorization: 'Bearer wrong' } });
  await notAllowed('GET', '/api/realtime/users/m1/servers/club');
});

test('GET /healthz and GET /metrics', async () => {
  const health = await expect(200, 'GET', '/healthz');
  assert.equal(health.bus, 'disabled');
  assert.equal(health.redis, health.bus);
  assert.match(await expect(200, 'GET', '/metrics'), /^superbot_http_requests_total/m);
  await notAllowed('POST', '/healthz');
  await notAllowed('PUT', '/metrics');
});

test('every operation: 413 for an oversize body, 431 for oversize headers', async () => {
  const big = 'x'.repeat(1_200_000); // over max_body_size (1 MiB), under libevent's own ceiling (2 MiB)
  const pad = { 'x-pad': 'y'.repeat(20_000) }; // over max_header_size (16 KiB), under 32 KiB
  for (const id of contract.documented()) {
    const [method, template, status] = id.split(' ');
    if (status !== '413' && status !== '431') continue;
    const urlPath = template.replace(/\{[^}]+\}/g, 'c1');
    await expect(Number(status), method, urlPath, status === '413' ? { headers: KEY, body: big } : { headers: { ...KEY, ...pad } });
  }
});

test('an unknown path answers the documented 404', async () => {
  const answer = await call('GET', '/api/realtime/nothing-here');
  assert.equal(answer.status, 404);
  contract.checkAgainst(answer, '#/components/responses/NotFound');
});

test('/socket.io/: handshake, refusals, and 503 at max_connections', async (t) => {
  const open = await expect(200, 'GET', '/socket.io/?EIO=4&transport=polling');
  assert.match(open, /^0\{"sid"/);
  await expect(400, 'GET', '/socket.io/?EIO=4&transport=carrier-pigeon');
  await expect(400, 'POST', '/socket.io/?EIO=4&transport=polling&sid=nope', { headers: { 'content-type': 'text/plain' }, body: '40' });
  const sid = JSON.parse(open.slice(1)).sid;
  await expect(200, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { headers: { 'content-type': 'text/plain' }, body: '1' });

  const core = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d/10-core.conf'), 'utf8').replace(/^max_connections = .*$/m, 'max_connections = 1');
  const full = await startDaemon({ files: { '10-core.conf': core } });
  t.after(async () => assert.equal((await full.stop()).code, 0));
  const main = d;
  d = full;
  try {
    await expect(200, 'GET', '/socket.io/?EIO=4&transport=polling');
    await expect(503, 'GET', '/socket.io/?EIO=4&transport=polling');
  } finally {
    d = main;
  }
});

test('every documented answer was seen live', () => {
  const missing = contract.documented().filter((id) => !contract.seen.has(id) && !UNPROVOKED[id.split(' ')[2]]);
  assert.deepEqual(missing, []);
  const no405 = contract.paths().filter((template) => template !== '/socket.io/' && !contract.seen.has(`405 ${template}`));
  assert.deepEqual(no405, [], 'paths never asked with an undocumented method');
});
