import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A running `wrangler dev`: the edge Worker and its Durable Objects under workerd. */
export interface WranglerDev {
  url: string;
  /** The wrangler process (its workerd runs below it). */
  pid: number;
  close(): Promise<void>;
}

/** How long workerd may take to come up on a busy 2-core machine. */
export const WRANGLER_START_TIMEOUT_MS = 90_000;

/**
 * Starts `wrangler dev` from the repo's wrangler.toml (or `config`) on `host:port`, with `vars` injected as
 * bindings (secrets included: locally they are plain bindings), and waits until it answers.
 */
export async function startWranglerDev(opts: {
  host: string;
  port: number;
  inspectorPort: number;
  persistTo: string;
  vars: Record<string, string>;
  onLog?: (line: string) => void;
  /** false: bundle unminified (wrangler.toml minifies), so a CPU profile names the functions. */
  minify?: boolean;
  /** The wrangler config, relative to the repository root (default `wrangler.toml`). */
  config?: string;
}): Promise<WranglerDev> {
  const args = [
    'dev',
    '--config',
    opts.config ?? 'wrangler.toml',
    '--ip',
    opts.host,
    '--port',
    String(opts.port),
    '--inspector-port',
    String(opts.inspectorPort),
    '--persist-to',
    opts.persistTo,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ];
  if (opts.minify === false) args.push('--minify=false');
  for (const [k, v] of Object.entries(opts.vars)) args.push('--var', `${k}:${v}`);
  const child: ChildProcess = spawn(`${REPO_ROOT}node_modules/.bin/wrangler`, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: process.env.CI ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      opts.onLog?.(line);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const url = `http://${opts.host}:${opts.port}`;
  const deadline = Date.now() + WRANGLER_START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited during start-up:\n${output.join('\n')}`);
    try {
      // Deliberately unauthenticated (a raw fetch, not the typed client): only the Worker itself answers 401.
      const res = await fetch(`${url}/v1/streams`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 401) break; // the Worker itself answered
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wrangler dev did not answer on ${url} within ${WRANGLER_START_TIMEOUT_MS} ms:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid!,
    async close() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
