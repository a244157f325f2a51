import type { RenderedPlaylist } from './playlist-response.ts';

/** Most playlists one isolate keeps in memory (a few KB each: all renditions of its busy streams). */
const MAX_ENTRIES = 512;
/** Longest an isolate keeps one (a live or blocking-reload playlist's whole max-age; ended and VOD playlists' first seconds). */
const MAX_SECONDS = 6;

/**
 * The playlists this isolate rendered or read from the Cache API lately, each until its own
 * max-age runs out: the hottest playlists (every viewer of a stream asks for the same few URLs,
 * several times a second under LL-HLS) are answered without a Cache API lookup. Never longer than
 * a shared cache would keep them: an entry read from the Cache API keeps only what was left of its
 * max-age when it was rendered (`renderedAt`), and none longer than MAX_SECONDS.
 */
export class RecentPlaylists {
  readonly #entries = new Map<string, { playlist: RenderedPlaylist; expiresAt: number }>();
  readonly #max: number;

  constructor(max = MAX_ENTRIES) {
    this.#max = max;
  }

  /** The playlist for `key` if still fresh at `now`. */
  get(key: string, now: number): RenderedPlaylist | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry.playlist;
    this.#entries.delete(key);
    return undefined;
  }

  /** Keeps `playlist`, rendered at `renderedAt`, until its max-age from then. */
  set(key: string, playlist: RenderedPlaylist, renderedAt: number, now: number): void {
    const expiresAt = renderedAt + Math.min(playlist.maxAge, MAX_SECONDS) * 1000;
    if (expiresAt <= now) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#evict(now);
    this.#entries.set(key, { playlist, expiresAt });
  }

  /** Forgets `key` (a deleted recording's playlists). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries, then the oldest if still full. */
  #evict(now: number): void {
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
