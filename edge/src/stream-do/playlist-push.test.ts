import { describe, expect, it } from 'vitest';
import { PlaylistPush, type PlaylistPushMessage, type PushDelta } from './playlist-push.ts';
import { PushStates } from './push-reader.ts';
import { liveRendition } from '../test-support/live-rendition.ts';
import { pushLines } from '../test-support/push-lines.ts';

/** Reads newline-delimited messages off a subscription: as sent (`raw`), or with changes applied as subscribers read them. */
function messages(stream: ReadableStream<Uint8Array>, raw = false) {
  const next = pushLines(stream);
  return {
    /** The next message, or `done` when the subscription closed, or `none` if nothing came within `ms`. */
    async next(ms = 200): Promise<PlaylistPushMessage | PushDelta | 'done' | 'none'> {
      const got = await next(ms);
      if (got === 'none' || got === 'done') return got;
      lengths.push(got.line.length);
      return raw ? got.wire : got.state;
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
/** Lengths of the lines read, in order (for the size check). */
const lengths: number[] = [];

/** A live LL-HLS rendition as the StreamDO pushes it: 8 segments of 2 s, the parts of the last 3, `parts` parts of the next one. */
const rendition = (msn: number, parts: number) => liveRendition(msn, parts, { listed: 8, withParts: 3, reports: ['1080p', '480p', '360p'] });

describe('PlaylistPush', () => {
  it('sends the state at once, then each change, and nothing when the state did not change', async () => {
    let parts = 1;
    const asked: number[] = [];
    const push = new PlaylistPush((windowSegments) => {
      asked.push(windowSegments);
      return { type: 'state', seq: 0, renditions: { '720p': { playlist: { parts } as never, edge: { last: null, segments: [] } } } };
    });
    const sub = messages(push.subscribe(6, 10));
    expect(await sub.next()).toMatchObject({ type: 'state', seq: 1, renditions: { '720p': { playlist: { parts: 1 } } } });
    parts = 2;
    push.changed();
    push.changed(); // coalesced with the first
    await flush();
    expect(await sub.next()).toMatchObject({ type: 'state', seq: 2, renditions: { '720p': { playlist: { parts: 2 } } } });
    push.changed(); // same state again
    expect(await sub.next(100)).toBe('none');
    expect(asked).toEqual([6, 6, 6]);
  });

  it('reads the state once per playlist window, whatever the number of subscribers', async () => {
    let reads = 0;
    let version = 0;
    const push = new PlaylistPush(() => {
      reads++;
      return { type: 'state', seq: 0, renditions: { v: { playlist: { version } as never, edge: { last: null, segments: [] } } } };
    });
    const subs = Array.from({ length: 20 }, () => messages(push.subscribe(6, 10)));
    for (const s of subs) await s.next();
    reads = 0;
    version = 1;
    push.changed();
    await flush();
    for (const s of subs) expect(await s.next()).toMatchObject({ renditions: { v: { playlist: { version: 1 } } } });
    expect(reads).toBe(1);
  });

  it('sends each change as the difference from the state before, which the subscriber turns back into the whole state', async () => {
    let msn = 20;
    let parts = 1;
    const state = (): PlaylistPushMessage => ({ type: 'state', seq: 0, renditions: Object.fromEntries(['1080p', '720p', '480p', '360p'].map((r) => [r, rendition(msn, parts)])) });
    const push = new PlaylistPush(state);
    const wire = messages(push.subscribe(6, 10), true);
    const read = messages(push.subscribe(6, 10));
    expect(await wire.next()).toMatchObject({ type: 'state', seq: 1 });
    await read.next();
    lengths.length = 0;
    for (let k = 0; k < 12; k++) {
      if (parts === 6) {
        msn++;
        parts = 0;
      } else parts++;
      push.changed();
      await flush();
      const sent = await wire.next();
      expect(sent).toMatchObject({ type: 'delta', seq: k + 2, base: k + 1 });
      expect(await read.next()).toEqual(JSON.parse(JSON.stringify({ ...state(), seq: k + 2 })));
    }
    // What each subscriber parses per part: a part of the whole state (4 renditions, 8 segments, 3 segments' parts listed):
    // a part is 1/7 of it, a segment's end (its parts move to the listed ones) under 1/3.
    const whole = JSON.stringify(state()).length;
    const deltas = lengths.filter((_, i) => i % 2 === 0);
    expect(Math.max(...deltas)).toBeLessThan(whole / 3);
    expect(deltas.reduce((a, b) => a + b, 0) / deltas.length).toBeLessThan(whole / 5);
    // A subscriber that comes later starts from the whole state now, numbered as the last change.
    expect(await messages(push.subscribe(6, 10), true).next()).toMatchObject({ type: 'state', seq: 13 });
  });

  it('refuses a change made from another state than the one the reader holds (a broken stream)', () => {
    const states = new PushStates();
    expect(() => states.take({ type: 'delta', seq: 2, base: 1, patch: { o: {} } })).toThrow(/made from state 1, but the last state here is none/);
    states.take({ type: 'state', seq: 3, renditions: {} });
    expect(() => states.take({ type: 'delta', seq: 5, base: 4, patch: { o: {} } })).toThrow(/made from state 4, but the last state here is 3/);
    expect(states.take({ type: 'delta', seq: 4, base: 3, patch: { o: { fanout: { '=': true } } } })).toEqual({ type: 'state', seq: 4, renditions: {}, fanout: true });
  });

  it('closes a subscription after a `gone` or `direct` answer, and when its time is up', async () => {
    let gone = false;
    const push = new PlaylistPush(() => (gone ? { type: 'gone' } : { type: 'state', seq: 0, renditions: {} }));
    const sub = messages(push.subscribe(6, 10));
    await sub.next();
    gone = true;
    push.changed();
    expect(await sub.next()).toEqual({ type: 'gone' });
    expect(await sub.next()).toBe('done');
    expect(push.size).toBe(0);

    // The stream went while nobody told the push: the next subscriber and those before it all hear it.
    gone = false;
    const before = messages(push.subscribe(6, 10));
    await before.next();
    gone = true;
    const after = messages(push.subscribe(6, 10));
    expect(await before.next()).toEqual({ type: 'gone' });
    expect(await after.next()).toEqual({ type: 'gone' });
    expect(await after.next()).toBe('done');
    expect(push.size).toBe(0);

    const direct = new PlaylistPush(() => ({ type: 'direct', reason: 'dvr' }));
    const d = messages(direct.subscribe(6, 10));
    expect(await d.next()).toEqual({ type: 'direct', reason: 'dvr' });
    expect(await d.next()).toBe('done');

    const short = new PlaylistPush(() => ({ type: 'state', seq: 0, renditions: {} }));
    const s = messages(short.subscribe(6, 1));
    await s.next();
    const started = Date.now();
    expect(await s.next(3000)).toBe('done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
