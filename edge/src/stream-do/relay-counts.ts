/**
 * The StreamDO's view of its relay shards' counts while the fan-out tier counts viewers (issue 14):
 * the latest report per relay, summed. A relay not heard from for STALE_MS counts nothing (its
 * viewers are gone, or it restarted and reports again within a second).
 */
const STALE_MS = 5_000;

export class RelayCounts {
  readonly #reports = new Map<number, { renditions: Record<string, number>; at: number }>();

  record(relay: number, renditions: Record<string, number>, now: number): void {
    this.#reports.set(relay, { renditions, at: now });
  }

  /** Viewers per rendition: the sum of the fresh reports. */
  sum(now: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [relay, r] of this.#reports) {
      if (now - r.at > STALE_MS) {
        this.#reports.delete(relay);
        continue;
      }
      for (const [rendition, n] of Object.entries(r.renditions)) out[rendition] = (out[rendition] ?? 0) + n;
    }
    return out;
  }

  /** Each relay's last report: how old it is and the viewers it counted (the scale simulation's debug output). */
  reports(now: number): { relay: number; ageMs: number; viewers: number }[] {
    return [...this.#reports].map(([relay, r]) => ({ relay, ageMs: now - r.at, viewers: Object.values(r.renditions).reduce((a, n) => a + n, 0) }));
  }

  clear(): void {
    this.#reports.clear();
  }
}
