import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { REPO_ROOT } from './wrangler-dev.ts';

/** Lifecycle of an origin node running as its own OS process. */
export type OriginProcessState = 'starting' | 'running' | 'exited';

/**
 * One origin node as a child process (`node origin/src/main.ts` with its environment), so that a
 * test can kill -9 it like a crashed machine. Its JSON log lines are passed to `onLog`.
 */
export class OriginProcess {
  #state: OriginProcessState = 'starting';
  readonly nodeId: string;
  readonly rtmpUrl: string;
  readonly httpUrl: string;
  readonly #env: Record<string, string>;
  readonly #logger: Logger;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;

  constructor(opts: { nodeId: string; host: string; rtmpPort: number; httpPort: number; env: Record<string, string>; logger: Logger }) {
    this.nodeId = opts.nodeId;
    this.rtmpUrl = `rtmp://${opts.host}:${opts.rtmpPort}/live`;
    this.httpUrl = `http://${opts.host}:${opts.httpPort}`;
    this.#env = { ...opts.env, NODE_ID: opts.nodeId, BIND_HOST: opts.host, RTMP_PORT: String(opts.rtmpPort), HTTP_PORT: String(opts.httpPort) };
    this.#logger = opts.logger.child({ originProcess: opts.nodeId });
  }

  get state(): OriginProcessState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How and when the process exited, once it has. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined {
    return this.#exit;
  }

  /** Resolves when the process has exited. */
  exited(): Promise<void> {
    return this.#exited;
  }

  /** Sends `signal` without waiting (a graceful shutdown the caller watches). */
  signal(signal: NodeJS.Signals): void {
    if (this.#state !== 'exited') this.#child?.kill(signal);
  }

  /** Spawns the node and waits until its /readyz answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'origin/src/main.ts')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.#env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#state = 'exited';
        this.#exit = { code, signal, at: Date.now() };
        this.#logger.info({ code, signal }, 'origin process exited');
        resolve();
      }),
    );
    const forward = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.#logger.debug({ line }, 'origin log');
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', (d: Buffer) => this.#logger.warn({ stderr: d.toString().slice(0, 2000) }, 'origin stderr'));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#state === 'exited') throw new Error(`origin ${this.nodeId} exited during start-up`);
      const ok = await fetch(`${this.httpUrl}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`origin ${this.nodeId} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.#state = 'running';
  }

  /** Sends `signal` (SIGKILL for a crash, SIGTERM for a graceful shutdown) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#state === 'exited' || !this.#child) return;
    this.#child.kill(signal);
    await this.#exited;
  }

  /** Graceful stop with a time limit, then SIGKILL. */
  async close(timeoutMs = 15_000): Promise<void> {
    if (this.#state === 'exited' || !this.#child) return;
    this.#child.kill('SIGINT');
    const done = await Promise.race([this.#exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
    if (!done) await this.kill('SIGKILL');
  }
}
