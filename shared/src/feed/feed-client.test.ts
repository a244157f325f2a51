import { describe, expect, it } from 'vitest';
import { FeedClient, type FeedSocket } from './feed-client.ts';

/** A socket the test drives by hand; every constructed one is kept with its URL. */
class HandSocket implements FeedSocket {
  static made: HandSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed: { code?: number; reason?: string } | null = null;
  constructor(readonly url: string) {
    HandSocket.made.push(this);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
}

const snapshot = {
  type: 'snapshot', streamId: 's', ts: 1, seq: 1, status: 'live', epoch: 1,
  viewers: { current: 2, peak: 3, total: 4, renditions: { '720p': 2 } },
  ingest: { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 0, lastHeartbeatAt: 1 },
  qoe: { beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 },
  lastError: null,
};
const event = (seq: number) => ({ type: 'event', streamId: 's', ts: 2, seq: seq + 10, event: { seq, ts: 2, type: 'key_rotated', data: {} } });

describe('FeedClient', () => {
  it('parses snapshots and events into typed callbacks and reports invalid messages', () => {
    HandSocket.made = [];
    const client = new FeedClient({ url: 'wss://edge.test/v1/streams/s/events?token=t', WebSocket: HandSocket });
    const got: string[] = [];
    client.on('snapshot', (m) => got.push(`snapshot ${m.viewers.current}`));
    client.on('event', (m) => got.push(`event ${m.event.type} ${m.event.seq}`));
    client.on('invalid', (_raw, reason) => got.push(`invalid ${reason}`));
    client.start();
    const socket = HandSocket.made[0]!;
    socket.onmessage!({ data: JSON.stringify(snapshot) });
    socket.onmessage!({ data: JSON.stringify(event(7)) });
    socket.onmessage!({ data: '{"type":"snapshot"}' });
    socket.onmessage!({ data: 'nope' });
    expect(got).toEqual(['snapshot 2', 'event key_rotated 7', expect.stringMatching(/^invalid streamId: /), 'invalid not JSON']);
    expect(client.lastEventSeq).toBe(7);
  });

  it('reconnects after a drop asking for the events it missed, and stops for good on close()', async () => {
    HandSocket.made = [];
    const client = new FeedClient({ url: 'wss://edge.test/v1/streams/s/events?token=t', WebSocket: HandSocket, reconnectDelayMs: 5 });
    client.start();
    HandSocket.made[0]!.onmessage!({ data: JSON.stringify(event(4)) });
    HandSocket.made[0]!.onclose!({ code: 1006, reason: '' });
    await new Promise((r) => setTimeout(r, 30));
    expect(HandSocket.made.map((s) => s.url)).toEqual([
      'wss://edge.test/v1/streams/s/events?token=t',
      'wss://edge.test/v1/streams/s/events?token=t&since=4',
    ]);
    client.close();
    expect(HandSocket.made[1]!.closed).toEqual({ code: 1000, reason: 'client closed' });
    HandSocket.made[1]!.onclose!({ code: 1000, reason: 'client closed' });
    await new Promise((r) => setTimeout(r, 30));
    expect(HandSocket.made).toHaveLength(2);
  });
});
