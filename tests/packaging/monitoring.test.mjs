// Monitoring as an operator sets it up: a live /metrics scrape passes
// `promtool check metrics` (HELP and TYPE everywhere, Prometheus naming),
// every documented series is there from start-up, and the shipped alert
// rules and Grafana dashboard only name metrics the daemon exports (their
// PromQL parsed by promtool, the alerts unit-tested with promtool).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, http, apiKeyHeader, SOURCE_DIR } from '../integration/lib/daemon.mjs';
import { client, connected, refusal, request, once } from '../integration/lib/client.mjs';
import { realtimeToken } from '../integration/lib/jwt.mjs';

const ALERTS = path.join(SOURCE_DIR, 'packaging/prometheus/alerts.yml');
const ALERT_TESTS = path.join(SOURCE_DIR, 'packaging/prometheus/alerts.test.yml');
const DASHBOARD = path.join(SOURCE_DIR, 'packaging/grafana/superbot-realtime.json');
let d;
let work;

function promtool(args, input) {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60000 });
  if (r.error) throw new Error(`promtool cannot run (apt-get install prometheus): ${r.error.message}`);
  return r;
}

// Family names of a scrape: every name with a # TYPE line.
function families(text) {
  return new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((m) => m[1]));
}

// superbot_ names in a text (PromQL, markdown).
const metricNames = (text) => new Set([...text.matchAll(/\bsuperbot_[a-z_]+[a-z]\b/g)].map((m) => m[0]));

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-monitoring-'));
  d = await startDaemon();
});

