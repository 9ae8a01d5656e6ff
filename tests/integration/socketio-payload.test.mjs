// Event payloads with \u0000 in strings: valid JSON, taken by the reference
// server, so they reach plugins whole and come back unchanged; the session
// lives on.  The daemon runs the conformance conf (echo plugin).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startDaemon, SOURCE_DIR } from './lib/daemon.mjs';
import { connected, once } from './lib/client.mjs';

let d;

before(async () => {
  d = await startDaemon({ confDir: path.join(SOURCE_DIR, 'tests', 'conformance', 'conf.d') });
});

after(async () => {
  if (d) assert.equal((await d.stop()).code, 0, d.log);
});

for (const transport of ['websocket', 'polling']) {
  test(`\\u0000 in event strings (${transport}): echoed and acknowledged unchanged`, async () => {
    const s = io(d.url, { forceNew: true, reconnection: false, timeout: 5000, transports: [transport] });
    await connected(s);
    const args = ['a\u0000b', { k: ['\u0000', 'x\u0000'] }, '\u0000'];
    const back = once(s, 'message-back', 3000);
    s.emit('message', ...args);
    assert.deepEqual(await back, args);
    assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', 'a\u0000b'), 'a\u0000b');
    // A name with a NUL is no other, shorter name: no plugin takes it.
    assert.deepEqual(await s.timeout(3000).emitWithAck('message-with-ack\u0000x', 1), { ok: false, error: 'unknown_event' });
    assert.equal(s.connected, true);
    s.close();
  });
}
