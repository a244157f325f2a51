import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/** A loopback echo server that records what reached it, to tell "held" from "forwarded". */
let echo: net.Server;
let echoPort = 0;
let echoConnections = 0;
let echoReceived = '';

/** A client connection with what it has read so far and how it ended. */
interface Client {
  socket: net.Socket;
  connected: Promise<void>;
  received(): string;
  ended: Promise<'closed' | 'reset'>;
}

function connect(port: number): Client {
  const socket = net.connect({ host: '127.0.0.1', port });
  let data = '';
  let error: NodeJS.ErrnoException | undefined;
  socket.on('data', (d: Buffer) => (data += d.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  connected.catch(() => {}); // a refused client's failed connect is asserted through `ended`
  return {
    socket,
    connected,
    received: () => data,
    ended: new Promise((resolve) => socket.once('close', () => resolve(error?.code === 'ECONNRESET' ? 'reset' : 'closed'))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let proxy: TcpProxy | undefined;
const clients: Client[] = [];
function client(port: number): Client {
  const c = connect(port);
  clients.push(c);
  return c;
}

/** A client through the proxy that has sent `text` and had it echoed. */
async function echoingClient(port: number, text: string): Promise<Client> {
  const c = client(port);
  await c.connected;
  c.socket.write(text);
  await until(`the echo of ${text}`, () => c.received() === text);
  return c;
}

beforeAll(async () => {
  echo = net.createServer((s) => {
    echoConnections++;
    s.on('data', (d: Buffer) => {
      echoReceived += d.toString();
      s.write(d);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await proxy?.close();
  proxy = undefined;
  echoConnections = 0;
  echoReceived = '';
});

afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

describe('startTcpProxy on a real loopback echo server', () => {
  it('forwards both ways and reports its address', async () => {
    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
    expect(proxy.mode).toBe('forwarding');
    expect(proxy.url('/x')).toBe(`http://127.0.0.1:${proxy.port}/x`);
    await echoingClient(proxy.port, 'hello');
    expect(echoReceived).toBe('hello');
    expect(proxy.stats()).toEqual({ accepted: 1, open: 1 });
  });

  it('pause: an open connection stops both ways, a new one is accepted but not forwarded; resume delivers both', async () => {
    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const open = await echoingClient(proxy.port, 'a');

    proxy.pause();
    expect(proxy.mode).toBe('paused');
    open.socket.write('b');
    const late = client(proxy.port);
    await late.connected; // the client sees its connect succeed...
    late.socket.write('c');
    await sleep(400);
    expect(open.received()).toBe('a'); // ...and then silence, both ways
    expect(echoReceived).toBe('a'); // the far end saw nothing of 'b' or 'c'
    expect(echoConnections).toBe(1); // nor the held connection
    expect(proxy.stats()).toEqual({ accepted: 2, open: 2 });

    proxy.resume();
    await until('both held echoes', () => open.received() === 'ab' && late.received() === 'c');
    expect(echoConnections).toBe(2);
    expect([...echoReceived].sort().join('')).toBe('abc');
  });

  it('pause holds the upstream direction too: bytes the server sends during a pause arrive only after resume', async () => {
    const pushers: net.Socket[] = [];
    const pusher = net.createServer((s) => pushers.push(s));
    await new Promise<void>((r) => pusher.listen(0, '127.0.0.1', r));
    try {
      proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: (pusher.address() as net.AddressInfo).port } });
      const c = client(proxy.port);
      await c.connected;
      await until('the upstream connection', () => pushers.length === 1);
      proxy.pause();
      pushers[0]!.write('from-server');
      await sleep(300);
      expect(c.received()).toBe('');
      proxy.resume();
      await until('the held server bytes', () => c.received() === 'from-server');
    } finally {
      for (const s of pushers) s.destroy();
      await new Promise<void>((r) => pusher.close(() => r()));
    }
  });

  it('refuse: existing connections are reset, new ones too; resume accepts again', async () => {
    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const open = await echoingClient(proxy.port, 'x');

    proxy.refuse();
    expect(proxy.mode).toBe('refusing');
    expect(await open.ended).toBe('reset');
    const refused = client(proxy.port);
    refused.socket.write('y');
    expect(await refused.ended).toBe('reset');
    expect(refused.received()).toBe('');
    expect(echoReceived).toBe('x');

    proxy.resume();
    await echoingClient(proxy.port, 'z');
  });

  it('refuse while paused also drops the held connections', async () => {
    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
    proxy.pause();
    const held = client(proxy.port);
    await held.connected;
    proxy.refuse();
    expect(await held.ended).toBe('reset');
    expect(echoConnections).toBe(0);
  });

  it('listens on a chosen port, and close() stops listening and closes every connection', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const chosen = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));

    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort }, listenPort: chosen });
    expect(proxy.port).toBe(chosen);
    const open = client(chosen);
    await open.connected;
    await proxy.close();
    expect(proxy.mode).toBe('closed');
    expect(await open.ended).toBe('closed');
    const after = connect(chosen);
    await expect(after.connected).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
