import { parseMediaPlaylist, type MediaPlaylist, type MediaPlaylistEntry } from './media-playlist.ts';

/** What a watcher saw of one media sequence number. */
export interface SeenSegment {
  /** When a reload first listed it (ms since epoch). */
  firstSeenAt: number;
  entry: MediaPlaylistEntry;
  /** The status of its one GET (gaps are not fetched), once it answered. */
  status?: number;
}

/** Options of a playlist watcher. */
export interface PlaylistWatcherOptions {
  /** The media playlist URL. */
  url: string;
  /** Time between reloads (1,000 ms unless set). */
  intervalMs?: number;
  /** GET each newly listed (non-gap) segment once and record its status (true unless set). */
  fetchSegments?: boolean;
}

/**
 * A viewer that reloads one media playlist on a timer and checks what a player relies on: a media
 * sequence number keeps its meaning (same URI, same gap flag) across reloads, the file it names
 * carries that number, EXT-X-MEDIA-SEQUENCE never goes back, and every listed segment answers
 * 200. Breaches are collected as `violations`, to be asserted empty.
 */
export class PlaylistWatcher {
  readonly url: string;
  readonly seen = new Map<number, SeenSegment>();
  readonly violations: string[] = [];
  /** Reloads that did not answer 200 with a playlist, with the reason. */
  readonly failedReloads: string[] = [];
  reloads = 0;
  last: MediaPlaylist | undefined;
  readonly #intervalMs: number;
  readonly #fetchSegments: boolean;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  readonly #pendingFetches = new Set<Promise<void>>();
  #state: 'idle' | 'watching' | 'stopped' = 'idle';

  constructor(opts: PlaylistWatcherOptions) {
    this.url = opts.url;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#fetchSegments = opts.fetchSegments ?? true;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'watching';
    const tick = () => {
      this.#running = this.reload().then(() => {
        if (this.#state === 'watching') this.#timer = setTimeout(tick, this.#intervalMs);
      });
    };
    tick();
  }

  /** Stops reloading and waits for the reload and the segment fetches in flight. */
  async close(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#running;
    await Promise.all(this.#pendingFetches);
  }

  /** The media sequence numbers seen so far, ascending. */
  msns(): number[] {
    return [...this.seen.keys()].sort((a, b) => a - b);
  }

  /** Numbers between the first and the last seen that no reload ever listed. */
  missing(): number[] {
    const all = this.msns();
    if (all.length === 0) return [];
    const out: number[] = [];
    for (let n = all[0]!; n <= all.at(-1)!; n++) if (!this.seen.has(n)) out.push(n);
    return out;
  }

  /** Loads the playlist once and records what it lists. */
  async reload(): Promise<MediaPlaylist | undefined> {
    let playlist: MediaPlaylist;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.status !== 200) {
        this.failedReloads.push(`${new Date().toISOString()} ${res.status}`);
        return undefined;
      }
      playlist = parseMediaPlaylist(body);
    } catch (err) {
      this.failedReloads.push(`${new Date().toISOString()} ${String(err)}`);
      return undefined;
    }
    const now = Date.now();
    this.reloads++;
    if (this.last && playlist.mediaSequence < this.last.mediaSequence) {
      this.violations.push(`EXT-X-MEDIA-SEQUENCE went back from ${this.last.mediaSequence} to ${playlist.mediaSequence}`);
    }
    this.last = playlist;
    for (const entry of playlist.entries) {
      if (entry.file && entry.file.msn !== entry.msn) this.violations.push(`media sequence number ${entry.msn} lists ${entry.uri}, a file of segment ${entry.file.msn}`);
      const before = this.seen.get(entry.msn);
      if (before) {
        if (before.entry.uri !== entry.uri || before.entry.gap !== entry.gap) {
          this.violations.push(`media sequence number ${entry.msn} changed meaning: ${describe(before.entry)} then ${describe(entry)}`);
        }
        continue;
      }
      const seen: SeenSegment = { firstSeenAt: now, entry };
      this.seen.set(entry.msn, seen);
      if (this.#fetchSegments && !entry.gap) this.#fetchOnce(seen);
    }
    return playlist;
  }

  #fetchOnce(seen: SeenSegment): void {
    const url = new URL(seen.entry.uri, this.url).toString();
    const p = fetch(url, { signal: AbortSignal.timeout(15_000) })
      .then(async (res) => {
        await res.arrayBuffer();
        seen.status = res.status;
        if (res.status !== 200) this.violations.push(`listed segment ${seen.entry.msn} (${seen.entry.uri}) answered ${res.status}`);
      })
      .catch((err: unknown) => {
        seen.status = 0;
        this.violations.push(`listed segment ${seen.entry.msn} (${seen.entry.uri}) failed: ${String(err)}`);
      })
      .finally(() => this.#pendingFetches.delete(p));
    this.#pendingFetches.add(p);
  }
}

function describe(e: MediaPlaylistEntry): string {
  return `${e.gap ? 'GAP ' : ''}${e.uri}`;
}
