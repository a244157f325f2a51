/**
 * `npm run bench:dvr` — what a DVR window and recordings cost the StreamDO, in one run:
 *
 *   1. render time of a live media playlist (StreamDO read + playlist text) with 8, 900 and 3,600
 *      segments listed, on a young stream and on one that has announced 50,000 segments per
 *      rendition (the cost must follow the window, not the stream's age), plus the delta update
 *      (`_HLS_skip=YES`) of the 3,600-segment playlist;
 *   2. announce cost (one segment announce of 2 renditions, the whole write: index append, pruning,
 *      recording, purge queue) with 10 and with 100,000 stored segments kept by a recording.
 *
 * The edge's real modules run here (StreamStore, appendSegments/storeSegments, the recordings
 * hooks, mediaPlaylistData, renderMedia) over Node's built-in SQLite (`node:sqlite`, the same
 * SQLite engine as a Durable Object's `ctx.storage.sql`, without workerd's storage layer around
 * it), so the figures are the SQL and rendering work per call, not a deployed DO's latency.
 */
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { DEFAULT_LADDER } from '../shared/src/ladder/default-ladder.ts';
import { segmentFileName } from '../shared/src/internal-api.ts';
import type { SegmentAnnounce } from '../shared/src/schemas.ts';
import { renderMedia } from '../edge/src/playback/render-playlists.ts';
import { RecordingsStore } from '../edge/src/recordings/recordings-store.ts';
import { StreamRecordings } from '../edge/src/recordings/stream-recordings.ts';
import { segmentRowsKept } from '../edge/src/stream-do/append-segments.ts';
import { mediaPlaylistData } from '../edge/src/stream-do/playlist-data.ts';
import { storeSegments } from '../edge/src/stream-do/stream-announces.ts';
import { StreamStore } from '../edge/src/stream-do/stream-store.ts';
import { StreamWriter } from '../edge/src/stream-do/stream-writer.ts';
import { FFMPEG } from '../test/support/ffmpeg-cli.ts';
import { machineInfo, percentile } from './machine-info.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const T0 = Date.UTC(2025, 0, 1);
const RENDITIONS = ['720p', '360p'];