after(async () => {
  if (d) await d.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('at start-up: promtool check metrics passes and every documented series is exported', async () => {
  const text = (await http(d, 'GET', '/metrics')).body;
  const r = promtool(['check', 'metrics'], text);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  // Series at 0 before anything happened, labelled ones included.
  for (const series of ['superbot_messages_sent_total 0', 'superbot_published_total 0',
    'superbot_presence_updates_total 0', 'superbot_presence_orphans_offline_total 0',
    'superbot_auth_revocations_total 0', 'superbot_auth_connects_refused_total{reason="expired"} 0',
    'superbot_auth_connects_refused_total{reason="bad_signature"} 0',
    'superbot_auth_tokens_issued_total{source="session"} 0', 'superbot_slow_mode_refused_total{via="api"} 0',
    'superbot_slow_mode_refused_total{via="socket"} 0', 'superbot_bus_redis_reconnects_total 0',
    'superbot_received_bytes_total 0', 'superbot_connections_max 10000']) {
    assert.ok(text.includes(`\n${series}\n`), `${series} in\n${text}`);
  }
  // Every metric the operations guide's table names is in the scrape.
  const ops = fs.readFileSync(path.join(SOURCE_DIR, 'docs/OPERATIONS.md'), 'utf8');
  const section = ops.slice(ops.indexOf('## 6. Metrics'), ops.indexOf('## 7. Logs'));
  const have = families(text);
  const documented = [...metricNames(section)];
  assert.ok(documented.length > 30, documented.join(' '));
  for (const name of documented) assert.ok(have.has(name), `documented ${name} is exported`);
});

async function serveTraffic() {
  const api = apiKeyHeader();
  assert.equal((await http(d, 'PUT', '/api/realtime/channels/m1', { body: { server_id: 's1', settings: { slow_mode: 60 } }, headers: api })).status, 200);
  assert.equal((await http(d, 'POST', '/api/realtime/token', { body: { user_id: 'u1', servers: ['s1'] }, headers: api })).status, 200);
  assert.equal((await http(d, 'GET', '/api/realtime/presence/s1')).status, 401);
  const a = client(d, { token: realtimeToken({ sub: 'u1', sid: 'sess-1', servers: ['s1'] }), transports: ['websocket'] });
  const b = client(d, { token: realtimeToken({ sub: 'u2', servers: ['s1'] }) });
  await Promise.all([connected(a), connected(b)]);
  assert.equal((await request(a, 'join_channel', { channel_id: 'm1' })).ok, true);
  assert.equal((await request(b, 'join_channel', { channel_id: 'm1' })).ok, true);
  const got = once(b, 'message');
  assert.equal((await request(a, 'send_message', { channel_id: 'm1', content: 'hi', nonce: 'n1' })).ok, true);
  await got;
  assert.equal((await request(a, 'send_message', { channel_id: 'm1', content: 'again', nonce: 'n2' })).error, 'slow_mode');
  assert.equal((await request(b, 'presence_set', { status: 'idle' })).ok, true);
  assert.equal((await http(d, 'POST', '/api/realtime/channels/m1/reserve', { body: { user_id: 'u3' }, headers: api })).status, 200);
  assert.equal((await http(d, 'POST', '/api/realtime/channels/m1/reserve', { body: { user_id: 'u3' }, headers: api })).status, 429);
  assert.equal((await http(d, 'POST', '/api/realtime/publish', { body: { room: 'channel:m1', event: 'note', data: {} }, headers: api })).status, 200);
  assert.equal(await refusal(client(d, { token: realtimeToken({ exp: 1 }) })), 'invalid_token');
  const gone = once(a, 'disconnect');
  assert.equal((await http(d, 'POST', '/api/realtime/sessions/sess-1/revoke', { headers: api })).status, 200);
  await gone;
  b.close();
}

test('after traffic: promtool check metrics still passes and the counters moved', async () => {
  await serveTraffic();
  const text = (await http(d, 'GET', '/metrics')).body;
  const r = promtool(['check', 'metrics'], text);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  const value = (series) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in the scrape`);
    return Number(line.slice(series.length + 1));
  };
  assert.ok(value('superbot_messages_sent_total') >= 1);
  assert.ok(value('superbot_published_total') >= 1);
  assert.ok(value('superbot_slow_mode_refused_total{via="socket"}') >= 1);
  assert.ok(value('superbot_slow_mode_refused_total{via="api"}') >= 1);
  assert.ok(value('superbot_auth_connects_refused_total{reason="expired"}') >= 1);
  assert.ok(value('superbot_auth_tokens_issued_total{source="api_key"}') >= 1);
  assert.ok(value('superbot_auth_revocations_total') >= 1);
  assert.ok(value('superbot_presence_updates_total') >= 1);
  assert.ok(value('superbot_received_bytes_total') > 0);
  assert.equal(value('superbot_received_bytes_total'), value('superbot_bytes_in_total'));
  assert.ok(value('superbot_http_requests_total{route="/api/realtime/presence/{server_id}",status="401"}') >= 1);
});

// The PromQL of the dashboard as recording rules, so promtool parses it.
function dashboardExprs() {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const exprs = [];
  const walk = (panels) => {
    for (const p of panels || []) {
      for (const t of p.targets || []) exprs.push(t.expr);
      walk(p.panels);
    }
  };
  walk(dash.panels);
  return { dash, exprs };
}

test('the Grafana dashboard is valid and names only exported metrics', async () => {
  const { dash, exprs } = dashboardExprs();
  assert.equal(dash.uid, 'superbot-realtime');
  assert.ok(exprs.length >= 20, `${exprs.length} queries`);
  const have = families((await http(d, 'GET', '/metrics')).body);
  for (const name of metricNames(exprs.join('\n'))) assert.ok(have.has(name), `the dashboard's ${name} is exported`);
  const rules = ['groups:', '  - name: dashboard', '    rules:'];
  exprs.forEach((e, i) => {
    const promql = e.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
    rules.push(`      - record: dashboard:query${i}`, `        expr: ${JSON.stringify(promql)}`);
  });
  const file = path.join(work, 'dashboard-rules.yml');
  fs.writeFileSync(file, `${rules.join('\n')}\n`);
  const r = promtool(['check', 'rules', file]);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the alert rules check, pass their tests, and name only exported metrics', async () => {
  const check = promtool(['check', 'rules', ALERTS]);
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /SUCCESS: 13 rules found/);
  const unit = promtool(['test', 'rules', ALERT_TESTS]);
  assert.equal(unit.status, 0, `${unit.stdout}${unit.stderr}`);
  const have = families((await http(d, 'GET', '/metrics')).body);
  const named = metricNames(fs.readFileSync(ALERTS, 'utf8'));
  assert.ok(named.size >= 10);
  for (const name of named) assert.ok(have.has(name), `the alerts' ${name} is exported`);
});
