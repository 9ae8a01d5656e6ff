// The wire order of a namespace's first packets, read by raw clients: the
// CONNECT answer (40{...}) comes first, then what the connect chain
// produced (the user's own presence_update), then `ready` -- on polling
// and on WebSocket, as the reference server sends them.  Clients other
// than the JavaScript one drop events that precede the answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startDaemon } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';

let d;

before(async () => {
  d = await startDaemon();
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

// Socket.IO packets (Engine.IO message packets without their "4") in
// arrival order, until `ready` or the timeout.
function untilReady(packets, waitMore) {
  return packets.findIndex((p) => p.startsWith('2["ready"')) >= 0 ? Promise.resolve() : waitMore();
}

function checkOrder(packets, user) {
  const names = packets.map((p) => (p.startsWith('0') ? 'CONNECT' : JSON.parse(p.slice(1))[0]));
  assert.equal(names[0], 'CONNECT', `first packet of the namespace: ${packets[0]}`);
  assert.match(packets[0], /^0\{"sid":"[^"]+"/);
  const presence = names.indexOf('presence_update');
  const ready = names.indexOf('ready');
  assert.ok(presence > 0, `the user's own presence_update arrives: ${names}`);
  assert.ok(ready > presence, `ready follows the chain's events: ${names}`);
  assert.deepEqual(JSON.parse(packets[presence].slice(1))[1], { server_id: 'o1', user_id: user, status: 'online' });
}

test('WebSocket: 40{...} first, then presence_update, then ready', async () => {
  const token = realtimeToken({ sub: 'order-ws', servers: ['o1'] });
  const ws = new WebSocket(`ws://127.0.0.1:${d.port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
  const packets = [];
  let wake = null;
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
    else if (text.startsWith('4')) packets.push(text.slice(1));
    if (wake) wake();
  });
  const deadline = Date.now() + 5000;
  const more = () => new Promise((resolve, reject) => {
    if (Date.now() > deadline) reject(new Error(`no ready: ${packets}`));
    wake = () => { wake = null; resolve(untilReady(packets, more)); };
  });
  await untilReady(packets, more);
  checkOrder(packets, 'order-ws');
  ws.close();
});

test('polling: 40{...} first, then presence_update, then ready', async () => {
  const token = realtimeToken({ sub: 'order-poll', servers: ['o1'] });
  const base = `${d.url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const sid = JSON.parse(open.slice(1)).sid;
  const url = `${base}&sid=${sid}`;
  const post = await fetch(url, { method: 'POST', body: `40${JSON.stringify({ token })}` });
  assert.equal(await post.text(), 'ok');
  const packets = [];
  const deadline = Date.now() + 5000;
  while (!packets.some((p) => p.startsWith('2["ready"'))) {
    assert.ok(Date.now() < deadline, `no ready: ${packets}`);
    const body = await (await fetch(url)).text();
    for (const p of body.split('\x1e')) if (p.startsWith('4')) packets.push(p.slice(1));
  }
  checkOrder(packets, 'order-poll');
  await fetch(url, { method: 'POST', body: '1' });
});