/** `ctx.storage.sql` over node:sqlite: the cursor methods the edge uses (toArray, one, rowsWritten). */
function sqlStorage(db: DatabaseSync): SqlStorage {
  const changes = db.prepare('SELECT changes() AS n');
  return {
    exec(query: string, ...bindings: unknown[]) {
      let rows: Record<string, unknown>[] = [];
      if (bindings.length === 0 && query.trim().replace(/;\s*$/, '').includes(';')) db.exec(query);
      else rows = db.prepare(query).all(...(bindings as SQLInputValue[])) as Record<string, unknown>[];
      const rowsWritten = Number((changes.get() as { n: number }).n);
      return {
        toArray: () => rows,
        one: () => {
          if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${query}`);
          return rows[0];
        },
        rowsWritten,
        [Symbol.iterator]: () => rows[Symbol.iterator](),
      };
    },
  } as unknown as SqlStorage;
}

/** One StreamDO's SQLite with a live stream, its renditions, and recordings wired as in the StreamDO. */
function streamDo(opts: { dvrWindowSeconds: number; record: boolean }) {
  const db = new DatabaseSync(':memory:');
  const sql = sqlStorage(db);
  const recordingsStore = new RecordingsStore(sql);
  let store!: StreamStore;
  const recordings = new StreamRecordings({
    store: recordingsStore,
    liveIndexHas: (r, m) => store.hasSegment(r, m),
    liveIndexUsesEpoch: (r, e) => store.usesEpoch(r, e),
    liveIndexRows: () => store.segmentRows(),
    stream: () => store.stream(),
    endedRetentionSeconds: 300,
    deleter: { delete: async () => {} },
    purgeDelayMs: 30_000,
    newId: () => 'rbench0000000001',
  });
  store = new StreamStore(sql, {
    segmentInserted: (s) => recordings.segmentInserted(s),
    segmentsPruning: (rows) => recordings.segmentsPruned(rows, 'benchstream00001', Date.now()),
  });
  store.migrate({ reconnectWindowSeconds: 60 });
  recordingsStore.migrate({ retentionSeconds: 604_800 });
  recordingsStore.configure(opts.record, 604_800);
  store.insertStream({ id: 'benchstream00001', name: 'bench', keyHash: 'ab'.repeat(32), ladder: DEFAULT_LADDER, lowLatency: false, partSeconds: 0.333, dvrWindowSeconds: opts.dvrWindowSeconds, segmentSeconds: 2, reconnectWindowSeconds: 60, createdAt: T0 });
  store.updateStream({ status: 'live', epoch: 1 });
  for (const [i, name] of RENDITIONS.entries()) {
    store.upsertRendition(1, { name, width: 1280 / (i + 1), height: 720 / (i + 1), codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: 2_000_000, initFile: 'init-1.mp4' });
  }
  const writer = new StreamWriter({ transactionSync: <T>(fn: () => T): T => { db.exec('BEGIN'); try { const r = fn(); db.exec('COMMIT'); return r; } catch (e) { db.exec('ROLLBACK'); throw e; } } }, store, () => {});
  let next = 0;
  /** One signed announce's worth of work: `count` segments per rendition, in one write. */
  const announce = (count: number) => {
    const row = store.stream()!;
    const a: SegmentAnnounce = {
      epoch: 1,
      segments: RENDITIONS.flatMap((rendition) =>
        Array.from({ length: count }, (_, i) => ({ rendition, msn: next + i, epoch: 1, duration: 2, programDateTime: T0 + (next + i) * 2000, file: segmentFileName(next + i, 1), bytes: 400_000, gap: false })),
      ),
    };
    next += count;
    const keep = segmentRowsKept(8, row.dvr_window_seconds, row.segment_seconds);
    return writer.write((tx) => storeSegments(store, tx, row, Date.now(), a, keep));
  };
  const fill = (segments: number) => {
    for (let done = 0; done < segments; done += 32) announce(Math.min(32, segments - done));
  };
  return { db, store, recordingsStore, announce, fill, setDvr: (s: number) => store.updateStream({ dvr_window_seconds: s }) };
}

function time(fn: () => void, iterations = ITERATIONS): { p50: number; p95: number } {
  for (let i = 0; i < Math.min(20, iterations); i++) fn(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;

console.log(`bench:dvr on ${machineInfo(FFMPEG)}`);
console.log(`SQLite ${new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get()!.v as string} (node:sqlite), ${ITERATIONS} iterations per figure\n`);

// 1. Render time by window size and stream age.
console.log('Render a live media playlist (StreamDO read + text), 720p:');
console.log('  listed   young stream (3,700 segs)     old stream (50,000 segs)      bytes');
const young = streamDo({ dvrWindowSeconds: 7200, record: false });
young.fill(3700);
const old = streamDo({ dvrWindowSeconds: 7200, record: false });
old.fill(50_000);
const render = (d: ReturnType<typeof streamDo>, skip = false) => {
  const data = mediaPlaylistData(d.store.stream()!, d.store, '720p', 8);
  if (!data.ok) throw new Error(data.message);
  return renderMedia(data.value, { now: Date.now(), endedRetentionSeconds: 300, streamId: 'benchstream00001', rendition: '720p', skip }).body;
};
for (const [label, dvr] of [['8', 0], ['900', 1800], ['3,600', 7200]] as const) {
  young.setDvr(dvr);
  old.setDvr(dvr);
  const listed = render(young).split('\n').filter((l) => l.startsWith('seg-')).length;
  const a = time(() => render(young));
  const b = time(() => render(old));
  console.log(`  ${label.padStart(5)}    p50 ${ms(a.p50)}  p95 ${ms(a.p95)}    p50 ${ms(b.p50)}  p95 ${ms(b.p95)}    ${render(young).length} (${listed} listed)`);
}
young.setDvr(7200);
old.setDvr(7200);
const da = time(() => render(young, true));
const db = time(() => render(old, true));
console.log(`  delta    p50 ${ms(da.p50)}  p95 ${ms(da.p95)}    p50 ${ms(db.p50)}  p95 ${ms(db.p95)}    ${render(young, true).length} (_HLS_skip=YES of 3,600)`);
console.log(`  index rows: young ${young.store.rowCounts().segmentRows}, old ${old.store.rowCounts().segmentRows} (bounded by the window + 2 per rendition)\n`);

// 2. Announce cost by stored segments. Each measured announce adds 2 segments, so the stored count
// grows by 2 per sample during a figure; both ends are printed.
console.log('Announce one segment of 2 renditions (whole write: append, prune, record, purge queue):');
console.log('  recorded (record: true; stored = rows a recording keeps)        not recorded (stored = objects queued for purge, no alarm runs here)');
for (const stored of [10, 100_000]) {
  const recorded = streamDo({ dvrWindowSeconds: 0, record: true });
  recorded.fill(stored / RENDITIONS.length);
  const plain = streamDo({ dvrWindowSeconds: 0, record: false });
  plain.fill(stored / RENDITIONS.length + 10); // 10 rows per rendition stay in the index, the rest wait for the purge
  const startA = recorded.recordingsStore.rowCounts().recordingSegmentRows;
  const startB = plain.recordingsStore.rowCounts().purgeQueueRows;
  const a = time(() => recorded.announce(1));
  const b = time(() => plain.announce(1));
  const endA = recorded.recordingsStore.rowCounts().recordingSegmentRows;
  const endB = plain.recordingsStore.rowCounts().purgeQueueRows;
  console.log(
    `  stored ${startA.toLocaleString('en-US')}→${endA.toLocaleString('en-US')}: p50 ${ms(a.p50)}  p95 ${ms(a.p95)}      stored ${startB.toLocaleString('en-US')}→${endB.toLocaleString('en-US')}: p50 ${ms(b.p50)}  p95 ${ms(b.p95)}`,
  );
}
