// A round-robin TCP balancer for tests of workers without sticky sessions:
// each accepted connection goes to the next port, bytes relayed as is.
import net from 'node:net';

export function roundRobin(ports) {
  let next = 0;
  const open = new Set();
  const server = net.createServer((down) => {
    const up = net.connect(ports[next++ % ports.length], '127.0.0.1');
    open.add(down);
    open.add(up);
    down.pipe(up);
    up.pipe(down);
    const end = () => { down.destroy(); up.destroy(); open.delete(down); open.delete(up); };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => { for (const s of open) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}

// A TCP relay to one port at a time, for recovery tests: `target(port)`
// sends new connections elsewhere (a client that reconnects lands on
// another worker), `dropAll()` destroys every relayed connection at once
// (a network blip under every client).
export function switchable(port) {
  let to = port;
  const open = new Set();
  const server = net.createServer((down) => {
    const up = net.connect(to, '127.0.0.1');
    open.add(down);
    open.add(up);
    down.pipe(up);
    up.pipe(down);
    const end = () => { down.destroy(); up.destroy(); open.delete(down); open.delete(up); };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    target: (p) => { to = p; },
    dropAll: () => { for (const s of open) s.destroy(); },
    close: () => { for (const s of open) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}
