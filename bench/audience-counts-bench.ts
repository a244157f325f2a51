/**
 * `npm run bench:audience` — what counting a stream's viewers costs the StreamDO on every viewer
 * flush, with session buckets (`AudienceStore.counts`) and with the scan they replace (every current
 * session, edge/src/test-support/session-scan-reference.ts), side by side on the same rows, at
 * 10^4, 10^5 and 10^6 current sessions (issue 14).
 *
 * Runs IN WORKERD: wrangler's `unstable_dev` starts bench/audience-counts-worker.ts (config
 * bench/audience-counts.wrangler.toml), one SQLite-backed Durable Object per case; the object
 * times itself, so the figures are SQL and JavaScript work per call, without a request around it.
 * Local workerd, not a deployed object: no storage layer's latency, no CPU limit.
 *
 * Per case it also reports the one-time `migrate()` that builds the buckets of an object stored
 * before them, and the cost per session of a 1,000-session flush (the buckets add a read and
 * bucket writes to each upsert). Two layouts: `steady` (every viewer polled in the last 2 s) and
 * `leaving` (the whole audience stopped polling in the part-second the window starts in, the one
 * case where counting with buckets still reads sessions one by one).
 *
 * Env: BENCH_SESSIONS (10000,100000,1000000), BENCH_LAYOUTS (steady,leaving).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_dev } from 'wrangler';
import type { AudienceCase, AudienceFigures } from './audience-counts-worker.ts';
import { machineInfo } from './machine-info.ts';

const SIZES = (process.env.BENCH_SESSIONS ?? '10000,100000,1000000').split(',').map(Number);
const LAYOUTS = (process.env.BENCH_LAYOUTS ?? 'steady,leaving').split(',') as AudienceCase['layout'][];

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3));
const us = (v: number) => (v * 1000).toFixed(1);

console.log(`bench:audience on ${machineInfo()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
// The Worker never reads `request.cf`; unset, miniflare would fetch one from workers.cloudflare.com.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
const persistTo = mkdtempSync(join(tmpdir(), 'edgelive-audience-bench-'));
const worker = await unstable_dev(join(import.meta.dirname, 'audience-counts-worker.ts'), {
  config: join(import.meta.dirname, 'audience-counts.wrangler.toml'),
  persistTo,
  logLevel: 'warn',
  experimental: { disableExperimentalWarning: true, disableDevRegistry: true },
});
try {
  console.log('layout   sessions   counts() scan ms   counts() buckets ms   scan/buckets   upsert scan µs   upsert buckets µs   migrate ms (once)   same counts');
  for (const layout of LAYOUTS) {
    for (const sessions of SIZES) {
      const c: AudienceCase = { sessions, layout };
      const res = await worker.fetch(`http://bench/?case=${layout}-${sessions}`, { method: 'POST', body: JSON.stringify(c) });
      if (!res.ok) throw new Error(`case ${layout} ${sessions}: ${res.status} ${await res.text()}`);
      const f = (await res.json()) as AudienceFigures;
      if (f.current !== sessions) throw new Error(`case ${layout} ${sessions}: ${f.current} current sessions seeded`);
      console.log(
        [
          layout.padEnd(8),
          String(sessions).padStart(8),
          ms(f.scanCountsMs).padStart(18),
          ms(f.bucketCountsMs).padStart(21),
          `${(f.scanCountsMs / f.bucketCountsMs).toFixed(0)}x`.padStart(14),
          us(f.scanUpsertMs).padStart(16),
          us(f.bucketUpsertMs).padStart(19),
          ms(f.migrateMs).padStart(19),
          (f.equal ? 'yes' : 'NO').padStart(13),
        ].join(' '),
      );
      if (!f.equal) process.exitCode = 1;
    }
  }
} finally {
  await worker.stop();
  rmSync(persistTo, { recursive: true, force: true });
}
