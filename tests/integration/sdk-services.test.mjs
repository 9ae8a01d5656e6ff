// The SDK services a plugin uses instead of a JSON library and its own
// counters, through the real daemon and the stock client: msg_arg_string /
// number / bool / json (paths, array indexes, wrong types, buffers too
// small, a message already answered), json_quote, and incr in one worker
// and across two workers sharing Redis.  The plugin is the fixture
// tests/fixtures/sdk_services.c, which links no JSON library.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startDaemon, BUILD_DIR, waitRedisConnected } from './lib/daemon.mjs';
import { startRedis, redisMissing } from './lib/redis.mjs';
import { client, connected, request } from './lib/client.mjs';
import { realtimeToken } from './lib/jwt.mjs';

const FIXTURE = path.join(BUILD_DIR, 'tests', 'fixtures', 'sdk-services.so');
const files = { '80-sdk-services.conf': `plugin = sdk-services\npath = ${FIXTURE}\n` };
const SBR_ERR_INVALID = -1;
const SBR_ERR_GONE = -2;
let d;
let s;

before(async () => {
  d = await startDaemon({ files });
  s = client(d, { token: realtimeToken({ sub: 'u1' }), transports: ['websocket'] });
  await connected(s);
});

after(async () => {
  s?.close();
  await d?.stop();
});

const payload = {
  content: 'héllo "world"\n\u0001',
  n: 42.5,
  big: 9007199254740993,
  ok: true,
  author: { name: 'ada', roles: ['admin', 'dev'], 'dotted.key': 1 },
  list: [{ url: 'a' }, { url: 'b' }],
  nothing: null,
};
// socket.io-client's emitWithAck takes one payload; several arguments go through emit.
function readArgs(query, ...args) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no ack')), 5000);
    s.emit('read', query, ...args, (ack) => { clearTimeout(t); resolve(ack); });
  });
}

test('strings: by path, into arrays, with the length and an exact copy', async () => {
  assert.deepEqual(await readArgs({ path: 'content' }, payload), { rc: Buffer.byteLength(payload.content), value: payload.content });
  assert.deepEqual(await readArgs({ path: 'author.name' }, payload), { rc: 3, value: 'ada' });
  assert.deepEqual(await readArgs({ path: 'author.roles.1' }, payload), { rc: 3, value: 'dev' });
  assert.deepEqual(await readArgs({ path: 'list.1.url' }, payload), { rc: 1, value: 'b' });
  // The argument itself, and the second argument.
  assert.deepEqual(await readArgs({ path: '' }, 'plain'), { rc: 5, value: 'plain' });
  assert.deepEqual(await readArgs({ path: 'x', arg: 1 }, {}, { x: 'second' }), { rc: 6, value: 'second' });
});

test('strings: missing values and other types are refused, never guessed', async () => {
  for (const p of ['missing', 'n', 'ok', 'author', 'nothing', 'author.roles.9', 'author.roles.x', 'list.-1.url',
    'author.', '.author', 'author..name', 'author.dotted.key']) {
    assert.deepEqual(await readArgs({ path: p }, payload), { rc: SBR_ERR_INVALID, value: '' }, p);
  }
  assert.deepEqual(await readArgs({ path: 'content', arg: 5 }, payload), { rc: SBR_ERR_INVALID, value: '' });
});

test('strings: a buffer too small gets nothing, and the length to allocate', async () => {
  const text = 'x'.repeat(300);
  assert.deepEqual(await readArgs({ path: 't', buf: 300 }, { t: text }), { rc: 300, value: '' });
  assert.deepEqual(await readArgs({ path: 't', buf: 301 }, { t: text }), { rc: 300, value: text });
  assert.deepEqual(await readArgs({ path: 't', buf: 0 }, { t: text }), { rc: 300, value: null });
});

test('numbers, booleans and JSON values', async () => {
  assert.deepEqual(await readArgs({ path: 'n', type: 'number' }, payload), { rc: 0, value: 42.5 });
  assert.deepEqual(await readArgs({ path: 'list', type: 'number' }, payload), { rc: SBR_ERR_INVALID, value: null });
  assert.deepEqual(await readArgs({ path: 'ok', type: 'bool' }, payload), { rc: 0, value: true });
  assert.deepEqual(await readArgs({ path: 'n', type: 'bool' }, payload), { rc: SBR_ERR_INVALID, value: null });
  const author = JSON.stringify(payload.author);
  assert.deepEqual(await readArgs({ path: 'author', type: 'json', buf: 1000 }, payload),
    { rc: author.length, value: payload.author });
  assert.deepEqual(await readArgs({ path: 'nothing', type: 'json' }, payload), { rc: 4, value: null });
  assert.deepEqual(await readArgs({ path: 'author', type: 'json', buf: 10 }, payload), { rc: author.length, value: null });
});

test('json_quote escapes what JSON needs and refuses nothing valid', async () => {
  for (const text of ['plain', 'quote " backslash \\ slash /', 'new\nline\ttab\u0001\u001f', 'ünï 😀', '']) {
    const r = await request(s, 'quote', text);
    assert.equal(r.quoted, text);
    assert.equal(r.rc, Buffer.byteLength(JSON.stringify(text)));
  }
});

test('a message already answered: the services say GONE', async () => {
  assert.deepEqual(await request(s, 'late', 'x'), { answered: true });
  await d.waitLog(new RegExp(`after the answer msg_arg_string returned ${SBR_ERR_GONE}\\n`));
});

test('incr in one worker: counts, windows, and refuses what is no integer', async () => {
  assert.deepEqual(await request(s, 'count', { key: 'k1', delta: 2 }), { status: 0, count: 2 });
  assert.deepEqual(await request(s, 'count', { key: 'k1', delta: 3 }), { status: 0, count: 5 });
  assert.deepEqual(await request(s, 'count', { key: 'k1', delta: -6 }), { status: 0, count: -1 });
  const burst = await Promise.all(Array.from({ length: 20 }, () => request(s, 'count', { key: 'k2', ttl_ms: 60000 })));
  assert.deepEqual(burst.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
});

test('incr across two workers on one Redis: none lost', { skip: redisMissing() }, async () => {
  const redis = await startRedis();
  const env = { REALTIME_REDIS_URL: redis.url };
  const w = [await startDaemon({ env, files }), await startDaemon({ env, files })];
  const socks = [];
  try {
    await Promise.all(w.map((x) => waitRedisConnected(x)));
    for (const x of w) {
      const c = client(x, { token: realtimeToken({ sub: 'u9' }), transports: ['websocket'] });
      socks.push(c);
      await connected(c);
    }
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      request(socks[i % 2], 'count', { key: 'shared', ttl_ms: 60000 })));
    assert.ok(answers.every((r) => r.status === 0));
    assert.deepEqual(answers.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
  } finally {
    for (const c of socks) c.close();
    for (const x of w) await x.stop();
    await redis.cleanup();
  }
});
