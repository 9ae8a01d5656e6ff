// The environment of the demo page (plugins/demo/page/demo.js) for its
// type check: index.html loads socket.io-client's browser bundle, whose
// global `io` is declared here as speaking the gateway's events.
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '..';

declare global {
  function io(uri: string, opts?: Partial<ManagerOptions & SocketOptions>): Socket<ServerToClientEvents, ClientToServerEvents>;
}
