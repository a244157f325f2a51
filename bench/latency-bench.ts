/**
 * `npm run bench:latency` — glass-to-glass latency in headless Chromium, read from the picture.
 *
 * Two streams in the same local stack, each fed by its own publisher burning the wall clock into
 * every frame (bench/clock-code.ts): one created with `lowLatency: true`, one with `false`. Three
 * watch pages play side by side: hls.js (low-latency mode) on the first, hls.js and dash.js on
 * the second. Each page reads the clock from the decoded frames for BENCH_SECONDS (≥ 60 for the
 * figures that count) and the bench prints time to first frame, glass-to-glass p50/p95, stalls,
 * and whether the stack actually served LL-HLS parts for the low-latency stream. A fourth page,
 * opened only for time to first frame, plays the low-latency stream with hls.js's own start and
 * transmuxing worker (`?early=0&worker=1`), so the watch page's fast start is measured against
 * it in the same run.
 *
 * Env: BENCH_SECONDS (60), BENCH_WARMUP_SECONDS (10), BENCH_TTFF_RUNS (5 fresh pages per player
 * for time to first frame), BENCH_TRACE=1 (print hls.js's start-up steps and the page's requests
 * with their times for each page), BENCH_PAGE_QUERY (appended to the watch page URLs, e.g. `&lowLatency=0`).
 */
import { loadavg } from 'node:os';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../infra/local/local-stack.ts';
import { launchChromium, openPlaying, watchState } from '../test/support/chromium.ts';
import { FFMPEG, runFfmpeg, type FfmpegProcess } from '../test/support/ffmpeg-cli.ts';
import { createStream, type CreatedStream, waitFor } from '../test/support/e2e-helpers.ts';
import { CLOCK_BITS, clockFilterGraph, installClockReader, STRIP_HEIGHT } from './clock-code.ts';
import { machineInfo, percentile } from './machine-info.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WIDTH = Number(process.env.BENCH_WIDTH ?? 640);
const HEIGHT = Number(process.env.BENCH_HEIGHT ?? 360);
const FPS = Number(process.env.BENCH_FPS ?? 30);
/** Keyframe interval of the source, seconds (the origin cuts segments at keyframes). */
const GOP_SECONDS = Number(process.env.BENCH_GOP_SECONDS ?? 2);
/** Seconds of playing before recording starts, so start-up catch-up does not count. */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
/** Page opens per player for time to first frame (each a fresh page and viewer); the last one stays to measure latency. */
const TTFF_RUNS = Math.max(1, Number(process.env.BENCH_TTFF_RUNS ?? 5));

interface Contender {
  label: string;
  streamId: string;
  player: 'hls' | 'dash';
  /** Added to the watch page's query. */
  query?: string;
  /** Only opened for time to first frame (no latency page). */
  ttffOnly?: boolean;
  page?: Page;
}

/** A publisher sending the clock-coded test source in real time (one passthrough rung downstream). */
function publishClock(url: string, seconds: number): FfmpegProcess {
  return runFfmpeg([
    '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-filter_complex', clockFilterGraph('[0:v]', WIDTH, HEIGHT, FPS),
    '-map', '[v]', '-map', '1:a',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-g', String(FPS * GOP_SECONDS), '-keyint_min', String(FPS * GOP_SECONDS), '-sc_threshold', '0',
    '-b:v', '1000k', '-maxrate', '1000k', '-bufsize', '2000k',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'flv', url,
  ]);
}

function createBenchStream(stack: LocalStack, name: string, lowLatency: boolean): Promise<CreatedStream> {
  return createStream(stack, { name, lowLatency, ladder: { rungs: [{ name: `${HEIGHT}p`, height: HEIGHT, videoKbps: 1000 }], audioKbps: 64 } });
}

async function playable(stack: LocalStack, id: string): Promise<void> {
  await waitFor(`stream ${id} to be playable`, 60_000, async () => {
    const res = await fetch(`${stack.edgeUrl}/live/${id}/status.json?bench=${Date.now()}`);
    const body = (await res.json()) as { playable?: boolean };
    return body.playable ? true : undefined;
  });
}

/** Opens the watch page and waits for its first frame; returns the player's startup and the page's first frame. */
async function open(browser: Browser, stack: LocalStack, c: Contender): Promise<{ player: number; page: number }> {
  const { page } = await openPlaying(browser, `${stack.edgeUrl}/watch/${c.streamId}?player=${c.player}${c.query ?? ''}${process.env.BENCH_PAGE_QUERY ?? ''}`, { timeoutMs: 60_000, viewport: { width: WIDTH, height: HEIGHT } });
  c.page = page;
  // Room for a minute of parts and playlist reloads (the default keeps 250 entries), for BENCH_TRACE.
  await page.evaluate(() => performance.setResourceTimingBufferSize(10_000));
  await page.evaluate(installClockReader, { bits: CLOCK_BITS, stripFraction: STRIP_HEIGHT / 360, everyMs: 100 });
  const state = await watchState(page);
  if (process.env.BENCH_TRACE) {
    console.log(`  ${c.label} start-up: ${state.trace.join(' | ')}`);
    console.log(`  ${c.label} requests until the first frame (file: sent→first byte→last byte, ms since the player started): ${(await requestTimings(page)).join(' | ')}`);
  }
  return { player: state.startupMs ?? Number.NaN, page: state.firstFrameMs ?? Number.NaN };
}

