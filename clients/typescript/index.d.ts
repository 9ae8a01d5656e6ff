// Types of superbot-realtime's Socket.IO events, for socket.io-client 4.x:
//
//   import { io, Socket } from 'socket.io-client';
//   import type { ServerToClientEvents, ClientToServerEvents } from '@superbot/realtime-events';
//   const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { token } });
//
// Every client event is answered through its ack: `{ ok: true, ... }` or
// `{ ok: false, error: '<code>', ... }`, a union discriminated by `ok` (and,
// among errors, by `error`). The fields are exactly those the gateway's
// plugins send (docs/PROTOCOL.md).

// --- payloads ------------------------------------------------------------------

/** A status a user may set with `presence_set`; `invisible` shows as `offline` to others. */
export type PresenceStatus = 'online' | 'idle' | 'dnd' | 'invisible';

/** A status as other users see it. */
export type VisibleStatus = 'online' | 'idle' | 'dnd' | 'offline';

/** `ready`: the connection is accepted (after the user's own `presence_update`). */
export interface Ready {
  user_id: string;
  /**
   * The servers of the token, less those the user was removed from after
   * the token was issued: the socket is in `server:<id>` for each.
   */
  servers: string[];
  session_id: string | null;
  /**
   * Only when the client asked for a recovery (connection state recovery,
   * the gateway's `recovery_window_seconds`): `true` when it got its socket
   * id, rooms and missed events back (`socket.recovered` too), `false` for a
   * fresh connection (fetch what the app shows).
   */
  recovered?: boolean;
}

/**
 * `server_joined` / `server_left`: the socket joined or left `server:<id>`
 * while connected (the app's backend added or removed the membership, or
 * `refresh_token` brought a token with other servers). Leaving a server
 * also leaves its channels.
 */
export interface ServerMembership {
  server_id: string;
}

/**
 * The last argument of an event that reached the socket through a room,
 * with connection state recovery on: a 16-digit offset, which the stock
 * client keeps to ask for what it missed.  Absent with recovery off.
 */
export type Offset = string;

/** `presence_update`, to the members of each server of the user. */
export interface PresenceUpdate {
  server_id: string;
  user_id: string;
  status: VisibleStatus;
}

/** An online member, in `presence_snapshot` acks. */
export interface PresenceMember {
  user_id: string;
  status: Exclude<VisibleStatus, 'offline'>;
}

/** `typing_start`, to the others in `channel:<id>`; ends with `typing_stop` or after `expires_in` seconds. */
export interface TypingStart {
  channel_id: string;
  user_id: string;
  expires_in: number;
}

/** `typing_stop`: the user sent, stopped, left, or the indicator expired. */
export interface TypingStop {
  channel_id: string;
  user_id: string;
}

/** What the sender attached to a message to recognise it: echoed as given. */
export type Nonce = string | number | null;

/** `message`, to everyone in `channel:<id>` (the sender too, if it joined). */
export interface Message {
  /** A 64-bit snowflake as a decimal string: unique across workers, time-ordered. */
  id: string;
  channel_id: string;
  user_id: string;
  content: string;
  nonce: Nonce;
  /** Milliseconds since the epoch. */
  ts: number;
}

/**
 * Why the server ended the connection, just before its `DISCONNECT`: do not
 * reconnect blindly. `token_expired`: get a new token, then
 * `socket.connect()` (with `auth` as a function, `connect()` alone fetches
 * it); `removed`: the user left the last server the socket had; `revoked`:
 * the session was signed out; `rate_limited`: too many events.
 */
export type DisconnectReasonCode = 'revoked' | 'token_expired' | 'rate_limited' | 'removed';

/** `disconnect_reason`. */
export interface DisconnectReason {
  reason: DisconnectReasonCode;
}

// --- client events and their acks ---------------------------------------------------

export interface ChannelRef {
  channel_id: string;
}

export interface SendMessage {
  channel_id: string;
  /** 1 to `max_content_length` (4000) characters. */
  content: string;
  /** At most 128 bytes as a string. */
  nonce?: Nonce;
}

/** An ack refusing the event with `error`. */
export interface AckError<Code extends string> {
  ok: false;
  error: Code;
}

/** Too many events from this socket: not processed; try again after `retry_after` seconds. */
export interface RateLimited {
  ok: false;
  error: 'rate_limited';
  retry_after: number;
}

