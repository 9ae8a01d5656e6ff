// @ts-check
// The demo page: sign in by name, join a channel, and watch presence,
// typing, messages and slow mode through the stock socket.io-client.
// Type-checked against the event types of clients/typescript (its
// tsconfig.demo.json declares the global `io` of socket.io.min.js).
'use strict';

/** @typedef {import('../../../clients/typescript').Ready} Ready */
/** @typedef {import('../../../clients/typescript').PresenceUpdate} PresenceUpdate */
/** @typedef {import('../../../clients/typescript').TypingStart} TypingStart */
/** @typedef {import('../../../clients/typescript').Message} Message */

/** @type {(id: string) => any} the page's elements, untyped: the check is about the events */
const $ = (id) => document.getElementById(id);

/**
 * What the page holds. Ids are null until sign-in, the socket until connect().
 * @typedef {object} DemoState
 * @property {string} user          our user id
 * @property {string} token         realtime token from POST /demo/api/login
 * @property {string} serverId      the demo server every user is a member of
 * @property {{id: string, slow_mode: number}[]} channels
 * @property {string} channel       the joined channel id
 * @property {ReturnType<typeof io>} socket
 * @property {import('../../../clients/typescript').PresenceStatus} myStatus
 * @property {Map<string, string>} online   user id -> status, for the demo server
 * @property {Map<string, any>} typing      user id -> timer that ends the indicator
 * @property {number} typingSent    when we last sent typing_start (ms), 0: not typing
 * @property {any} typingIdle       timer that sends typing_stop after a pause
 * @property {number} cooldownEnd   when sending is allowed again (ms)
 * @property {any} cooldownTimer
 */
/** @type {DemoState} */
const state = /** @type {any} */ ({
  user: null,
  token: null,
  serverId: null,
  channels: [],
  channel: null,
  socket: null,
  myStatus: 'online',
  online: new Map(),
  typing: new Map(),
  typingSent: 0,
  typingIdle: null,
  cooldownEnd: 0,
  cooldownTimer: null,
});

const TYPING_REFRESH_MS = 2500; // below the server's rebroadcast window and TTL
const TYPING_IDLE_MS = 5000;    // stop showing us as typing after a pause
const TYPING_DEFAULT_TTL_S = 10;

// --- small helpers -----------------------------------------------------------

function setStatus(kind, text) {
  $('status').dataset.state = kind;
  $('status').textContent = text;
}

function showText(id, text) {
  $(id).textContent = text || '';
  $(id).hidden = !text;
}

// The ack of an event whose answer only matters when it is a refusal.
const warnIfRefused = (event) => (ack) => {
  if (!ack.ok) console.warn(event, ack.error);
};

// A line in the banner above the page (several may add up).
function notice(text) {
  $('notice').append(el('span', {}, text), el('br'));
  $('notice').hidden = false;
}

function el(tag, props = {}, text) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function postJson(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
  return answer;
}

// --- signing in ----------------------------------------------------------------

async function start() {
  if (typeof io === 'undefined') {
    notice('socket.io.min.js is missing: the gateway was built without npm, so this page cannot connect.');
    $('signin-button').disabled = true;
  }
  const params = new URLSearchParams(location.search);
  if (params.get('user')) $('user').value = params.get('user');
  $('signin-form').addEventListener('submit', signIn);
  try {
    const info = await fetch('/demo/api/info').then((r) => r.json());
    if (!info.identity_route) {
      notice('Signing in by name is disabled: set identity_route = true in the demo\'s conf.d file and restart the gateway.');
      $('signin-button').disabled = true;
    }
  } catch (err) {
    notice(`The gateway does not answer: ${err.message}`);
  }
}

// A fresh token for our name (also used when the old one has expired).
async function login(user) {
  const answer = await postJson('/demo/api/login', { user });
  state.user = answer.user_id;
  state.token = answer.token;
  state.serverId = answer.server_id;
  state.channels = answer.channels;
  return answer;
}

async function signIn(event) {
  event.preventDefault();
  showText('signin-error', '');
  try {
    await login($('user').value.trim());
  } catch (err) {
    showText('signin-error', `Sign-in failed: ${err.message}`);
    return;
  }
  $('signin').hidden = true;
  $('chat').hidden = false;
  $('server-name').textContent = state.serverId;
  state.channel = state.channels[0].id;
  renderChannels();
  connect();
}

// --- the connection ---------------------------------------------------------------

