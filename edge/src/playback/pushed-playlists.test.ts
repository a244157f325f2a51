import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { MediaPlaylistData } from '../stream-do/playlist-data.ts';
import type { PlaylistPushMessage } from '../stream-do/playlist-push.ts';
import { liveRendition } from '../test-support/live-rendition.ts';
import { SUBSCRIPTION_SECONDS, StreamCopy } from './pushed-playlists.ts';

// Unit tests: the StreamDO's subscription is faked by a stream the test writes to; the real path is
// covered in routes/low-latency.test.ts.

const c = { executionCtx: { waitUntil: () => {} } } as unknown as Context;
const encoder = new TextEncoder();

/** A subscription the test drives: each `send` is one pushed message. */
function subscription() {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  return {
    readable,
    send: (m: PlaylistPushMessage) => void writer.write(encoder.encode(`${JSON.stringify(m)}\n`)),
    close: () => void writer.close(),
  };
}

/** 720p with segments 0–1 listed and `parts` parts of segment 2 made. */
function state(parts: number, overrides: Partial<MediaPlaylistData> = {}): Extract<PlaylistPushMessage, { type: 'state' }> {
  return { type: 'state', seq: parts, renditions: { '720p': liveRendition(2, parts, { listed: 2, overrides }) } };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('StreamCopy', () => {
  it('answers from the first pushed state and holds a blocking request until a state that holds it', async () => {
    const copy = new StreamCopy();
    const sub = subscription();
    let opened = 0;
    const open = async () => {
      opened++;
      return { stream: sub.readable, viaShard: false };
    };
    sub.send(state(1));
    expect((await copy.mediaPlaylist(c, 's', '720p', undefined, open))!.lowLatency!.trailingParts).toHaveLength(1);
    let answered: MediaPlaylistData | null | undefined;
    const held = copy.mediaPlaylist(c, 's', '720p', { msn: 2, part: 2 }, open).then((p) => (answered = p));
    sub.send(state(2));
    await tick();
    expect(answered).toBeUndefined();
    sub.send(state(3));
    await held;
    expect(answered!.lowLatency!.trailingParts).toHaveLength(3);
    expect(opened).toBe(1);
  });

  it('refuses what the StreamDO refuses: an unknown rendition, a request too far ahead, a part not made in time', async () => {
    const copy = new StreamCopy();
    const sub = subscription();
    sub.send(state(1, { targetDuration: 0.5 }));
    const open = async () => ({ stream: sub.readable, viaShard: false });
    await expect(copy.mediaPlaylist(c, 's', '1080p', undefined, open)).rejects.toEqual(new EdgeliveError('not_found', 'stream s has no rendition 1080p'));
    await expect(copy.mediaPlaylist(c, 's', '720p', { msn: 5 }, open)).rejects.toEqual(new EdgeliveError('bad_request', '_HLS_msn=5 is more than two segments past the last one (2)'));
    await expect(copy.mediaPlaylist(c, 's', '720p', { msn: 2, part: 1 }, open)).rejects.toEqual(new EdgeliveError('stream_not_ready', '_HLS_msn=2 _HLS_part=1 not made within 1500 ms'));
  });

  it('answers upstream (null) when a subscription brings no first state in time, then asks upstream at once for a while, then opens anew', async () => {
    let now = 1_000_000;
    const copy = new StreamCopy(() => now, 300);
    const subs = [subscription(), subscription()];
    let opened = 0;
    const open = async () => ({ stream: subs[opened++]!.readable, viaShard: false });
    let started = Date.now();
    expect(await copy.mediaPlaylist(c, 's', '720p', undefined, open)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // For a while the stream's requests go upstream without waiting, and nothing new is opened.
    started = Date.now();
    expect(await copy.mediaPlaylist(c, 's', '720p', { msn: 2, part: 1 }, open)).toBeNull();
    expect(Date.now() - started).toBeLessThan(250);
    expect(opened).toBe(1);
    // Then a new subscription, and the copy answers from it.
    now += 10_000;
    subs[1]!.send(state(1));
    expect((await copy.mediaPlaylist(c, 's', '720p', undefined, open))!.lowLatency!.trailingParts).toHaveLength(1);
    expect(opened).toBe(2);
  });

  it('sends a held request to the StreamDO (null) when its subscription ends under it', async () => {
    const copy = new StreamCopy();
    const sub = subscription();
    sub.send(state(1));
    const open = async () => ({ stream: sub.readable, viaShard: false });
    const held = copy.mediaPlaylist(c, 's', '720p', { msn: 2, part: 1 }, open);
    await tick();
    sub.close();
    expect(await held).toBeNull();
  });

  it('asks the StreamDO directly for a while after a `direct` or `gone` answer', async () => {
    let now = 1_000_000;
    const copy = new StreamCopy(() => now);
    let opened = 0;
    const open = async () => {
      opened++;
      const sub = subscription();
      sub.send({ type: 'direct', reason: 'dvr' });
      sub.close();
      return { stream: sub.readable, viaShard: false };
    };
    expect(await copy.mediaPlaylist(c, 's', '720p', undefined, open)).toBeNull();
    now += 9_000;
    expect(await copy.mediaPlaylist(c, 's', '720p', undefined, open)).toBeNull();
    expect(opened).toBe(1);
    now += 2_000;
    expect(await copy.mediaPlaylist(c, 's', '720p', undefined, open)).toBeNull();
    expect(opened).toBe(2);
  });

  it('renews before the subscription ends, and the newer subscription wins', async () => {
    let now = 1_000_000;
    const copy = new StreamCopy(() => now);
    const subs = [subscription(), subscription()];
    let opened = 0;
    const open = async () => ({ stream: subs[opened++]!.readable, viaShard: false });
    subs[0]!.send(state(1));
    await copy.mediaPlaylist(c, 's', '720p', undefined, open);
    now += (SUBSCRIPTION_SECONDS - 6) * 1000;
    await copy.mediaPlaylist(c, 's', '720p', undefined, open);
    expect(opened).toBe(1);
    now += 2000; // within five seconds of its end
    subs[1]!.send(state(2));
    expect((await copy.mediaPlaylist(c, 's', '720p', undefined, open))!.lowLatency!.trailingParts).toHaveLength(1); // the old one still answers
    expect(opened).toBe(2);
    await tick();
    expect((await copy.mediaPlaylist(c, 's', '720p', undefined, open))!.lowLatency!.trailingParts).toHaveLength(2);
    subs[0]!.send(state(5)); // the older subscription's late message is ignored
    subs[0]!.close(); // and its end does not stop the copy
    await tick();
    expect((await copy.mediaPlaylist(c, 's', '720p', undefined, open))!.lowLatency!.trailingParts).toHaveLength(2);
    expect(opened).toBe(2);
  });

  it('leaves the way to the opener until a state came, then follows the state\'s word; a subscription the opener sent through the shard is not opened again', async () => {
    const copy = new StreamCopy();
    const asked: (boolean | undefined)[] = [];
    const subs = [subscription(), subscription()];
    const open = async (_seconds: number, viaShard: boolean | undefined) => {
      asked.push(viaShard);
      // The opener's own judgement (a flush answer said the tier is engaged) when the copy has none.
      return { stream: subs[asked.length - 1]!.readable, viaShard: viaShard ?? true };
    };
    subs[0]!.send({ ...state(1), fanout: true });
    await copy.mediaPlaylist(c, 's', '720p', undefined, open);
    await copy.mediaPlaylist(c, 's', '720p', undefined, open);
    expect(asked).toEqual([undefined]);
    // The state says the tier disengaged: the next request moves the copy to the StreamDO, as the state says.
    subs[0]!.send({ ...state(2), fanout: false });
    await tick();
    subs[1]!.send(state(3));
    await copy.mediaPlaylist(c, 's', '720p', undefined, open);
    expect(asked).toEqual([undefined, false]);
  });
});
