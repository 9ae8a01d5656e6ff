// Redis beyond one node for the tests, from Debian's packages, on free
// loopback ports: a cluster of masters made with `redis-cli --cluster
// create`, and a sentinel set (a master, a replica, three sentinels).
// Each returns what startRedis returns (url, command, cleanup), so the
// multi-worker tests run on them unchanged (SBR_TEST_REDIS=cluster or
// sentinel: lib/redis.mjs), plus what the scenarios need (move a slot,
// fail over).  Every process is stopped by its PID.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './daemon.mjs';
import { redisCommand } from './redis.mjs';

// Why these tests cannot run here, or false.
export function topologyMissing(kind) {
  const cli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' });
  if (cli.error || cli.status !== 0) return 'redis-cli is not installed (apt-get install redis-tools)';
  if (kind === 'sentinel' && !sentinelBinary()) return 'redis-sentinel is not installed (apt-get install redis-sentinel)';
  return false;
}

function sentinelBinary() {
  for (const bin of ['redis-sentinel', 'redis-server']) {
    const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return bin;
  }
  return null;
}

async function waitFor(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (err) {
      last = err;
    }
    await delay(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
}

// One redis-server (or sentinel) process in dir, stopped by PID.
function spawnServer(dir, args, label) {
  const bin = args[0];
  const proc = spawn(bin, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const s = { proc, log: '', label };
  proc.stdout.on('data', (b) => { s.log += b; });
  proc.stderr.on('data', (b) => { s.log += b; });
  s.exited = new Promise((resolve) => proc.on('exit', resolve));
  s.stop = async (signal = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const done = await Promise.race([s.exited.then(() => true), delay(10000).then(() => false)]);
    if (!done) { proc.kill('SIGKILL'); await s.exited; }
  };
  return s;
}

const dataArgs = (port, dir, password) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly',
  'no', '--dir', dir, ...(password ? ['--requirepass', password, '--masterauth', password] : [])];

// A cluster of `masters` masters (no replicas).  Returns { url, ports,
// command(...args), nodeCommand(port, ...args), slotOf(key), ownerOf(slot),
// moveSlot(slot, toPort), reshard(fromPort | 'all', toPort, slots),
// addMaster(), removeMaster(port), cleanup() }.
export async function startRedisCluster({ masters = 3, password } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-cluster-'));
  const ports = [];
  for (let i = 0; i < masters; i++) ports.push(await freePort());
  const servers = [];
  const c = { ports, dir, servers, password };
  c.nodeCommand = (port, ...args) => redisCommand(port, args, { password });
  c.cleanup = async () => {
    for (const s of servers) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await spawnNode(c, port);
    for (const port of ports) await waitFor(`node ${port} up`, async () => (await c.nodeCommand(port, 'PING')) === 'PONG');
    const create = spawnSync('redis-cli', [...(password ? ['-a', password, '--no-auth-warning'] : []), '--cluster',
      'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    for (const port of ports) {
      await waitFor(`node ${port} sees the cluster ok`, async () =>
        /cluster_state:ok/.test(await c.nodeCommand(port, 'CLUSTER', 'INFO')) &&
        (await c.nodeCommand(port, 'CLUSTER', 'SLOTS')).length === masters);
    }
  } catch (err) {
    await c.cleanup();
    throw err;
  }
  c.url = `redis-cluster://${password ? `:${password}@` : ''}${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  c.slotOf = async (key) => c.nodeCommand(ports[0], 'CLUSTER', 'KEYSLOT', key);
  c.ownerOf = async (slot) => {
    for (const [from, to, [, port]] of await c.nodeCommand(ports[0], 'CLUSTER', 'SLOTS')) {
      if (slot >= from && slot <= to) return port;
    }
    return null;
  };
  c.command = (...args) => clusterCommand(c, args);
  c.moveSlot = (slot, toPort) => moveSlot(c, slot, toPort);
  c.reshard = (from, to, slots) => reshard(c, from, to, slots);
  c.addMaster = () => addMaster(c);
  c.removeMaster = (port) => removeMaster(c, port);
  return c;
}

async function spawnNode(c, port) {
  const nodeDir = path.join(c.dir, String(port));
  fs.mkdirSync(nodeDir);
  // A bus port of its own: port + 10000 may be taken, or past 65535.
  const s = spawnServer(nodeDir, ['redis-server', ...dataArgs(port, nodeDir, c.password), '--cluster-enabled',
    'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(await freePort()),
    '--cluster-node-timeout', '3000'], `node ${port}`);
  s.port = port;
  c.servers.push(s);
  return s;
}

function cli(c, args) {
  const r = spawnSync('redis-cli', [...(c.password ? ['-a', c.password, '--no-auth-warning'] : []), '--cluster',
    ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli --cluster ${args[0]} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

// Every master sees the same number of masters with slots, and covers every slot.
async function settledMasters(c, count) {
  await waitFor(`${count} masters everywhere`, async () => {
    for (const p of c.ports) {
      if (!/cluster_state:ok/.test(await c.nodeCommand(p, 'CLUSTER', 'INFO'))) return false;
      const owners = new Set((await c.nodeCommand(p, 'CLUSTER', 'SLOTS')).map((r) => r[2][1]));
      if (owners.size !== count) return false;
    }
    return true;
  });
}

// `redis-cli --cluster reshard`: `slots` slots from one master (or all) to another.
async function reshard(c, from, to, slots) {
  const id = (p) => c.nodeCommand(p, 'CLUSTER', 'MYID');
  cli(c, ['reshard', `127.0.0.1:${c.ports[0]}`, '--cluster-from', from === 'all' ? 'all' : await id(from),
    '--cluster-to', await id(to), '--cluster-slots', String(slots), '--cluster-yes']);
}

// A new empty master joins (`redis-cli --cluster add-node`); its port.
async function addMaster(c) {
  const port = await freePort();
  await spawnNode(c, port);
  await waitFor(`node ${port} up`, async () => (await c.nodeCommand(port, 'PING')) === 'PONG');
  cli(c, ['add-node', `127.0.0.1:${port}`, `127.0.0.1:${c.ports[0]}`]);
  c.ports.push(port);
  await waitFor(`node ${port} known everywhere, and the cluster ok from it`, async () => {
    for (const p of c.ports) {
      const known = (await c.nodeCommand(p, 'CLUSTER', 'NODES')).split('\n').filter((l) => l.trim()).length;
      if (known !== c.ports.length || !/cluster_state:ok/.test(await c.nodeCommand(p, 'CLUSTER', 'INFO'))) return false;
    }
    return true;
  });
  return port;
}

// Every slot of a master to the others, then `redis-cli --cluster
// del-node` (which shuts it down).
async function removeMaster(c, port) {
  const others = c.ports.filter((p) => p !== port);
  let owned = 0;
  for (const [from, to, [, p]] of await c.nodeCommand(others[0], 'CLUSTER', 'SLOTS')) if (p === port) owned += to - from + 1;
  if (owned) await reshard(c, port, others[0], owned);
  await settledMasters({ ...c, ports: others }, others.length);
  cli(c, ['del-node', `127.0.0.1:${others[0]}`, await c.nodeCommand(port, 'CLUSTER', 'MYID')]);
  c.ports = others;
  const s = c.servers.find((x) => x.port === port);
  await Promise.race([s.exited, delay(10000)]);
  await s.stop();
}

// What the tests ask of "Redis", spread over the masters: KEYS and FLUSHALL
// on every one, PUBSUB NUMSUB as the sum of SHARDNUMSUB, anything else to
// the key's master (following MOVED).
async function clusterCommand(c, args) {
  const verb = String(args[0]).toUpperCase();
  if (verb === 'KEYS') return (await Promise.all(c.ports.map((p) => c.nodeCommand(p, ...args)))).flat();
  if (verb === 'FLUSHALL') {
    for (const p of c.ports) await c.nodeCommand(p, ...args);
    return 'OK';
  }
  if (verb === 'PUBSUB' && String(args[1]).toUpperCase() === 'NUMSUB') {
    const counts = await Promise.all(c.ports.map((p) => c.nodeCommand(p, 'PUBSUB', 'SHARDNUMSUB', ...args.slice(2))));
    return args.slice(2).flatMap((ch, i) => [ch, counts.reduce((n, r) => n + r[2 * i + 1], 0)]);
  }
  let port = c.ports[0];
  for (let hops = 0; hops < 5; hops++) {
    const r = await c.nodeCommand(port, ...args);
    const moved = r instanceof Error && /^MOVED \d+ [^:]*:(\d+)/.exec(r.message);
    if (!moved) return r;
    port = Number(moved[1]);
  }
  throw new Error(`${verb}: too many redirections`);
}

const nodeId = async (c, port) => c.nodeCommand(port, 'CLUSTER', 'MYID');

// Move one slot to another master, keys and all, as `redis-cli --cluster
// reshard` does: IMPORTING on the target, MIGRATING on the source, MIGRATE
// the keys in batches, then NODE on the target, the source and the rest.
async function moveSlot(c, slot, toPort) {
  const fromPort = await c.ownerOf(slot);
  if (fromPort === toPort) return;
  const [fromId, toId] = [await nodeId(c, fromPort), await nodeId(c, toPort)];
  const ok = (r, what) => { if (r instanceof Error) throw new Error(`${what}: ${r.message}`); return r; };
  ok(await c.nodeCommand(toPort, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId), 'IMPORTING');
  ok(await c.nodeCommand(fromPort, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId), 'MIGRATING');
  for (;;) {
    const keys = ok(await c.nodeCommand(fromPort, 'CLUSTER', 'GETKEYSINSLOT', slot, 100), 'GETKEYSINSLOT');
    if (!keys.length) break;
    const auth = c.password ? ['AUTH', c.password] : [];
    ok(await c.nodeCommand(fromPort, 'MIGRATE', '127.0.0.1', toPort, '', 0, 5000, ...auth, 'KEYS', ...keys), 'MIGRATE');
  }
  ok(await c.nodeCommand(toPort, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId), 'NODE on the target');
  ok(await c.nodeCommand(fromPort, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId), 'NODE on the source');
  for (const p of c.ports.filter((x) => x !== fromPort && x !== toPort)) {
    ok(await c.nodeCommand(p, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId), 'NODE on the others');
  }
  await waitFor(`slot ${slot} on ${toPort} everywhere`, async () => {
    for (const p of c.ports) {
      const slots = await c.nodeCommand(p, 'CLUSTER', 'SLOTS');
      if (!slots.some(([a, b, [, port]]) => slot >= a && slot <= b && port === toPort)) return false;
    }
    return true;
  });
}

// A master, one replica and three sentinels (quorum 2) watching it as
// `name`; `password`: the data nodes', `sentinelPassword`: the sentinels'
// own.  Returns { url, ports, master(), command(...args), failover(),
// kill(port), sentinelCommand(port, ...args), cleanup() }.
export async function startSentinelSet({ name = 'mymaster', password, sentinelPassword } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-sentinel-'));
  const ports = { master: await freePort(), replica: await freePort(), sentinels: [] };
  for (let i = 0; i < 3; i++) ports.sentinels.push(await freePort());
  const servers = [];
  const s = { dir, servers, ports, name, password };
  s.cleanup = async () => {
    for (const x of servers) await x.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const sentinelCommand = (port, ...args) => redisCommand(port, args, { password: sentinelPassword });
  s.sentinelCommand = sentinelCommand;
  try {
    servers.push(spawnServer(dir, ['redis-server', ...dataArgs(ports.master, dir, password),
      '--dbfilename', 'master.rdb'], 'master'));
    servers[0].port = ports.master;
    servers.push(spawnServer(dir, ['redis-server', ...dataArgs(ports.replica, dir, password),
      '--dbfilename', 'replica.rdb', '--replicaof', '127.0.0.1', String(ports.master)], 'replica'));
    servers[1].port = ports.replica;
    const data = (port, ...args) => redisCommand(port, args, { password });
    await waitFor('the replica in sync', async () =>
      /master_link_status:up/.test(await data(ports.replica, 'INFO', 'replication')));
    const bin = sentinelBinary();
    for (const port of ports.sentinels) {
      const conf = path.join(dir, `sentinel-${port}.conf`);
      fs.writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${ports.master} 2`,
        `sentinel down-after-milliseconds ${name} 2000`, `sentinel failover-timeout ${name} 10000`,
        ...(password ? [`sentinel auth-pass ${name} ${password}`] : []),
        ...(sentinelPassword ? [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`] : []),
        ''].join('\n'));
      servers.push(spawnServer(dir, bin === 'redis-sentinel' ? [bin, conf] : [bin, conf, '--sentinel'],
        `sentinel ${port}`));
    }
    // Ready for a failover: every sentinel knows the replica and the others.
    for (const port of ports.sentinels) {
      await waitFor(`sentinel ${port} knows the set`, async () =>
        (await sentinelCommand(port, 'SENTINEL', 'REPLICAS', name)).length === 1 &&
        (await sentinelCommand(port, 'SENTINEL', 'SENTINELS', name)).length === 2, 30000);
    }
  } catch (err) {
    await s.cleanup();
    throw err;
  }
  s.url = `redis-sentinel://${password ? `:${password}@` : ''}${ports.sentinels.map((p) => `127.0.0.1:${p}`).join(',')}/${name}`;
  s.master = async () => Number((await sentinelCommand(ports.sentinels[0], 'SENTINEL', 'get-master-addr-by-name', name))[1]);
  s.command = async (...args) => redisCommand(await s.master(), args, { password });
  // SIGKILL a data server (the master, say): the sentinels fail over after
  // down-after-milliseconds (2 s).
  s.kill = async (port) => {
    const x = servers.find((srv) => srv.port === port);
    await x.stop('SIGKILL');
  };
  // SENTINEL FAILOVER; resolves with the new master's port once every
  // sentinel names it and it says it is a master.
  s.failover = async () => {
    const before = await s.master();
    const r = await sentinelCommand(ports.sentinels[0], 'SENTINEL', 'FAILOVER', name);
    if (r instanceof Error) throw r;
    const after = before === ports.master ? ports.replica : ports.master;
    await waitFor('the sentinels to name the new master', async () => {
      for (const p of ports.sentinels) {
        const [, port] = await sentinelCommand(p, 'SENTINEL', 'get-master-addr-by-name', name);
        if (Number(port) !== after) return false;
      }
      return (await redisCommand(after, ['ROLE'], { password }))[0] === 'master';
    }, 30000);
    return after;
  };
  return s;
}