function connect() {
  setStatus('connecting', 'connecting…');
  // auth as a function: every (re)connection presents the current token.
  const socket = io('/', { auth: (cb) => cb({ token: state.token }) });
  state.socket = socket;

  socket.on('ready', onReady);
  socket.on('presence_update', onPresenceUpdate);
  socket.on('typing_start', onTypingStart);
  socket.on('typing_stop', (ev) => { if (ev.channel_id === state.channel) typingEnd(ev.user_id); });
  socket.on('message', onMessage);

  socket.on('connect_error', async (err) => {
    setStatus('disconnected', `refused: ${err.message}`);
    // The gateway refused the token (expired, most likely): get a new one and retry.
    if (err.message === 'invalid_token' || err.message === 'authentication_required') {
      try {
        await login(state.user);
        setTimeout(() => socket.connect(), 1000);
      } catch (e) {
        setStatus('disconnected', `sign-in failed: ${e.message}`);
      }
    }
  });
  socket.on('disconnect', (reason) => {
    setStatus('disconnected', `disconnected (${reason})`);
    for (const user of [...state.typing.keys()]) typingEnd(user);
    // The server closed us (e.g. the token expired): sign in again and reconnect.
    if (reason === 'io server disconnect') {
      login(state.user).then(() => setTimeout(() => socket.connect(), 1000), () => {});
    }
  });
}

// The gateway accepted us: catch up on presence and (re)join our channel.
// With connection state recovery on (the gateway's recovery_window_seconds),
// a reconnection that got everything back says so in `ready`: the channel
// is joined already and the messages sent meanwhile have arrived, in order.
/** @param {Ready} ready */
async function onReady(ready) {
  if (ready.recovered === true) {
    setStatus('connected', `signed in as ${ready.user_id}: reconnected, nothing missed`);
  } else if (ready.recovered === false) {
    setStatus('connected', `signed in as ${ready.user_id}: reconnected as a new connection (what was sent meanwhile is not shown)`);
  } else {
    setStatus('connected', `signed in as ${ready.user_id}`);
  }
  if (state.myStatus !== 'online') state.socket.emit('presence_set', { status: state.myStatus }, warnIfRefused('presence_set'));
  try {
    const snap = await state.socket.timeout(5000).emitWithAck('presence_snapshot', { server_id: state.serverId });
    if (snap.ok) {
      state.online = new Map(snap.members.map((m) => [m.user_id, m.status]));
      renderOnline();
    }
  } catch (err) {
    console.warn('presence_snapshot', err);
  }
  if (!ready.recovered) await joinChannel(state.channel);
}

// --- presence -----------------------------------------------------------------

/** @param {PresenceUpdate} ev */
function onPresenceUpdate(ev) {
  if (ev.server_id !== state.serverId) return;
  if (ev.status === 'offline') state.online.delete(ev.user_id);
  else state.online.set(ev.user_id, ev.status);
  renderOnline();
}

function renderOnline() {
  const list = $('online');
  list.replaceChildren();
  const members = new Map(state.online);
  if (state.socket && state.socket.connected) members.set(state.user, state.myStatus);
  for (const user of [...members.keys()].sort()) {
    const status = members.get(user);
    const item = el('li', { className: user === state.user ? 'me' : '' },
      user === state.user ? `${user} (you)` : user);
    item.dataset.user = user;
    item.dataset.status = status;
    if (status !== 'online') item.append(el('span', { className: 'hint' }, ` ${status}`));
    list.append(item);
  }
}

// --- channels ----------------------------------------------------------------------

function renderChannels() {
  const list = $('channels');
  list.replaceChildren();
  for (const ch of state.channels) {
    const button = el('button', { type: 'button' }, `# ${ch.id}`);
    button.dataset.channel = ch.id;
    if (ch.slow_mode > 0) button.append(el('span', { className: 'hint' }, ` (slow ${ch.slow_mode} s)`));
    button.setAttribute('aria-current', String(ch.id === state.channel));
    button.addEventListener('click', () => switchChannel(ch.id));
    const item = el('li');
    item.append(button);
    list.append(item);
  }
}

async function switchChannel(id) {
  if (id === state.channel || !state.socket) return;
  stopTyping();
  const previous = state.channel;
  state.channel = id;
  renderChannels();
  if (state.socket.connected) {
    state.socket.emit('leave_channel', { channel_id: previous }, warnIfRefused('leave_channel'));
    await joinChannel(id);
  }
}

async function joinChannel(id) {
  $('channel-title').textContent = `# ${id}`;
  $('messages').replaceChildren();
  for (const user of [...state.typing.keys()]) typingEnd(user);
  endCooldown();
  /** @type {import('../../../clients/typescript').JoinChannelAck} */
  let ack;
  try {
    ack = await state.socket.timeout(5000).emitWithAck('join_channel', { channel_id: id });
  } catch (err) {
    showText('send-error', `join_channel: ${err.message}`);
    return;
  }
  if (!ack.ok) {
    showText('send-error', `Cannot join #${id}: ${ack.error}`);
    return;
  }
  showText('send-error', '');
  $('slow-info').textContent = ack.slow_mode > 0
    ? `Slow mode: one message every ${ack.slow_mode} s per member.`
    : 'No slow mode.';
  for (const user of ack.typing || []) typingShow(user, TYPING_DEFAULT_TTL_S);
}

