import net from 'node:net';

/**
 * Ports are drawn below Linux's ephemeral range (32768-60999): a port handed out here is bound
 * later by another process (an origin node, workerd, redis-server), and in between the kernel
 * could give an ephemeral one to any socket asking for port 0. Below the range only another
 * explicit choice can collide, and this process never hands out the same port twice.
 */
const FIRST_PORT = 20_000;
const PORT_COUNT = 12_000;
const handedOut = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * PORT_COUNT);
    if (handedOut.has(port) || !(await canBind(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free TCP port found in ${FIRST_PORT}-${FIRST_PORT + PORT_COUNT - 1}`);
}
