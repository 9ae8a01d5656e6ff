// Helpers around the official socket.io-client for the integration tests.
import { io } from 'socket.io-client';

// A client that never reconnects by itself, so a test sees every failure.
export function client(d, { token, auth, query = {}, transports, ...opts } = {}) {
  const q = { ...query };
  if (token !== undefined) q.token = token;
  return io(d.url, {
    forceNew: true, reconnection: false, timeout: 5000,
    query: q, ...(auth ? { auth } : {}), ...(transports ? { transports } : {}), ...opts,
  });
}

// Resolve with the event's arguments (the first one alone if single), or reject after timeoutMs.
export function once(socket, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { socket.off(event, on); reject(new Error(`timeout waiting for '${event}'`)); }, timeoutMs);
    function on(...args) { clearTimeout(t); resolve(args.length === 1 ? args[0] : args); }
    socket.once(event, on);
  });
}

// Resolve when connected, reject with the CONNECT_ERROR message otherwise.
export function connected(socket, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout waiting for connect')), timeoutMs);
    socket.once('connect', () => { clearTimeout(t); resolve(socket); });
    socket.once('connect_error', (err) => { clearTimeout(t); reject(err); });
  });
}

// Resolve when connected and `ready` arrived (auth-jwt emits it once the
// connection is accepted): what the connect produced, such as the user's own
// presence_update, came before it, so a listener added now misses nothing
// of the connect and sees only what follows.
export async function ready(socket, timeoutMs = 5000) {
  const got = once(socket, 'ready', timeoutMs);
  got.catch(() => {}); // a refused connect rejects below instead
  await connected(socket, timeoutMs);
  await got;
  return socket;
}

// The CONNECT_ERROR message of a refused connection (throws if it connects).
export async function refusal(socket, timeoutMs = 5000) {
  try {
    await connected(socket, timeoutMs);
  } catch (err) {
    socket.close();
    return err.message;
  }
  socket.close();
  throw new Error('connection was accepted');
}

// Emit with an ack and resolve with the ack's first argument.
export function request(socket, event, data, timeoutMs = 5000) {
  return socket.timeout(timeoutMs).emitWithAck(event, data);
}

// Collect every payload of an event into an array.
export function collect(socket, event) {
  const got = [];
  socket.on(event, (arg) => got.push(arg));
  return got;
}