/**
 * Every request the page made from `fromMs` to `toMs` (ms since the player started; by default until
 * its first frame), from the browser's resource timing; with BENCH_TRACE=urls with their whole query.
 */
function requestTimings(page: Page, span?: { fromMs: number; toMs: number }): Promise<string[]> {
  return page.evaluate(({ range, fullUrls }) => {
    const w = window as unknown as { edgelive: { firstFrameMs: number; startupMs: number } };
    const started = w.edgelive.firstFrameMs - w.edgelive.startupMs;
    const from = range ? started + range.fromMs : started;
    const to = range ? started + range.toMs : w.edgelive.firstFrameMs;
    return (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      // Still under way at the start (the preloaded master began with the page), or begun before the end.
      .filter((e) => e.responseEnd >= from && e.startTime <= to)
      .map((e) => {
        const u = new URL(e.name);
        const blocked = /_HLS_msn=(\d+)(?:&_HLS_part=(\d+))?/.exec(u.search)?.slice(1).filter(Boolean).join('.');
        const file = `${u.pathname.split('/').at(-1)}${fullUrls ? u.search : blocked ? `?${blocked}` : ''}`;
        const at = (t: number) => Math.round(t - started);
        return `${file} ${at(e.startTime)}→${at(e.responseStart)}→${at(e.responseEnd)}${e.transferSize === 0 && e.decodedBodySize > 0 ? ' (cache)' : ''}`;
      });
  }, { range: span ?? null, fullUrls: process.env.BENCH_TRACE === 'urls' });
}

interface Result {
  label: string;
  ttff: { player: number[]; page: number[] };
  samples: number[];
  bad: number;
  stalls: number;
  stallMs: number;
  warmupRebuffers: number;
  errors: string[];
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
}

async function main(): Promise<void> {
  console.log(`machine: ${machineInfo(FFMPEG)}`);
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
  console.log(`load average (1/5/15 min) at start: ${load()}`);
  console.log(`source: ${WIDTH}x${HEIGHT}@${FPS}, keyframe every ${GOP_SECONDS} s, one passthrough rung; recording ${SECONDS} s after ${WARMUP_SECONDS} s warm-up`);
  const stack = await startLocalStack({ ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 }, logger: pino({ level: 'warn' }) });
  const publishers: FfmpegProcess[] = [];
  let browser: Browser | undefined;
  try {
    const ll = await createBenchStream(stack, 'bench-ll', true);
    const plain = await createBenchStream(stack, 'bench-plain', false);
    const publishSeconds = SECONDS + WARMUP_SECONDS + 90;
    publishers.push(publishClock(`${stack.rtmpUrl}/${ll.streamKey}`, publishSeconds), publishClock(`${stack.rtmpUrl}/${plain.streamKey}`, publishSeconds));
    await Promise.all([playable(stack, ll.id), playable(stack, plain.id)]);
    // Let the window fill a little, as a viewer arriving at a running stream would find it.
    await new Promise((r) => setTimeout(r, 4000));
    const llPlaylist = await (await fetch(`${stack.edgeUrl}/live/${ll.id}/${HEIGHT}p/index.m3u8`)).text();
    const servesParts = llPlaylist.includes('#EXT-X-PART:');
    const contenders: Contender[] = [
      { label: servesParts ? 'LL-HLS (hls.js, lowLatency: true)' : 'lowLatency: true (hls.js; NO parts served)', streamId: ll.id, player: 'hls' },
      // The same page with hls.js's own part loader (one part after another), side by side for start-up.
      // The same page with hls.js's own start and its transmuxing worker (the page before both), side by side for start-up.
      { label: 'LL-HLS, hls.js start+worker (TTFF only)', streamId: ll.id, player: 'hls', query: '&early=0&worker=1', ttffOnly: true },
      { label: 'HLS (hls.js, lowLatency: false)', streamId: plain.id, player: 'hls' },
      { label: 'DASH (dash.js, lowLatency: false)', streamId: plain.id, player: 'dash' },
    ];
    browser = await launchChromium();
    console.log('chromium: its threads at nice 0 like the stack (launched without CAP_SYS_NICE: test/support/chromium-at-normal-priority.sh)');
    // One page at a time, so each time to first frame is measured without the others starting alongside.
    // First the pages only opened for their time to first frame, each closed before the next; then
    // the pages that stay to measure latency, so the later start-ups do not disturb a page that is
    // already measuring (hls.js raises its target latency for good after a stall).
    const ttff = new Map<string, { player: number[]; page: number[] }>();
    for (const c of contenders) ttff.set(c.label, { player: [], page: [] });
    const note = (c: Contender, t: { player: number; page: number }) => {
      ttff.get(c.label)!.player.push(t.player);
      ttff.get(c.label)!.page.push(t.page);
    };
    // Taking turns, so a change in the machine's load falls on every player alike.
    const measured = contenders.filter((c) => !c.ttffOnly);
    for (let i = 0; i < TTFF_RUNS; i++) {
      for (const c of contenders) {
        if (i === TTFF_RUNS - 1 && !c.ttffOnly) continue;
        note(c, await open(browser, stack, c));
        await c.page!.close();
      }
    }
    for (const c of measured) note(c, await open(browser, stack, c));
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
    // Rebuffers while warming up (after the first frame): hls.js keeps more latency after each.
    const warmupRebuffers = new Map<string, number>();
    for (const c of measured) warmupRebuffers.set(c.label, (await watchState(c.page!)).rebufferCount);
    for (const c of measured) await c.page!.evaluate(() => ((window as unknown as { __latency: { recording: boolean } }).__latency.recording = true));
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const results: Result[] = [];
    for (const c of contenders) {
      if (c.ttffOnly) {
        results.push({ label: c.label, ttff: ttff.get(c.label)!, samples: [], bad: 0, stalls: 0, stallMs: 0, warmupRebuffers: 0, errors: [] });
        continue;
      }
      const data = await c.page!.evaluate(() => {
        const l = (window as unknown as { __latency: { samples: number[]; bad: number; stalls: number; stallMs: number; stallSince: number } }).__latency;
        return { samples: l.samples, bad: l.bad, stalls: l.stalls, stallMs: l.stallMs + (l.stallSince ? performance.now() - l.stallSince : 0) };
      });
      const state = await watchState(c.page!);
      if (process.env.BENCH_TRACE) {
        for (const e of state.errors.filter((e) => e.details === 'bufferStalledError' && e.atMs !== undefined)) {
          console.log(`  ${c.label} requests around its stall at ${e.atMs} ms: ${(await requestTimings(c.page!, { fromMs: e.atMs! - 2000, toMs: e.atMs! + 300 })).join(' | ')}`);
        }
      }
      results.push({ label: c.label, ttff: ttff.get(c.label)!, ...data, warmupRebuffers: warmupRebuffers.get(c.label) ?? 0, errors: state.errors.map((e) => `${e.fatal ? 'fatal ' : ''}${e.details}${e.atMs === undefined ? '' : ` at ${(e.atMs / 1000).toFixed(1)} s`}`) });
    }
    const widths = [42, 16, 16, 8, 8, 7, 11, 15, 10];
    const spread = (v: number[]) => `${Math.round(percentile(v, 50))} (${Math.round(Math.min(...v))}-${Math.round(Math.max(...v))})`;
    console.log(`\nglass-to-glass over ${SECONDS} s, read from the picture (clock code in every frame)`);
    console.log(`TTFF: the player's start (hls.js attaching / dash.js initializing) to its first frame playing (the watch page's preloads may be in by then); page: navigation to first frame (status check, script load, preloads); p50 (min-max) of ${TTFF_RUNS} fresh pages`);
    console.log(`stalls: while recording; warm-up rebuffers: after the first frame, before recording (hls.js keeps a second more latency after each)`);
    console.log(row(['player', 'TTFF ms', 'page→frame ms', 'p50 ms', 'p95 ms', 'stalls', 'stalled ms', 'warm-up rebuf.', 'samples'], widths));
    for (const r of results) {
      const latency = r.samples.length === 0 ? ['-', '-', '-', '-', '-', '-'] : [Math.round(percentile(r.samples, 50)), Math.round(percentile(r.samples, 95)), r.stalls, Math.round(r.stallMs), r.warmupRebuffers, `${r.samples.length} (${r.bad} unread)`];
      console.log(row([r.label, spread(r.ttff.player), spread(r.ttff.page), ...latency], widths));
    }
    for (const r of results) if (r.errors.length > 0) console.log(`${r.label}: player errors: ${r.errors.slice(0, 10).join(', ')}${r.errors.length > 10 ? ` (+${r.errors.length - 10})` : ''}`);
    console.log(`\nLL-HLS parts served for the lowLatency: true stream: ${servesParts ? 'yes' : 'no (the stack serves plain HLS for it; the first row measures that)'}`);
    console.log(`load average (1/5/15 min) at the end: ${load()}`);
    console.log('goals: LL-HLS p50 <= 1500 ms, zero stalls, TTFF <= 500 ms');
  } finally {
    await browser?.close();
    for (const p of publishers) p.child.kill('SIGKILL');
    await stack.close();
  }
}

await main();
