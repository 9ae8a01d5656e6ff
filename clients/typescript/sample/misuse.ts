// Misuses of the events: each line marked `// misuse` must fail to compile
// and no other line may (check.mjs), so the types are not `any`.
import { io, Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '..';

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io('/', { auth: { token: 't' } });

export async function misuse(): Promise<void> {
  socket.emit('join_channel', { channel: '42' }, () => {}); // misuse
  socket.emit('send_message', { channel_id: '42', content: 42 }, () => {}); // misuse
  socket.emit('presence_set', { status: 'away' }, () => {}); // misuse
  socket.emit('no_such_event', {}); // misuse
  socket.emit('typing_start', { channel_id: '42' }, (ack) => ack.expires_in); // misuse
  const join = await socket.emitWithAck('join_channel', { channel_id: '42' });
  console.log(join.slow_mode); // misuse
  if (!join.ok) console.log(join.retry_after); // misuse
  const sent = await socket.emitWithAck('send_message', { channel_id: '42', content: 'hi' });
  if (!sent.ok && sent.error === 'slow_mode') console.log(sent.retry_after.toFixed(3));
  if (!sent.ok && sent.error === 'slow_down') console.log(sent); // misuse
  socket.on('message', (m) => { const n: number = m.content; console.log(n); }); // misuse
  socket.on('ready', (r) => console.log(r.user)); // misuse
  socket.on('presence_update', (u) => { if (u.status === 'invisible') console.log(u); }); // misuse
  socket.on('disconnect_reason', ({ reason }) => { if (reason === 'kicked') console.log(reason); }); // misuse
  socket.on('message_created', (m) => console.log(m)); // misuse
  socket.on('server_joined', (j) => console.log(j.channel_id)); // misuse
  socket.emit('refresh_token', { jwt: 't' }, () => {}); // misuse
  const refreshed = await socket.emitWithAck('refresh_token', { token: 't' });
  console.log(refreshed.expires_in); // misuse
  if (!refreshed.ok && refreshed.error === 'expired') console.log(refreshed); // misuse
}
