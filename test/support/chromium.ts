/** Headless Chromium for the player tests and the latency bench: the system's /usr/bin/chromium, never a downloaded build. */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page, type ViewportSize } from 'playwright-core';
import { waitFor } from './e2e-helpers.ts';

/** Where the browser is installed (Debian's `chromium` package); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts CHROMIUM_PATH without the right to raise its threads' priority above the stack's (see the script). */
const AT_NORMAL_PRIORITY = fileURLToPath(new URL('./chromium-at-normal-priority.sh', import.meta.url));

/** Launches headless Chromium with autoplay allowed (the watch page's video is muted anyway), at the stack's priority. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: AT_NORMAL_PRIORITY,
    env: { ...process.env, EDGELIVE_CHROMIUM: CHROMIUM_PATH },
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--mute-audio', '--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** What the watch page exposes as `window.edgelive`. */
export interface WatchState {
  sid: string;
  player: 'hls.js' | 'native' | 'dash.js' | null;
  status: string | null;
  message: string | null;
  startupMs: number | null;
  firstFrameMs: number | null;
  /** Where the first frame played, and where the buffer began then (media seconds). */
  firstFrame: { position: number; bufferedFrom: number | null } | null;
  playing: boolean;
  rebufferCount: number;
  errors: { fatal: boolean; details: string; reason?: string; url?: string; atMs?: number }[];
  beaconsSent: number;
  cdnErrorsSent: number;
  /** hls.js's first steps until the first frame, `<ms since the player started> <step>`. */
  trace: string[];
}

/** The page's player state. */
export function watchState(page: Page): Promise<WatchState> {
  // @ts-expect-error window.edgelive is the watch page's own test hook
  return page.evaluate(() => ({ ...window.edgelive, errors: [...window.edgelive.errors] }) as WatchState);
}

/** The video element's playhead, seconds. */
export function currentTime(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelector('video')!.currentTime);
}

/** Collects console errors and failed requests a page reports, for assertion messages. */
export function pageLog(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') lines.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  return lines;
}

/** Opens `url` (a watch page) in a new page and waits until its player plays; `log` collects the page's console errors. */
export async function openPlaying(browser: Browser, url: string, opts: { timeoutMs?: number; viewport?: ViewportSize } = {}): Promise<{ page: Page; log: string[] }> {
  const page = await browser.newPage(opts.viewport ? { viewport: opts.viewport } : {});
  const log = pageLog(page);
  await page.goto(url);
  await waitFor(`${url} to play`, opts.timeoutMs ?? 30_000, async () => ((await watchState(page)).playing ? true : undefined));
  return { page, log };
}
