import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../infra/local/free-port.ts';

/** A redis-server child on loopback with no persistence (a restart loses everything, on purpose). */
export interface RedisServer {
  url: string;
  port: number;
  pid: number | undefined;
  /** Kills the server (SIGKILL) and starts a fresh one on the same port. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function spawnRedis(port: number): ChildProcess {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

/** Starts `redis-server` on `port` (a free one by default) and waits for PONG. */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServer> {
  const port = opts.port || (await freePort());
  let child = spawnRedis(port);
  await waitForPong(port, 10_000);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid;
    },
    async restart(downMs = 0) {
      await stop();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      child = spawnRedis(port);
      await waitForPong(port, 10_000);
    },
    close: stop,
  };
}
