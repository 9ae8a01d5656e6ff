// RFC 6455 and Engine.IO at the byte level: a raw TCP client builds its own
// frames (masked or not, fragmented, oversized, bad UTF-8) and HTTP
// long-polling requests, and checks the close codes, the protocol's 400
// answers, and that the server stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { startDaemon, SOURCE_DIR } from './lib/daemon.mjs';

let d;

before(async () => {
  d = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d') });
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

// A raw WebSocket client.  Resolves once the 101 arrived.
function rawWs(query = 'EIO=4&transport=websocket', extraHeaders = '') {
  return new Promise((resolve, reject) => {
    const sock = net.connect(d.port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const c = {
      sock, messages: [], closeCode: null, closed: false, status: null, waiters: [],
      frame(opcode, payload, { fin = true, mask = true, rsv = 0, length } = {}) {
        payload = Buffer.from(payload);
        const len = length ?? payload.length;
        const head = [((fin ? 0x80 : 0) | rsv | opcode)];
        if (len < 126) head.push((mask ? 0x80 : 0) | len);
        else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 255);
        else { head.push((mask ? 0x80 : 0) | 127); const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); head.push(...b); }
        let body = payload;
        if (mask) {
          const m = crypto.randomBytes(4);
          head.push(...m);
          body = Buffer.from(payload.map((x, i) => x ^ m[i % 4]));
        }
        sock.write(Buffer.concat([Buffer.from(head), body]));
      },
      text(s) { this.frame(1, Buffer.from(s)); },
      // Resolve with the next message that is not a ping, or null on close.
      next(timeoutMs = 3000) {
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('timeout waiting for a message')), timeoutMs);
          const check = () => {
            const i = c.messages.findIndex((m) => m.data.toString() !== '2');
            if (i >= 0) { clearTimeout(t); res(c.messages.splice(0, i + 1).pop()); return true; }
            if (c.closed) { clearTimeout(t); res(null); return true; }
            return false;
          };
          if (!check()) c.waiters.push(check);
        });
      },
      closedWith(timeoutMs = 3000) {
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('timeout waiting for close')), timeoutMs);
          const check = () => { if (c.closed) { clearTimeout(t); res(c.closeCode); return true; } return false; };
          if (!check()) c.waiters.push(check);
        });
      },
    };
    const wake = () => { c.waiters = c.waiters.filter((w) => !w()); };
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        c.status = Number(head.split(' ')[1]);
        if (c.status !== 101) { c.body = buf.toString(); resolve(c); return; }
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!head.includes(`Sec-WebSocket-Accept: ${accept}`)) { reject(new Error('bad accept')); return; }
        upgraded = true;
        resolve(c);
      }
      for (;;) {
        if (buf.length < 2) break;
        const op = buf[0] & 15;
        assert.equal(buf[1] & 0x80, 0, 'server frames are unmasked');
        let len = buf[1] & 127, off = 2;
        if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) break;
        const data = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 8) { c.closeCode = data.length >= 2 ? data.readUInt16BE(0) : 1005; }
        else c.messages.push({ op, data });
      }
      wake();
    });
    sock.on('close', () => { c.closed = true; wake(); });
    sock.on('error', () => {});
    sock.write(`GET /socket.io/?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
  });
}

async function healthy() {
  const r = await fetch(`${d.url}/healthz`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
}

// An Engine.IO + Socket.IO session on the main namespace.
async function session() {
  const c = await rawWs();
  assert.equal(c.status, 101);
  const open = await c.next();
  assert.match(open.data.toString(), /^0\{"sid":"[A-Za-z0-9_-]{22,}"/);
  c.text('40');
  assert.match((await c.next()).data.toString(), /^40\{"sid":/);
  assert.equal((await c.next()).data.toString(), '42["auth",{}]');
  return c;
}

test('echo over a raw WebSocket, text split in fragments inside a code point', async () => {
  const c = await session();
  const msg = Buffer.from('42["message","h\u00e9llo \u{1F600}"]');
  const cut = msg.indexOf(0xc3) + 1; // inside the é
  c.frame(1, msg.subarray(0, cut), { fin: false });
  c.frame(9, 'ping-between'); // a control frame between fragments is allowed
  c.frame(0, msg.subarray(cut, cut + 5), { fin: false });
  c.frame(0, msg.subarray(cut + 5));
  const pong = await c.next();
  assert.equal(pong.op, 10);
  assert.equal(pong.data.toString(), 'ping-between');
  assert.equal((await c.next()).data.toString(), '42["message-back","h\u00e9llo \u{1F600}"]');
  c.frame(8, Buffer.from([0x03, 0xe8]));
  assert.equal(await c.closedWith(), 1000);
});

const violations = [
  ['an unmasked frame', (c) => c.frame(1, '42["message",1]', { mask: false }), 1002],
  ['a fragmented ping', (c) => c.frame(9, 'x', { fin: false }), 1002],
  ['a ping over 125 bytes', (c) => c.frame(9, 'p'.repeat(126)), 1002],
  ['a reserved bit', (c) => c.frame(1, '42["message",1]', { rsv: 0x40 }), 1002],
  ['an unknown opcode', (c) => c.frame(3, 'x'), 1002],
  ['a continuation without a message', (c) => c.frame(0, 'x'), 1002],
  ['a new message inside a fragmented one', (c) => { c.frame(1, '42', { fin: false }); c.frame(1, 'x'); }, 1002],
  ['invalid UTF-8', (c) => c.frame(1, Buffer.from([0x34, 0x32, 0xc3, 0x28])), 1007],
  ['invalid UTF-8 across fragments', (c) => { c.frame(1, Buffer.from([0x34, 0xe2, 0x82]), { fin: false }); c.frame(0, Buffer.from([0x28])); }, 1007],
  ['a truncated code point at the end', (c) => c.frame(1, Buffer.from([0x34, 0xe2, 0x82])), 1007],
  ['a message over maxPayload', (c) => c.frame(2, Buffer.alloc(1000001)), 1009],
  ['fragments adding up over maxPayload', (c) => { c.frame(2, Buffer.alloc(600000), { fin: false }); c.frame(0, Buffer.alloc(600000)); }, 1009],
  ['a 64-bit length announcing 2^40 bytes', (c) => c.frame(2, Buffer.alloc(0), { length: 2 ** 40 }), 1009],
  ['a close frame with a 1-byte payload', (c) => c.frame(8, Buffer.from([3])), 1002],
  ['a close frame with a reserved code', (c) => c.frame(8, Buffer.from([0x03, 0xed])), 1002],
];

for (const [name, send, code] of violations) {
  test(`${name} gets close ${code}, and the server stays up`, async () => {
    const c = await session();
    send(c);
    assert.equal(await c.closedWith(), code);
    await healthy();
  });
}

test('WebSocket handshake errors', async () => {
  const noKey = await new Promise((resolve) => {
    const s = net.connect(d.port, '127.0.0.1', () => s.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    let text = '';
    s.on('data', (b) => { text += b; if (text.includes('\r\n\r\n') && text.includes('}')) { s.destroy(); resolve(text); } });
  });
  assert.match(noKey, /^HTTP\/1.1 400/);
  assert.match(noKey, /"code":3/);
  const badVersion = await rawWs('EIO=3&transport=websocket');
  assert.equal(badVersion.status, 400);
  assert.match(badVersion.body, /"code":5/);
  const unknownSid = await rawWs('EIO=4&transport=websocket&sid=nope');
  assert.equal(unknownSid.status, 400);
  assert.match(unknownSid.body, /"code":1,"message":"Session ID unknown"/);
  await healthy();
});

// --- Engine.IO long-polling, raw -----------------------------------------

const EIO = () => `${d.url}/socket.io/?EIO=4&transport=polling`;

async function pollOpen() {
  const r = await fetch(EIO(), { headers: { origin: 'http://example.test' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin') !== null, true);
  const text = await r.text();
  assert.equal(text[0], '0');
  const open = JSON.parse(text.slice(1));
  assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.deepEqual(open.upgrades, ['websocket']);
  assert.equal(open.pingInterval, 300);
  assert.equal(open.pingTimeout, 200);
  assert.equal(open.maxPayload, 1000000);
  assert.ok(Buffer.from(open.sid, 'base64url').length >= 16, 'sid carries 128 bits');
  return open.sid;
}

const post = (sid, body) => fetch(`${EIO()}&sid=${sid}`, { method: 'POST', body });
const get = (sid) => fetch(`${EIO()}&sid=${sid}`);

test('polling: handshake errors use the protocol\'s codes', async () => {
  const cases = [
    [`${d.url}/socket.io/?transport=polling`, 'GET', 5, 'Unsupported protocol version'],
    [`${d.url}/socket.io/?EIO=abc&transport=polling`, 'GET', 5, 'Unsupported protocol version'],
    [`${d.url}/socket.io/?EIO=4`, 'GET', 0, 'Transport unknown'],
    [`${d.url}/socket.io/?EIO=4&transport=abc`, 'GET', 0, 'Transport unknown'],
    [EIO(), 'POST', 2, 'Bad handshake method'],
    [EIO(), 'PUT', 2, 'Bad handshake method'],
    [`${EIO()}&sid=unknown`, 'GET', 1, 'Session ID unknown'],
  ];
  for (const [url, method, code, message] of cases) {
    const r = await fetch(url, { method });
    assert.equal(r.status, 400, url);
    assert.deepEqual(await r.json(), { code, message });
  }
});

test('polling: messages, batching with \\x1e, binary as base64, Socket.IO on top', async () => {
  const sid = await pollOpen();
  // Two packets in one POST: CONNECT then an event with an ack.
  let r = await post(sid, '40\x1e421["message-with-ack","a"]');
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok');
  r = await get(sid);
  const packets = (await r.text()).split('\x1e');
  assert.match(packets[0], /^40\{"sid":"/);
  assert.ok(packets.includes('42["auth",{}]'), packets.join(' | '));
  const rest = packets.includes('431["a"]') ? packets : packets.concat((await (await get(sid)).text()).split('\x1e'));
  assert.ok(rest.includes('431["a"]'), rest.join(' | '));
  // A binary event over polling: the attachment travels as b<base64>.
  r = await post(sid, '451-["message",{"_placeholder":true,"num":0}]\x1ebAQID');
  assert.equal(r.status, 200);
  await r.text();
  let got = [];
  for (let i = 0; i < 5 && got.length < 2; i++) {
    got = got.concat((await (await get(sid)).text()).split('\x1e').filter((p) => p !== '2'));
  }
  assert.deepEqual(got, ['451-["message-back",{"_placeholder":true,"num":0}]', 'bAQID']);
  // Close from the client.
  r = await post(sid, '1');
  assert.equal(r.status, 200);
  await r.text();
  r = await get(sid);
  assert.equal(r.status, 400);
  await r.text();
});

test('polling: a second pending GET is refused and ends the session', async () => {
  const sid = await pollOpen();
  const first = get(sid);
  // Make sure the first GET is held before the second one is sent.
  const r2 = await new Promise((resolve) => setImmediate(async () => resolve(await get(sid))));
  const r1 = await first;
  const statuses = [r1.status, r2.status].sort();
  assert.deepEqual(statuses, [200, 400]);
  await r1.text();
  await r2.text();
});

test('polling: a malformed packet or an oversize body ends the session with 400/413', async () => {
  let sid = await pollOpen();
  let r = await post(sid, '9nope');
  assert.equal(r.status, 400);
  await r.text();
  r = await get(sid);
  assert.equal(r.status, 400);
  await r.text();
  sid = await pollOpen();
  r = await post(sid, '4' + 'x'.repeat(1000001));
  assert.equal(r.status, 413);
  await r.text();
  r = await get(sid);
  assert.equal(r.status, 400);
  await r.text();
  await healthy();
});

test('upgrade: probe, noop for the pending GET, then polling is refused', async () => {
  const sid = await pollOpen();
  const pending = get(sid);
  const c = await rawWs(`EIO=4&transport=websocket&sid=${sid}`);
  assert.equal(c.status, 101);
  c.text('2probe');
  assert.equal((await c.next()).data.toString(), '3probe');
  const held = await pending;
  assert.equal(await held.text(), '6');
  c.text('5');
  c.text('40');
  assert.match((await c.next()).data.toString(), /^40\{"sid"/);
  const r = await get(sid);
  assert.equal(r.status, 400);
  await r.text();
  // A second WebSocket for the same session is accepted, then closed.
  const again = await rawWs(`EIO=4&transport=websocket&sid=${sid}`);
  assert.equal(again.status, 101);
  await again.closedWith();
  c.frame(8, Buffer.from([0x03, 0xe8]));
  assert.equal(await c.closedWith(), 1000);
});

test('heartbeat over polling: ping, pong, and the session closes without pongs', async () => {
  const sid = await pollOpen();
  for (let i = 0; i < 2; i++) {
    const r = await get(sid);
    assert.equal(await r.text(), '2');
    const p = await post(sid, '3');
    assert.equal(p.status, 200);
    await p.text();
  }
  const r = await get(sid);
  assert.equal(await r.text(), '2');
  // No pong: gone after pingTimeout.
  const end = Date.now() + 2000;
  let status = 200;
  while (status !== 400 && Date.now() < end) {
    const x = await get(sid);
    status = x.status;
    await x.text();
  }
  assert.equal(status, 400);
});

test('churn: 300 raw WebSocket sessions opened and dropped, the server stays up', async () => {
  for (let round = 0; round < 3; round++) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => rawWs()));
    for (const [i, c] of batch.entries()) {
      if (i % 3 === 0) c.sock.destroy();          // TCP reset
      else if (i % 3 === 1) c.frame(8, Buffer.from([0x03, 0xe8])); // clean close
      else c.frame(1, Buffer.from([0xff]));        // protocol error
    }
  }
  await healthy();
  const end = Date.now() + 5000;
  let n = -1;
  while (Date.now() < end) {
    n = (await (await fetch(`${d.url}/healthz`)).json()).connections;
    if (n === 0) break;
  }
  assert.equal(n, 0);
});

test('Socket.IO invalid states end the session, as the reference server does', async () => {
  for (const packet of ['42/custom,["message",1]', '40', '41/custom,', '43/custom,1[]', '44{"message":"x"}']) {
    const c = await session();
    c.text(packet);
    assert.equal(await c.next(), null, `after ${packet}`);
    assert.equal(await c.closedWith(), 1000);
  }
  // A refused CONNECT keeps the session: the main namespace still works.
  const c = await session();
  c.text('40/nope,');
  assert.equal((await c.next()).data.toString(), '44/nope,{"message":"Invalid namespace"}');
  c.text('42["message","still"]');
  assert.equal((await c.next()).data.toString(), '42["message-back","still"]');
  c.frame(8, Buffer.from([0x03, 0xe8]));
  await c.closedWith();
});
