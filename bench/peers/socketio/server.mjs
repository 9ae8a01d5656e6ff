// The benchmark peer: the subset of SPEC.md the load tool drives, written the
// way a Socket.IO user would write it (official server, Redis adapter for
// several workers, jsonwebtoken): channels, messages, typing and presence_set
// (no presence at connect, no shared typing or presence state across workers).  Environment: REALTIME_LISTEN (host:port),
// REALTIME_JWT_SECRET, REALTIME_API_KEY, REALTIME_REDIS_URL (optional: shared
// channels and cross-worker broadcast), REALTIME_JWT_TTL_SECONDS.
import http from 'node:http';
import crypto from 'node:crypto';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import jwt from 'jsonwebtoken';

const [host, port] = (process.env.REALTIME_LISTEN || '127.0.0.1:8090').split(':');
const secret = process.env.REALTIME_JWT_SECRET;
const apiKey = process.env.REALTIME_API_KEY || '';
const redisUrl = process.env.REALTIME_REDIS_URL || '';
const ttl = Number(process.env.REALTIME_JWT_TTL_SECONDS || 300);
const audience = 'superbot-realtime';
const issuer = 'superbot';
const maxBody = 1 << 20;
if (!secret) {
  console.error('REALTIME_JWT_SECRET is required');
  process.exit(1);
}

// Channels are registered once by the backend and read on every join and
// send, so each worker keeps a copy; with Redis the hash is the shared truth.
const channels = new Map();
let store = null;

async function channelGet(id) {
  let ch = channels.get(id);
  if (ch || !store) return ch;
  const raw = await store.hGet('channels', id);
  if (!raw) return undefined;
  ch = JSON.parse(raw);
  channels.set(id, ch);
  return ch;
}

async function channelPut(id, body) {
  const old = await channelGet(id);
  const serverId = body.server_id ?? old?.server_id;
  if (typeof serverId !== 'string' || serverId === '') return false;
  const ch = { server_id: serverId, settings: { slow_mode: body.settings?.slow_mode ?? old?.settings.slow_mode ?? 0 } };
  channels.set(id, ch);
  if (store) {
    await store.hSet('channels', id, JSON.stringify(ch));
    await store.publish('channels', id);
  }
  return true;
}

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBody) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { resolve(undefined); }
    });
  });
}

function issueToken(userId, servers, sessionId, moderates) {
  const claims = { sub: userId, servers, jti: crypto.randomUUID() };
  if (sessionId) claims.sid = sessionId;
  if (moderates) claims.moderates = moderates;
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: ttl, audience, issuer });
}

async function handleHttp(req, res) {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/healthz') {
    return reply(res, 200, { status: 'ok', connections: io.engine.clientsCount });
  }
  if (!url.pathname.startsWith('/api/realtime/')) return reply(res, 404, { error: 'not_found' });
  if (!apiKey || req.headers.authorization !== `Bearer ${apiKey}`) {
    req.resume();
    return reply(res, 401, { error: 'authentication_required' });
  }
  const body = await readJson(req);
  if (body === undefined || typeof body !== 'object' || body === null) return reply(res, 400, { error: 'invalid_json' });
  if (req.method === 'POST' && url.pathname === '/api/realtime/token') {
    if (typeof body.user_id !== 'string') return reply(res, 400, { error: 'invalid_user_id' });
    const servers = Array.isArray(body.servers) ? body.servers.map(String) : [];
    return reply(res, 200, { token: issueToken(body.user_id, servers, body.session_id, body.moderates), expires_in: ttl });
  }
  const m = /^\/api\/realtime\/channels\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'PUT' && m) {
    if (!(await channelPut(decodeURIComponent(m[1]), body))) return reply(res, 400, { error: 'server_id_required' });
    return reply(res, 200, { ok: true });
  }
  if (req.method === 'POST' && url.pathname === '/api/realtime/publish') {
    if (typeof body.room !== 'string' || typeof body.event !== 'string') return reply(res, 400, { error: 'invalid_request' });
    io.to(body.room).emit(body.event, body.data ?? null);
    return reply(res, 200, { ok: true });
  }
  return reply(res, 404, { error: 'not_found' });
}

const httpServer = http.createServer((req, res) => {
  handleHttp(req, res).catch(() => reply(res, 500, { error: 'internal' }));
});
const io = new Server(httpServer, { serveClient: false, cors: { origin: '*' } });

if (redisUrl) {
  store = createClient({ url: redisUrl });
  const pub = store.duplicate();
  const sub = store.duplicate();
  const invalidations = store.duplicate();
  await Promise.all([store.connect(), pub.connect(), sub.connect(), invalidations.connect()]);
  // Another worker updated a channel: drop the cached copy.
  await invalidations.subscribe('channels', (id) => channels.delete(id));
  io.adapter(createAdapter(pub, sub));
}