// --- typing ------------------------------------------------------------------

/** @param {TypingStart} ev */
function onTypingStart(ev) {
  if (ev.channel_id !== state.channel) return;
  typingShow(ev.user_id, ev.expires_in || TYPING_DEFAULT_TTL_S);
}

// Show user as typing until typing_stop, or until the TTL runs out unrefreshed.
function typingShow(user, ttlSeconds) {
  if (user === state.user) return;
  clearTimeout(state.typing.get(user));
  state.typing.set(user, setTimeout(() => typingEnd(user), ttlSeconds * 1000));
  renderTyping();
}

function typingEnd(user) {
  if (!state.typing.has(user)) return;
  clearTimeout(state.typing.get(user));
  state.typing.delete(user);
  renderTyping();
}

function renderTyping() {
  const users = [...state.typing.keys()].sort();
  let text = '';
  if (users.length === 1) text = `${users[0]} is typing…`;
  else if (users.length === 2) text = `${users[0]} and ${users[1]} are typing…`;
  else if (users.length > 2) text = `${users.length} people are typing…`;
  $('typing').textContent = text;
}

// Called on every keystroke: tell the channel we type, refreshing now and then.
function onInput() {
  if (!state.socket || !state.socket.connected) return;
  if ($('content').value.trim() === '') {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - state.typingSent > TYPING_REFRESH_MS) {
    state.socket.emit('typing_start', { channel_id: state.channel }, warnIfRefused('typing_start'));
    state.typingSent = now;
  }
  clearTimeout(state.typingIdle);
  state.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(state.typingIdle);
  if (state.typingSent && state.socket && state.socket.connected) {
    state.socket.emit('typing_stop', { channel_id: state.channel }, warnIfRefused('typing_stop'));
  }
  state.typingSent = 0;
}

// --- messages and slow mode -----------------------------------------------------

/** @param {Message} msg */
function onMessage(msg) {
  if (msg.channel_id !== state.channel) return;
  typingEnd(msg.user_id);
  const item = el('li', { className: msg.user_id === state.user ? 'mine' : '' });
  item.dataset.id = msg.id;
  item.dataset.user = msg.user_id;
  item.append(
    el('span', { className: 'when' }, new Date(msg.ts).toLocaleTimeString()),
    el('span', { className: 'who' }, msg.user_id),
    el('span', { className: 'text' }, msg.content),
  );
  const list = $('messages');
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function onSend(event) {
  event.preventDefault();
  const content = $('content').value.trim();
  if (!content || !state.socket || Date.now() < state.cooldownEnd) return;
  showText('send-error', '');
  const nonce = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  /** @type {import('../../../clients/typescript').SendMessageAck} */
  let ack;
  try {
    ack = await state.socket.timeout(5000).emitWithAck('send_message',
      { channel_id: state.channel, content, nonce });
  } catch (err) {
    showText('send-error', `Not sent: ${err.message}`);
    return;
  }
  if (ack.ok) {
    $('content').value = '';
    clearTimeout(state.typingIdle);
    state.typingSent = 0; // sending ends our typing indicator on the server
  } else if (ack.error === 'slow_mode') {
    startCooldown(ack.retry_after);
  } else {
    showText('send-error', `Not sent: ${ack.error}`);
  }
}

// The gateway refused a message for slow mode: count down retry_after seconds.
function startCooldown(seconds) {
  state.cooldownEnd = Date.now() + seconds * 1000;
  $('send').disabled = true;
  clearInterval(state.cooldownTimer);
  const tick = () => {
    const left = (state.cooldownEnd - Date.now()) / 1000;
    if (left <= 0) {
      endCooldown();
      return;
    }
    showText('cooldown', `Slow mode: you can send again in ${left.toFixed(1)} s`);
  };
  tick();
  state.cooldownTimer = setInterval(tick, 100);
}

function endCooldown() {
  clearInterval(state.cooldownTimer);
  state.cooldownEnd = 0;
  $('send').disabled = false;
  showText('cooldown', '');
}

// --- wiring ------------------------------------------------------------------------

$('send-form').addEventListener('submit', onSend);
$('content').addEventListener('input', onInput);
$('my-status').addEventListener('change', () => {
  state.myStatus = $('my-status').value;
  if (state.socket && state.socket.connected) state.socket.emit('presence_set', { status: state.myStatus }, warnIfRefused('presence_set'));
  renderOnline();
});
start();
