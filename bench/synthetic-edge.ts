/**
 * The edge Worker under workerd (`wrangler dev`, development mode) for the benches that drive it
 * with a synthetic origin (`bench:viewers`, `sim:scale`): fresh admin token and origin secret, a
 * throw-away persistence directory, and signed origin → edge calls. A SIGINT or SIGTERM to the bench
 * stops wrangler (and its workerd) before the bench exits.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../infra/local/free-port.ts';
import { startWranglerDev, type WranglerDev } from '../infra/local/wrangler-dev.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../shared/src/signing/request-signature.ts';

export interface SyntheticEdge {
  base: string;
  adminToken: string;
  originSecret: string;
  /** workerd's DevTools port (CPU profiles: `SIM_PROFILE` in sim:scale). */
  inspectorPort: number;
  /** The wrangler process of the edge (its workerd runs below it). */
  pid: number;
  /**
   * With `isolateProcesses: n`: n more workerd processes running the same Worker, whose Durable
   * Object bindings reach the first one's objects (bench/sim-isolates.wrangler.toml, wrangler's dev
   * registry). Requests sent to one are served on its own event loop.
   */
  isolateEdges: { base: string; pid: number }[];
  /** A signed internal API call (the origin's); anything but 2xx throws with the path and the answer. */
  signed(path: string, body: unknown): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the edge; `label` names its persistence directory, `onLog` sees wrangler's output lines,
 * `minify: false` bundles it readable for a profile, `isolateProcesses` starts that many more
 * workerd processes whose objects are the edge's (`isolateEdges`).
 */
export async function startSyntheticEdge(label: string, onLog?: (line: string) => void, opts: { minify?: boolean; isolateProcesses?: number } = {}): Promise<SyntheticEdge> {
  const adminToken = randomBytes(24).toString('base64url');
  const originSecret = randomBytes(24).toString('base64url');
  const persist = mkdtempSync(join(tmpdir(), `edgelive-${label}-`));
  const inspectorPort = await freePort();
  const vars = { ADMIN_TOKEN: adminToken, ORIGIN_SECRET: originSecret, EDGELIVE_ENV: 'development' };
  const edge = await startWranglerDev({
    host: '127.0.0.1',
    port: await freePort(),
    inspectorPort,
    persistTo: persist,
    vars,
    ...(onLog ? { onLog } : {}),
    ...(opts.minify === false ? { minify: false } : {}),
  });
  const base = edge.url;
  const isolateEdges: WranglerDev[] = [];
  const close = async () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await Promise.all(isolateEdges.map((e) => e.close()));
    await edge.close();
    rmSync(persist, { recursive: true, force: true });
  };
  // Stopped from outside (Ctrl-C, kill): wrangler and its workerd go too, not left serving.
  const onSigint = () => void close().finally(() => process.exit(130));
  const onSigterm = () => void close().finally(() => process.exit(143));
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // One after the other: two bundling at once on 2 cores take longer than twice one.
  for (let n = 0; n < (opts.isolateProcesses ?? 0); n++) {
    const name = `edgelive-isolates-${n + 1}`;
    const started = await startWranglerDev({
      host: '127.0.0.1',
      port: await freePort(),
      inspectorPort: await freePort(),
      persistTo: join(persist, name),
      config: 'bench/sim-isolates.wrangler.toml',
      name,
      vars,
      ...(onLog ? { onLog: (line: string) => onLog(`[${name}] ${line}`) } : {}),
      ...(opts.minify === false ? { minify: false } : {}),
    }).catch(async (err: unknown) => {
      await close();
      throw err;
    });
    isolateEdges.push(started);
  }
  return {
    base,
    adminToken,
    originSecret,
    inspectorPort,
    pid: edge.pid,
    isolateEdges: isolateEdges.map((e) => ({ base: e.url, pid: e.pid })),
    async signed(path, body) {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      const ts = Math.floor(Date.now() / 1000);
      const signature = await signRequest(originSecret, 'POST', path, ts, bytes);
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signature }, body: bytes, signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res;
    },
    close,
  };
}
