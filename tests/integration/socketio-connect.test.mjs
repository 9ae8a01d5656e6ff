// Events a plugin emits to a connection while its CONNECT is still being
// decided (a connect hook returned SBR_PENDING): they reach the client right
// after the CONNECT answer (always the namespace's first packet, as the
// reference server sends it), in order, and never after a refusal.  The
// daemon runs the conformance conf plus the sio-rooms fixture, whose
// CONNECT auth {"later": true | "reason", "early": true} emits `early` 1
// (to the socket) and 2 (to a room it joined) before deciding.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startDaemon, BUILD_DIR, SOURCE_DIR } from './lib/daemon.mjs';
import { connected } from './lib/client.mjs';

const FIXTURES = path.join(BUILD_DIR, 'tests', 'fixtures');
let d;

before(async () => {
  d = await startDaemon({
    confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d'),
    files: { '30-sio-rooms.conf': `plugin = sio-rooms\npath = ${FIXTURES}/sio-rooms.so\n` },
  });
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

// The Socket.IO packets of a raw client, from its CONNECT until `until`
// matches one (bounded by timeoutMs).
async function rawConnect(transport, connectPacket, until, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  const got = [];
  if (transport === 'websocket') {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/socket.io/?EIO=4&transport=websocket`);
    try {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(got)}`)), timeoutMs);
        ws.on('error', reject);
        ws.on('message', (m) => {
          const text = m.toString();
          if (text.startsWith('0')) { ws.send(connectPacket); return; }
          if (!text.startsWith('4')) return; // heartbeat
          got.push(text.slice(1));
          if (until(text.slice(1))) { clearTimeout(t); resolve(); }
        });
      });
    } finally {
      ws.terminate();
    }
    return got;
  }
  const base = `${d.url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const { sid } = JSON.parse(open.slice(1));
  const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: connectPacket });
  assert.equal(post.status, 200);
  await post.arrayBuffer();
  while (Date.now() < end) {
    const r = await fetch(`${base}&sid=${sid}`);
    if (r.status !== 200) break;
    for (const p of (await r.text()).split('\x1e')) {
      if (!p.startsWith('4')) continue;
      got.push(p.slice(1));
      if (until(p.slice(1))) return got;
    }
  }
  throw new Error(`polling ended without the expected packet; got ${JSON.stringify(got)}`);
}

for (const transport of ['websocket', 'polling']) {
  test(`raw ${transport}: events emitted during a pending CONNECT follow its answer, in order`, async () => {
    const got = await rawConnect(transport, '40{"later":true,"early":true}', (p) => p.startsWith('2["auth"'));
    assert.match(got[0], /^0\{"sid":"[^"]+"\}$/);
    // Then what the connect chain emitted, then what the echo plugin emits
    // once the connection is accepted.
    assert.deepEqual(got.slice(1), ['2["early",1]', '2["early",2]', '2["auth",{"later":true,"early":true}]']);
  });

  test(`raw ${transport}: a refused CONNECT gets CONNECT_ERROR only`, async () => {
    const got = await rawConnect(transport, '40{"later":"late_refusal","early":true}', (p) => p.startsWith('4'));
    assert.deepEqual(got, ['4{"message":"late_refusal"}']);
  });

  test(`socket.io-client (${transport}): early events arrive once connected, in order`, async () => {
    const s = io(d.url, {
      forceNew: true, reconnection: false, timeout: 5000, transports: [transport],
      auth: { later: true, early: true },
    });
    const seen = [];
    s.onAny((event, arg) => seen.push([event, arg]));
    s.on('connect', () => seen.push(['connect']));
    await connected(s);
    // A round trip: nothing else was waiting.
    assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', 'x'), 'x');
    // The echo plugin's `auth` is sent once connected, after the answer.
    assert.deepEqual(seen, [['connect'], ['early', 1], ['early', 2], ['auth', { later: true, early: true }]]);
    s.close();
  });
}

test('a refused pending CONNECT: connect_error, no early event, the daemon stays healthy', async () => {
  const s = io(d.url, {
    forceNew: true, reconnection: false, timeout: 5000, transports: ['websocket'],
    auth: { later: 'late_refusal', early: true },
  });
  const seen = [];
  s.onAny((event) => seen.push(event));
  await assert.rejects(connected(s), /late_refusal/);
  s.close();
  assert.deepEqual(seen, []);
  const r = await fetch(`${d.url}/healthz`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
});
