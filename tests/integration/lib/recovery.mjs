// Helpers of the connection state recovery tests: stock clients that keep
// every event they get (with its offset), a way to lose the transport
// under one (its TCP socket destroyed, not disconnect()), and the checks
// that a stream is exact.
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { realtimeToken } from './jwt.mjs';
import { until, http, apiKeyHeader } from './daemon.mjs';

// A stock client (default options unless given) for a user; s.events holds
// [event, ...args] of everything it got, s.connects each connect's
// { recovered, id, events: how many events had arrived by then },
// s.readies each `ready` payload, s.errors each connect_error message.
export function user(url, claims, opts = {}) {
  const { auth, ...rest } = opts;
  const s = io(url, { forceNew: true, auth: { token: realtimeToken(claims), ...(auth || {}) }, ...rest });
  s.events = [];
  s.connects = [];
  s.readies = [];
  s.errors = [];
  s.onAny((event, ...args) => s.events.push([event, ...args]));
  s.on('connect', () => s.connects.push({ recovered: s.recovered, id: s.id, events: s.events.length }));
  s.on('ready', (r) => s.readies.push(r));
  s.on('connect_error', (e) => s.errors.push(e.message));
  return s;
}

// The n-th `ready` payload (0: the first connect's), once it came.
export const readyAt = (s, n, timeoutMs = 10000) => until(`ready #${n}`, () => s.readies[n], timeoutMs);
// The next connect_error message after the n-th.
export const errorAt = (s, n, timeoutMs = 10000) => until(`connect_error #${n}`, () => s.errors[n], timeoutMs);

// Lose the WebSocket under a client: its TCP socket is destroyed, as a
// network failure would; the server sees the transport close.
export async function dropTransport(s) {
  await until('the WebSocket upgrade', () => s.io.engine?.transport?.name === 'websocket', 10000);
  s.io.engine.transport.ws._socket.destroy();
}

// The offset of an event: its last argument, when a string.
export const offsetOf = (e) => (typeof e[e.length - 1] === 'string' ? e[e.length - 1] : undefined);

// Every room event carries a 16-digit offset, strictly increasing over the
// client's whole stream (across reconnections): returns the offsets.
export function assertIncreasing(events, roomEvents = ['message', 'typing_start', 'typing_stop', 'presence_update', 'pub']) {
  const offsets = [];
  for (const e of events) {
    if (!roomEvents.includes(e[0])) continue;
    const off = offsetOf(e);
    assert.match(String(off), /^\d{16}$/, `${e[0]} carries an offset: ${JSON.stringify(e)}`);
    if (offsets.length) assert.ok(off > offsets[offsets.length - 1], `offset ${off} after ${offsets[offsets.length - 1]}`);
    offsets.push(off);
  }
  assert.ok(offsets.length > 0, 'no room event to check');
  return offsets;
}

// The contents of the `message` events a client got, in order.
export const contents = (s) => s.events.filter((e) => e[0] === 'message').map((e) => e[1].content);

// Send n messages to a channel, one after the other (each acked).
export async function sendMany(s, channel, prefix, n, pauseMs = 0) {
  for (let i = 0; i < n; i++) {
    const ack = await s.timeout(10000).emitWithAck('send_message', { channel_id: channel, content: `${prefix}${i}`, nonce: `${prefix}${i}` });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

export { until };

// Join a channel through the channels plugin; its ack must be ok.
export async function joined(s, channel) {
  const ack = await s.timeout(5000).emitWithAck('join_channel', { channel_id: channel });
  assert.equal(ack.ok, true, JSON.stringify(ack));
}

// Publish event `pub` to a room through a worker's server API.
export const publish = (w, room, data) =>
  http(w, 'POST', '/api/realtime/publish', { body: { room, event: 'pub', data }, headers: apiKeyHeader() });