io.use((socket, next) => {
  const token = socket.handshake.auth?.token ?? socket.handshake.query.token;
  if (!token) return next(new Error('authentication_required'));
  jwt.verify(token, secret, { algorithms: ['HS256'], audience, issuer }, (err, claims) => {
    if (err || typeof claims.sub !== 'string') return next(new Error('invalid_token'));
    socket.data.user = { id: claims.sub, servers: new Set(claims.servers || []), sessionId: claims.sid ?? null };
    next();
  });
});

let sequence = 0;
const workerTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;

io.on('connection', (socket) => {
  const user = socket.data.user;
  socket.join(`user:${user.id}`);
  for (const s of user.servers) socket.join(`server:${s}`);
  socket.emit('ready', { user_id: user.id, servers: [...user.servers], session_id: user.sessionId });

  async function channelFor(payload, ack) {
    if (typeof ack !== 'function') return undefined;
    const id = payload?.channel_id;
    if (typeof id !== 'string') return ack({ ok: false, error: 'invalid_payload' }), undefined;
    const ch = await channelGet(id);
    if (!ch) return ack({ ok: false, error: 'unknown_channel' }), undefined;
    if (!user.servers.has(ch.server_id)) return ack({ ok: false, error: 'forbidden' }), undefined;
    return { id, ch };
  }

  socket.on('join_channel', async (payload, ack) => {
    const found = await channelFor(payload, ack);
    if (!found) return;
    socket.join(`channel:${found.id}`);
    ack({ ok: true, channel_id: found.id, slow_mode: found.ch.settings.slow_mode, typing: [] });
  });

  socket.on('leave_channel', (payload, ack) => {
    if (typeof ack !== 'function') return;
    if (typeof payload?.channel_id !== 'string') return ack({ ok: false, error: 'invalid_payload' });
    socket.leave(`channel:${payload.channel_id}`);
    ack({ ok: true, channel_id: payload.channel_id });
  });

  socket.on('send_message', async (payload, ack) => {
    const found = await channelFor(payload, ack);
    if (!found) return;
    if (typeof payload.content !== 'string' || payload.content === '' || payload.content.length > 4000) return ack({ ok: false, error: 'invalid_payload' });
    const id = `${workerTag}-${++sequence}`;
    io.to(`channel:${found.id}`).emit('message', {
      id, channel_id: found.id, user_id: user.id, content: payload.content, nonce: payload.nonce ?? null, ts: Date.now(),
    });
    ack({ ok: true, id });
    typingEnd(socket, found.id);
  });

  // Typing: others in the channel see it start, and stop on typing_stop, a
  // message from the typist, or after the TTL without a refresh.
  socket.on('typing_start', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const id = payload?.channel_id;
    if (typeof id !== 'string') return ack({ ok: false, error: 'invalid_payload' });
    const room = `channel:${id}`;
    if (!socket.rooms.has(room)) return ack({ ok: false, error: 'forbidden' });
    const key = `${id}\n${user.id}`;
    const old = typing.get(key);
    if (old) clearTimeout(old);
    else socket.to(room).emit('typing_start', { channel_id: id, user_id: user.id, expires_in: typingTtl });
    typing.set(key, setTimeout(() => typingEnd(socket, id), typingTtl * 1000));
    ack({ ok: true, channel_id: id, expires_in: typingTtl });
  });

  socket.on('typing_stop', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const id = payload?.channel_id;
    if (typeof id !== 'string') return ack({ ok: false, error: 'invalid_payload' });
    typingEnd(socket, id);
    ack({ ok: true, channel_id: id });
  });

  // Presence: the members of the user's servers see the new status.
  socket.on('presence_set', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const status = payload?.status;
    if (!presenceStatuses.has(status)) return ack({ ok: false, error: 'invalid_status' });
    const shown = status === 'invisible' ? 'offline' : status;
    for (const s of user.servers) io.to(`server:${s}`).emit('presence_update', { server_id: s, user_id: user.id, status: shown });
    ack({ ok: true, status });
  });
});

const typingTtl = Number(process.env.REALTIME_TYPING_TTL_SECONDS || 10);
const typing = new Map();
const presenceStatuses = new Set(['online', 'idle', 'dnd', 'invisible']);

function typingEnd(socket, channelId) {
  const key = `${channelId}\n${socket.data.user.id}`;
  const timer = typing.get(key);
  if (!timer) return;
  clearTimeout(timer);
  typing.delete(key);
  socket.to(`channel:${channelId}`).emit('typing_stop', { channel_id: channelId, user_id: socket.data.user.id });
}

httpServer.listen(Number(port), host, () => console.error(`peer listening on ${host}:${port}`));
process.on('SIGTERM', () => process.exit(0));
