// A WebSocket stays open while it is quiet: only the Engine.IO heartbeat
// bounds an idle connection, never the HTTP request timeout that applied
// to its upgrade request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon, SOURCE_DIR } from './lib/daemon.mjs';
import { realtimeToken } from './lib/jwt.mjs';
import { client, connected } from './lib/client.mjs';

const HEADER_TIMEOUT_MS = 400;

test('quiet WebSockets outlive header_timeout_ms', async () => {
  const core = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d/10-core.conf'), 'utf8')
    .replace(/^header_timeout_ms = .*$/m, `header_timeout_ms = ${HEADER_TIMEOUT_MS}`);
  assert.match(core, new RegExp(`header_timeout_ms = ${HEADER_TIMEOUT_MS}`));
  const d = await startDaemon({ files: { '10-core.conf': core }, env: { REALTIME_PING_INTERVAL_MS: 25000 } });
  try {
    const direct = client(d, { token: realtimeToken({ sub: 'quiet-ws' }), transports: ['websocket'] });
    const upgraded = client(d, { token: realtimeToken({ sub: 'quiet-upgraded' }) });
    await Promise.all([connected(direct), connected(upgraded)]);
    const end = Date.now() + 5000;
    while (upgraded.io.engine.transport.name !== 'websocket' && Date.now() < end) await delay(20);
    assert.equal(upgraded.io.engine.transport.name, 'websocket');
    const drops = [];
    for (const s of [direct, upgraded]) s.on('disconnect', (reason) => drops.push(reason));
    // Several request timeouts of silence, then one exchange, then silence again:
    // a read after the upgrade must not re-arm the request timeout either.
    await delay(HEADER_TIMEOUT_MS * 3);
    const ack = await direct.timeout(2000).emitWithAck('no_such_event', {});
    assert.equal(ack.ok, false);
    await delay(HEADER_TIMEOUT_MS * 3);
    assert.deepEqual(drops, []);
    assert.ok(direct.connected && upgraded.connected);
    direct.close();
    upgraded.close();
  } finally {
    assert.equal((await d.stop()).code, 0);
  }
});
