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
   * With `ownThreadIsolates`: a second workerd running the same Worker with edge shards of its own,
   * whose other Durable Object bindings, the relays' among them, reach the first one's objects
   * (bench/sim-isolates.wrangler.toml, wrangler's dev registry). Requests sent here, and the edge
   * shards of the locations they name, are served on its own event loop.
   */
  ownThread?: { base: string; pid: number };
  /** A signed internal API call (the origin's); anything but 2xx throws with the path and the answer. */
  signed(path: string, body: unknown): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the edge; `label` names its persistence directory, `onLog` sees wrangler's output lines,
 * `minify: false` bundles it readable for a profile, `ownThreadIsolates` starts the second workerd
 * (`ownThread`).
 */
export async function startSyntheticEdge(label: string, onLog?: (line: string) => void, opts: { minify?: boolean; ownThreadIsolates?: boolean } = {}): Promise<SyntheticEdge> {
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
  let ownThread: WranglerDev | null = null;
  const close = async () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await ownThread?.close();
    await edge.close();
    rmSync(persist, { recursive: true, force: true });
  };
  // Stopped from outside (Ctrl-C, kill): wrangler and its workerd go too, not left serving.
  const onSigint = () => void close().finally(() => process.exit(130));
  const onSigterm = () => void close().finally(() => process.exit(143));
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // After the first is up, not beside it: two bundling at once on 2 cores take longer than twice one.
  if (opts.ownThreadIsolates) {
    ownThread = await startWranglerDev({
      host: '127.0.0.1',
      port: await freePort(),
      inspectorPort: await freePort(),
      persistTo: join(persist, 'own-thread'),
      config: 'bench/sim-isolates.wrangler.toml',
      vars,
      ...(onLog ? { onLog: (line: string) => onLog(`[own-thread] ${line}`) } : {}),
      ...(opts.minify === false ? { minify: false } : {}),
    }).catch(async (err: unknown) => {
      await close();
      throw err;
    });
  }
  return {
    base,
    adminToken,
    originSecret,
    inspectorPort,
    pid: edge.pid,
    ...(ownThread ? { ownThread: { base: ownThread.url, pid: ownThread.pid } } : {}),
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
