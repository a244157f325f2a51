import { describe, expect, it } from 'vitest';
import { PlaylistPush, type PlaylistPushMessage } from './playlist-push.ts';

/** Reads newline-delimited messages off a subscription. */
function messages(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    /** The next message, or `done` when the subscription closed, or `none` if nothing came within `ms`. */
    async next(ms = 200): Promise<PlaylistPushMessage | 'done' | 'none'> {
      for (;;) {
        const nl = buffer.indexOf('\n');
        if (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          return JSON.parse(line) as PlaylistPushMessage;
        }
        const read = await Promise.race([reader.read(), new Promise<'none'>((r) => setTimeout(() => r('none'), ms))]);
        if (read === 'none') return 'none';
        if (read.done) return 'done';
        buffer += read.value;
      }
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

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
