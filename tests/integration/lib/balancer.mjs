// TCP relays for tests of workers without sticky sessions, on the loopback,
// bytes relayed as is.
import net from 'node:net';

// A relay that sends each accepted connection to the port `pick()` names.
function relay(pick) {
  const open = new Set();
  const server = net.createServer((down) => {
    const up = net.connect(pick(), '127.0.0.1');
    open.add(down);
    open.add(up);
    down.pipe(up);
    up.pipe(down);
    const end = () => { down.destroy(); up.destroy(); open.delete(down); open.delete(up); };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  const dropAll = () => { for (const s of open) s.destroy(); };
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    dropAll,
    close: () => { dropAll(); return new Promise((r) => server.close(r)); },
  })));
}

// Round robin: each accepted connection goes to the next port.
export function roundRobin(ports) {
  let next = 0;
  return relay(() => ports[next++ % ports.length]);
}

// One port at a time, for recovery tests: `target(port)` sends new
// connections elsewhere (a client that reconnects lands on another worker),
// `dropAll()` destroys every relayed connection at once (a network blip
// under every client).
export async function switchable(port) {
  let to = port;
  const r = await relay(() => to);
  return { ...r, target: (p) => { to = p; } };
}
