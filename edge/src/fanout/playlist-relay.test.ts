import { describe, expect, it } from 'vitest';
import { deltaHeader, deltaLine, PlaylistPush, type PlaylistPushMessage, type PushDelta } from '../stream-do/playlist-push.ts';
import { diff } from '../stream-do/push-patch.ts';
import { liveRendition } from '../test-support/live-rendition.ts';
import { pushLines } from '../test-support/push-lines.ts';
import { PlaylistRelay } from './playlist-relay.ts';

const RENDITIONS = ['1080p', '720p', '480p', '360p'];

/** A StreamDO's push over a live stream whose parts come when the test says. */
function liveStream() {
  let msn = 20;
  let parts = 1;
  const state = (): PlaylistPushMessage => ({ type: 'state', seq: 0, renditions: Object.fromEntries(RENDITIONS.map((r) => [r, liveRendition(msn, parts, { listed: 8, withParts: 3, reports: RENDITIONS.filter((x) => x !== r) })])) });
  const push = new PlaylistPush(state);
  return {
    push,
    state,
    nextPart() {
      if (parts === 6) {
        msn++;
        parts = 0;
      } else parts++;
      push.changed();
    },
  };
}

/** A state's content: what a playlist shows, without its number and hearing time. */
const content = (m: PlaylistPushMessage) => JSON.parse(JSON.stringify({ ...m, seq: undefined, heardAt: undefined })) as unknown;

describe('PlaylistRelay', () => {
  it('a change line starts with its header, which deltaHeader reads without the patch', () => {
    const line = deltaLine(7, 6, { o: { fanout: { '=': true } } }, 123);
    expect(deltaHeader(line)).toEqual({ seq: 7, base: 6 });
    expect(JSON.parse(line)).toEqual({ type: 'delta', seq: 7, base: 6, patch: { o: { fanout: { '=': true } } }, heardAt: 123 });
    expect(deltaHeader('{"type":"state","seq":7,"renditions":{}}')).toBeNull();
  });

  it('passes each change on as it came, stamped with when the edge shard heard it, and applies none until a subscriber needs the whole state', async () => {
    const upstream = liveStream();
    const raw = pushLines(upstream.push.subscribe(6, 30)); // what the StreamDO sends, to compare with
    const relay = new PlaylistRelay((ws, s) => Promise.resolve(upstream.push.subscribe(ws, s)), { stamp: true });
    const down = pushLines(await relay.subscribe(6, 30));
    const first = await down();
    expect(first).not.toBe('none');
    await raw();
    for (let k = 0; k < 10; k++) {
      const before = Date.now();
      upstream.nextPart();
      const sent = await raw();
      const got = await down();
      if (sent === 'none' || sent === 'done' || got === 'none' || got === 'done') throw new Error('no change came');
      // The same change, numbered as upstream numbered it, with only the shard's hearing time added.
      const { heardAt, ...rest } = JSON.parse(got.line) as PushDelta;
      expect(rest).toEqual(JSON.parse(sent.line));
      expect(heardAt).toBeGreaterThanOrEqual(before);
      expect(content(got.state)).toEqual(content(upstream.state()));
      expect(got.state).toMatchObject({ type: 'state', heardAt });
    }
    expect(relay.relayed).toBe(11);
    expect(relay.applied).toBe(0);

    // A new subscriber starts from the whole state: the ten changes are applied now, once.
    const late = pushLines(await relay.subscribe(6, 30));
    const whole = await late();
    if (whole === 'none' || whole === 'done') throw new Error('no state came');
    expect(whole.state.type).toBe('state');
    expect(content(whole.state)).toEqual(content(upstream.state()));
    expect(relay.applied).toBe(10);
    // Both then get the next change passed on.
    upstream.nextPart();
    for (const next of [down, late]) {
      const got = await next();
      if (got === 'none' || got === 'done') throw new Error('no change came');
      expect(content(got.state)).toEqual(content(upstream.state()));
    }
    expect(relay.applied).toBe(10);
  });

  it('a new upstream (its first message a whole state) is sent on as the change from what subscribers have, and its changes are passed on after it', async () => {
    const upstream = liveStream();
    // Upstream subscriptions that end after 1 s: the relay opens the next one a second later.
    const relay = new PlaylistRelay((ws) => Promise.resolve(upstream.push.subscribe(ws, 1)));
    const down = pushLines(await relay.subscribe(6, 30));
    await down();
    upstream.nextPart();
    await down();
    await new Promise((r) => setTimeout(r, 2_200));
    // The new upstream's whole state is the same content: nothing is sent for it.
    expect(await down(100)).toBe('none');
    const appliedAtSwitch = relay.applied;
    for (let k = 0; k < 3; k++) {
      upstream.nextPart();
      const got = await down();
      if (got === 'none' || got === 'done') throw new Error('no change came');
      expect(content(got.state)).toEqual(content(upstream.state()));
    }
    // The first change after the switch is made from the new upstream's number, not the one subscribers hold: it goes the diff way (applied), the next ones pass.
    expect(relay.applied - appliedAtSwitch).toBe(1);
  });
});

describe('PlaylistRelay, an upstream that restarted', () => {
  it('a new upstream numbering its first state as the old one numbered another: its first change, in the same read, is applied to what subscribers hold', async () => {
    const line = (m: unknown) => `${JSON.stringify(m)}\n`;
    const state = (seq: number, parts: number): PlaylistPushMessage => ({ type: 'state', seq, renditions: { '720p': liveRendition(30, parts, { listed: 4 }) } });
    const change = (seq: number, from: PlaylistPushMessage, to: PlaylistPushMessage) => `${deltaLine(seq, seq - 1, diff({ ...from, seq: undefined }, { ...to, seq: undefined })!)}\n`;
    // The first upstream: state 5 (2 parts), then 6 (3 parts); it ends. The next one (the StreamDO
    // restarted, numbering from scratch) says its first state, 4 parts, is 6 too, and brings change
    // 7 (5 parts) in the same chunk.
    const upstreams = [
      line(state(5, 2)) + change(6, state(5, 2), state(6, 3)),
      line(state(6, 4)) + change(7, state(6, 4), state(7, 5)),
    ];
    const relay = new PlaylistRelay(() => {
      const text = upstreams.shift();
      if (!text) return new Promise(() => {});
      return Promise.resolve(new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) }));
    });
    const down = pushLines(await relay.subscribe(6, 30));
    const seen: PlaylistPushMessage[] = [];
    for (;;) {
      const got = await down(2_500);
      if (got === 'none' || got === 'done') break;
      seen.push(got.state);
    }
    expect(content(seen.at(-1)!)).toEqual(content(state(7, 5)));
  });
});
