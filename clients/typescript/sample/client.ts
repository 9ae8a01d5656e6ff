// A client of superbot-realtime using every event with the package's types
// (type-checked in CI with `tsc --noEmit`; not run).
import { io, Socket } from 'socket.io-client';
import type {
  AckOk,
  ClientToServerEvents,
  ConnectRefusal,
  Message,
  PresenceStatus,
  ServerToClientEvents,
} from '..';

// What the app's backend publishes to `channel:<id>` (POST /api/realtime/publish).
interface MessageCreated {
  id: string;
  channel_id: string;
  user_id: string;
  content: string;
  ts: number;
}
type Events = ServerToClientEvents<{ message_created: (message: MessageCreated) => void }>;

export type ChatSocket = Socket<Events, ClientToServerEvents>;

export function connect(url: string, token: string): ChatSocket {
  const socket: ChatSocket = io(url, { auth: { token } });
  trackServers(socket);

  socket.on('ready', ({ user_id, servers, session_id }) => {
    console.log(`signed in as ${user_id} (session ${session_id ?? 'none'}), servers ${servers.join(', ')}`);
  });
  socket.on('presence_update', ({ server_id, user_id, status }) => {
    const away: boolean = status === 'idle' || status === 'dnd';
    console.log(server_id, user_id, status === 'offline' ? 'left' : away ? 'away' : 'here');
  });
  socket.on('typing_start', ({ channel_id, user_id, expires_in }) => {
    setTimeout(() => console.log(`${user_id} in ${channel_id}: indicator over`), expires_in * 1000);
  });
  socket.on('typing_stop', ({ channel_id, user_id }) => console.log(`${user_id} stopped in ${channel_id}`));
  socket.on('message', (message: Message) => {
    const when: Date = new Date(message.ts);
    const nonce: string | number | null = message.nonce;
    console.log(when.toISOString(), message.id, message.user_id, message.content, nonce);
  });
  socket.on('message_created', ({ id, content }) => console.log('published by the app:', id, content));
  socket.on('disconnect_reason', ({ reason }) => {
    switch (reason) {
      case 'revoked':
        return console.log('signed out: do not reconnect');
      case 'removed':
        return console.log('removed from the last server: do not reconnect');
      case 'token_expired':
        return console.log('get a new token, then socket.connect()');
      case 'rate_limited':
        return console.log('slow down');
    }
  });
  socket.on('connect_error', (err) => {
    const why = err.message as ConnectRefusal;
    if (why === 'invalid_token' || why === 'authentication_required') console.log('token refused:', why);
  });
  return socket;
}

// Join a channel: its slow mode and who is typing now, or why not.
export async function join(socket: ChatSocket, channelId: string): Promise<AckOk<'join_channel'> | null> {
  const ack = await socket.timeout(5000).emitWithAck('join_channel', { channel_id: channelId });
  if (ack.ok) {
    const slow: number = ack.slow_mode;
    const typing: string[] = ack.typing;
    console.log(`joined ${ack.channel_id} of server ${ack.server_id}: slow ${slow} s, typing ${typing.join(', ')}`);
    return ack;
  }
  if (ack.error === 'rate_limited') console.log(`retry in ${ack.retry_after} s`);
  else console.log(`cannot join: ${ack.error}`);
  return null;
}

// Send a message; on slow mode, the seconds to wait.
export async function send(socket: ChatSocket, channelId: string, content: string): Promise<string | number> {
  const ack = await socket.emitWithAck('send_message', { channel_id: channelId, content, nonce: `${Date.now()}` });
  if (ack.ok) return ack.id;
  switch (ack.error) {
    case 'slow_mode': {
      const status: 429 = ack.status;
      return status === 429 ? ack.retry_after : 0;
    }
    case 'rate_limited':
      return ack.retry_after;
    case 'forbidden':
    case 'unknown_channel':
    case 'invalid_payload':
    case 'unknown_event':
    case 'unavailable':
    case 'internal':
    case 'content_blocked':
    case 'refused':
      throw new Error(ack.error);
  }
}

export function typing(socket: ChatSocket, channelId: string, on: boolean): void {
  if (on) {
    socket.emit('typing_start', { channel_id: channelId }, (ack) => {
      if (ack.ok) console.log(`typing shown for ${ack.expires_in} s`);
    });
  } else {
    socket.emit('typing_stop', { channel_id: channelId }, (ack) => {
      if (!ack.ok) console.log(ack.error);
    });
  }
}

export function leave(socket: ChatSocket, channelId: string): void {
  socket.timeout(2000).emit('leave_channel', { channel_id: channelId }, (err, ack) => {
    if (err) console.log('no answer');
    else if (ack.ok) console.log(`left ${ack.channel_id}`);
  });
}

export async function presence(socket: ChatSocket, serverId: string, status: PresenceStatus): Promise<string[]> {
  const set = await socket.emitWithAck('presence_set', { status });
  if (!set.ok && set.error === 'invalid_status') throw new Error('not a status');
  const snap = await socket.emitWithAck('presence_snapshot', { server_id: serverId });
  return snap.ok ? snap.members.map((m) => `${m.user_id}: ${m.status}`) : [];
}

// The servers the socket is in: from `ready`, then as the backend adds or
// removes memberships (or a refreshed token changes them).
export function trackServers(socket: ChatSocket): Set<string> {
  const servers = new Set<string>();
  socket.on('ready', (ready) => {
    servers.clear();
    ready.servers.forEach((id) => servers.add(id));
  });
  socket.on('server_joined', ({ server_id }) => servers.add(server_id));
  socket.on('server_left', ({ server_id }) => {
    servers.delete(server_id); // its channels are left too: drop their views
  });
  return servers;
}

// A socket whose token is fetched from the app's backend at each connect;
// it refreshes in-band before expiry, and reconnects by itself after a
// token_expired ending (auth as a function is called again).
export function connectRefreshing(url: string, fetchToken: () => Promise<{ token: string; expires_in: number }>): ChatSocket {
  const socket: ChatSocket = io(url, {
    auth: (cb) => {
      fetchToken().then(({ token }) => cb({ token }));
    },
  });
  let reason: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (seconds: number) => {
    clearTimeout(timer);
    timer = setTimeout(refresh, Math.max(1, seconds - 30) * 1000);
  };
  async function refresh(): Promise<void> {
    const { token, expires_in } = await fetchToken();
    const ack = await socket.timeout(5000).emitWithAck('refresh_token', { token });
    if (ack.ok) schedule(ack.expires_in);
    else if (ack.error === 'invalid_token') socket.disconnect().connect();
    else if (ack.error === 'rate_limited') schedule(ack.retry_after);
    else schedule(Math.min(expires_in, 60));
  }
  socket.on('ready', () => {
    reason = null;
    schedule(60);
  });
  socket.on('disconnect_reason', (why) => {
    reason = why.reason;
  });
  socket.on('disconnect', (why) => {
    clearTimeout(timer);
    if (why === 'io server disconnect' && reason === 'token_expired') socket.connect();
  });
  return socket;
}