/** Slow mode: the user may send again after `retry_after` seconds (millisecond precision). */
export interface SlowModeRefusal {
  ok: false;
  error: 'slow_mode';
  status: 429;
  retry_after: number;
}

/**
 * Errors any event may get: a bad payload, no plugin for the event, the
 * shared state or memory failing, a plugin refusing it (`content_blocked`
 * from a content filter, `refused` without a reason), the inbound rate.
 */
export type CommonError =
  | AckError<'invalid_payload' | 'unknown_event' | 'unavailable' | 'internal' | 'content_blocked' | 'refused'>
  | RateLimited;

export type JoinChannelAck =
  | { ok: true; channel_id: string; server_id: string; slow_mode: number; /** user ids typing now */ typing: string[] }
  | AckError<'forbidden' | 'unknown_channel'>
  | CommonError;

export type LeaveChannelAck = { ok: true; channel_id: string } | CommonError;

/** `forbidden`: typing in a channel the socket has not joined. */
export type TypingStartAck = { ok: true; channel_id: string; expires_in: number } | AckError<'forbidden'> | CommonError;

export type TypingStopAck = { ok: true; channel_id: string } | AckError<'forbidden'> | CommonError;

export type PresenceSetAck = { ok: true; status: PresenceStatus } | AckError<'invalid_status' | 'forbidden'> | CommonError;

/** `forbidden`: the server is not in the token's memberships. */
export type PresenceSnapshotAck =
  | { ok: true; server_id: string; members: PresenceMember[] }
  | AckError<'forbidden'>
  | CommonError;

/**
 * `refresh_token`: the new token's lifetime in seconds; the socket now has
 * its expiry and memberships. `invalid_token`: refused (another user or
 * session, expired, bad signature, revoked session); the old token stays.
 */
export type RefreshTokenAck = { ok: true; expires_in: number } | AckError<'invalid_token'> | CommonError;

export type SendMessageAck =
  | { ok: true; id: string; channel_id: string; nonce: Nonce; ts: number }
  | SlowModeRefusal
  | AckError<'forbidden' | 'unknown_channel'>
  | CommonError;

/** A successful ack of a client event, by event name. */
export type AckOk<Event extends keyof ClientToServerEvents> = Extract<
  Parameters<Parameters<ClientToServerEvents[Event]>[1]>[0],
  { ok: true }
>;

// --- the maps socket.io-client takes -----------------------------------------------

/**
 * Events the gateway sends. `Published` adds the events the app's backend
 * publishes (`POST /api/realtime/publish`), e.g.
 * `ServerToClientEvents<{ message_created: (m: MyMessage) => void }>`.
 */
export type ServerToClientEvents<Published extends { [event: string]: (...args: any[]) => void } = {}> = {
  ready: (ready: Ready) => void;
  presence_update: (update: PresenceUpdate, offset?: Offset) => void;
  typing_start: (typing: TypingStart, offset?: Offset) => void;
  typing_stop: (typing: TypingStop, offset?: Offset) => void;
  message: (message: Message, offset?: Offset) => void;
  disconnect_reason: (why: DisconnectReason) => void;
  server_joined: (joined: ServerMembership) => void;
  server_left: (left: ServerMembership) => void;
} & Published;

/** Events a client sends; each takes its ack callback last (`emitWithAck` resolves with it). */
export interface ClientToServerEvents {
  join_channel: (payload: ChannelRef, ack: (answer: JoinChannelAck) => void) => void;
  leave_channel: (payload: ChannelRef, ack: (answer: LeaveChannelAck) => void) => void;
  typing_start: (payload: ChannelRef, ack: (answer: TypingStartAck) => void) => void;
  typing_stop: (payload: ChannelRef, ack: (answer: TypingStopAck) => void) => void;
  presence_set: (payload: { status: PresenceStatus }, ack: (answer: PresenceSetAck) => void) => void;
  presence_snapshot: (payload: { server_id: string }, ack: (answer: PresenceSnapshotAck) => void) => void;
  send_message: (payload: SendMessage, ack: (answer: SendMessageAck) => void) => void;
  /** A new realtime token for the same user (and session): extends the socket, applies its servers. */
  refresh_token: (payload: { token: string }, ack: (answer: RefreshTokenAck) => void) => void;
}

/** The reasons of a refused connection (`connect_error`'s `message`). */
export type ConnectRefusal = 'authentication_required' | 'invalid_token';
