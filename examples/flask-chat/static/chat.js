// The chat page: messages are posted to the Flask app (which stores them,
// reserves the slow-mode slot and publishes them); everything live comes
// from the gateway through the stock socket.io-client.
'use strict';

const config = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
const online = new Map();   // user id -> status
const typing = new Map();   // user id -> timer ending the indicator
let channel = Object.keys(config.channels)[0];
let typingSent = 0;

// Each (re)connection asks the app for a fresh token with the session cookie.
function fetchToken(cb) {
  fetch('/api/realtime/token', { method: 'POST' })
    .then((r) => (r.status === 401 ? location.assign('/') : r.json()))
    .then((answer) => cb({ token: answer && answer.token }), () => cb({}));
}

const socket = io(config.gateway_url, { auth: fetchToken });

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function item(text, className) {
  const li = document.createElement('li');
  li.textContent = text;
  if (className) li.className = className;
  return li;
}

socket.on('connect', () => setStatus('connected', 'live'));
socket.on('disconnect', (reason) => setStatus('disconnected', `disconnected (${reason})`));
socket.on('connect_error', (err) => setStatus('disconnected', `refused: ${err.message}`));
socket.on('disconnect_reason', ({ reason }) => {
  if (reason === 'revoked') location.assign('/');   // signed out elsewhere
});

socket.on('ready', async () => {
  const snap = await socket.timeout(5000).emitWithAck('presence_snapshot', { server_id: config.server_id });
  if (snap.ok) {
    online.clear();
    for (const m of snap.members) online.set(m.user_id, m.status);
    renderOnline();
  }
  await joinChannel(channel);
});

socket.on('presence_update', ({ server_id, user_id, status }) => {
  if (server_id !== config.server_id) return;
  if (status === 'offline') online.delete(user_id); else online.set(user_id, status);
  renderOnline();
});

socket.on('typing_start', ({ channel_id, user_id, expires_in }) => {
  if (channel_id !== channel) return;
  clearTimeout(typing.get(user_id));
  typing.set(user_id, setTimeout(() => typingEnd(user_id), expires_in * 1000));
  renderTyping();
});
socket.on('typing_stop', ({ channel_id, user_id }) => { if (channel_id === channel) typingEnd(user_id); });

// Published by the app (POST /channels/<id>/messages), to channel:<id>.
socket.on('message_created', (message) => {
  if (message.channel_id !== channel) return;
  typingEnd(message.user_id);
  renderMessage(message);
});

function renderOnline() {
  $('online').replaceChildren(...[...online.keys()].sort().map((u) => item(`${u} ${online.get(u) === 'online' ? '' : online.get(u)}`)));
}

function typingEnd(user) {
  clearTimeout(typing.get(user));
  if (typing.delete(user)) renderTyping();
}

function renderTyping() {
  const users = [...typing.keys()];
  $('typing').textContent = users.length ? `${users.join(', ')} typing…` : '';
}

function renderMessage(m) {
  $('messages').append(item(`${new Date(m.ts).toLocaleTimeString()} ${m.user_id}: ${m.content}`));
  $('messages').lastChild.scrollIntoView();
}

function renderChannels() {
  $('channels').replaceChildren(...Object.entries(config.channels).map(([id, slow]) => {
    const li = item('');
    const button = document.createElement('button');
    button.textContent = `# ${id}${slow ? ` (slow ${slow} s)` : ''}`;
    button.setAttribute('aria-current', String(id === channel));
    button.onclick = () => switchChannel(id);
    li.append(button);
    return li;
  }));
}

async function joinChannel(id) {
  $('channel-title').textContent = `# ${id}`;
  const ack = await socket.timeout(5000).emitWithAck('join_channel', { channel_id: id });
  if (!ack.ok) return showError(`cannot join #${id}: ${ack.error}`);
  const history = await fetch(`/channels/${id}/messages`).then((r) => r.json());
  $('messages').replaceChildren();
  history.messages.forEach(renderMessage);
  for (const user of ack.typing) typing.set(user, setTimeout(() => typingEnd(user), 10000));
  renderTyping();
}

async function switchChannel(id) {
  if (id === channel) return;
  socket.emit('leave_channel', { channel_id: channel });
  channel = id;
  for (const user of [...typing.keys()]) typingEnd(user);
  renderChannels();
  await joinChannel(id);
}

function showError(text) {
  $('send-error').textContent = text || '';
  $('send-error').hidden = !text;
}

$('content').addEventListener('input', () => {
  if (Date.now() - typingSent > 3000 && socket.connected) {
    socket.emit('typing_start', { channel_id: channel });
    typingSent = Date.now();
  }
});

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const content = $('content').value.trim();
  if (!content) return;
  const r = await fetch(`/channels/${channel}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content }),
  });
  const answer = await r.json();
  if (r.status === 429) return showError(`Slow mode: wait ${answer.retry_after.toFixed(1)} s`);
  if (!r.ok) return showError(`Not sent: ${answer.error}`);
  showError('');
  $('content').value = '';
  if (typingSent) socket.emit('typing_stop', { channel_id: channel });
  typingSent = 0;
});

renderChannels();
