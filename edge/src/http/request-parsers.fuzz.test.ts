import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { beaconSchema } from '../../../shared/src/viewers/beacon.ts';
import { playlistCacheKey, PLAYLIST_KEY_PARAMS } from '../playback/playlist-cache-key.ts';
import { sessionIdOf } from '../viewers/session-id.ts';
import { isSignedSession } from '../viewers/signed-session.ts';
import { parseRange } from './byte-range.ts';
import { parseJsonBody } from './parse-json-body.ts';

/** Query strings as clients send them: known names, near misses and junk, any values. */
const queryArb = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PLAYLIST_KEY_PARAMS, 'sid', '_hls_msn', '_HLS_MSN', 'x', ''), fc.string({ maxLength: 12 })), fc.string({ maxLength: 24 })),
  { maxLength: 8 },
);

describe('request parsers under untrusted input (fast-check)', () => {
  it('parseRange answers full, a range inside the file, or unsatisfiable, for any header and size', () => {
    const headerArb = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined })).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
      fc.array(fc.tuple(fc.nat(200), fc.nat(200)), { maxLength: 3 }).map((rs) => `bytes=${rs.map(([a, b]) => `${a}-${b}`).join(',')}`),
    );
    fc.assert(
      fc.property(headerArb, fc.nat(1_000_000), (header, size) => {
        const r = parseRange(header, size);
        expect(['full', 'partial', 'unsatisfiable']).toContain(r.kind);
        if (r.kind === 'partial') {
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeLessThan(size);
          expect(r.start).toBeLessThanOrEqual(r.end);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('playlistCacheKey keeps only HLS directives, whatever else the query holds', () => {
    fc.assert(
      fc.property(queryArb, (pairs) => {
        const q = new URLSearchParams(pairs);
        const key = new URL(playlistCacheKey(`https://e.test/live/abcdefghijklmnop/720p/index.m3u8?${q.toString()}`));
        expect(key.pathname).toBe('/live/abcdefghijklmnop/720p/index.m3u8');
        for (const name of key.searchParams.keys()) expect(PLAYLIST_KEY_PARAMS).toContain(name);
        expect(key.search.length).toBeLessThanOrEqual(3 * 40);
      }),
      { numRuns: 1000 },
    );
  });

  it('session ids: any query value is either a well-formed sid or null, and none is signed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (value) => {
        const sid = sessionIdOf(new URL(`https://e.test/p?sid=${encodeURIComponent(value)}`));
        if (sid !== null) expect(sid).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
        expect(await isSignedSession('test-origin-secret', value)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('beacon bodies: any bytes are parsed or refused as bad_request, never a crash', () => {
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.json({ maxDepth: 3 }).map((j) => new TextEncoder().encode(j)),
      fc
        .record({ sid: fc.string({ maxLength: 70 }), startupMs: fc.oneof(fc.integer(), fc.double(), fc.string()), switches: fc.array(fc.record({ from: fc.string(), to: fc.string() }), { maxLength: 60 }) }, { requiredKeys: [] })
        .map((o) => new TextEncoder().encode(JSON.stringify(o))),
    );
    fc.assert(
      fc.property(bodyArb, (bytes) => {
        let json: unknown;
        try {
          json = parseJsonBody(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(EdgeliveError);
          expect((err as EdgeliveError).code).toBe('bad_request');
          return;
        }
        const parsed = beaconSchema.safeParse(json);
        if (parsed.success) expect(parsed.data.switches.length).toBeLessThanOrEqual(50);
      }),
      { numRuns: 1000 },
    );
  });
});
