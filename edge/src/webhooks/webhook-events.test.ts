import { describe, expect, it } from 'vitest';
import { subscribesTo, webhookEventOf } from './webhook-events.ts';

describe('stream log events as webhooks', () => {
  it.each([
    ['created', { name: 'show', reconnectWindowSeconds: 60 }, 'stream.created', { streamId: 's1', name: 'show', reconnectWindowSeconds: 60 }],
    ['live', { epoch: 2 }, 'stream.live', { streamId: 's1', epoch: 2 }],
    ['resumed', { epoch: 2, afterMs: 800 }, 'stream.live', { streamId: 's1', epoch: 2, afterMs: 800, resumed: true }],
    ['reconnecting', { epoch: 2, reason: 'publisher_stopped', windowSeconds: 60 }, 'stream.reconnecting', { streamId: 's1', epoch: 2, reason: 'publisher_stopped', windowSeconds: 60 }],
    ['ended', { epoch: 2, reason: 'ended_by_api' }, 'stream.ended', { streamId: 's1', epoch: 2, reason: 'ended_by_api' }],
    ['error', { epoch: 2, reason: 'origin_silent', message: 'no heartbeat' }, 'stream.error', { streamId: 's1', epoch: 2, reason: 'origin_silent', message: 'no heartbeat' }],
    ['recording_ready', { recordingId: 'r1', durationSeconds: 12, bytes: 9, expiresAt: 5 }, 'recording.ready', { streamId: 's1', recordingId: 'r1', durationSeconds: 12, bytes: 9, expiresAt: 5 }],
  ])('%s → %s', (logType, data, type, payloadData) => {
    const ts = Date.UTC(2026, 10, 30, 2, 0, 0, 250);
    const event = webhookEventOf('s1', { seq: 7, ts, type: logType, data });
    expect(event).toEqual({ messageId: 'msg_s1_7', type, ts, body: JSON.stringify({ type, timestamp: '2026-11-30T02:00:00.250Z', data: payloadData }) });
  });

  it('delivers nothing for the rest of the log', () => {
    for (const type of ['publish_accepted', 'publish_refused', 'reconnected', 'segments_gap', 'viewer_milestone', 'quality_switch', 'key_rotated', 'deleted', 'expired', 'cdn_health', 'media_purged']) {
      expect(webhookEventOf('s1', { seq: 1, ts: 0, type, data: {} })).toBeNull();
    }
  });

  it('matches subscriptions by type, or all with "*"', () => {
    expect(subscribesTo(['stream.live', 'stream.ended'], 'stream.ended')).toBe(true);
    expect(subscribesTo(['stream.live'], 'stream.ended')).toBe(false);
    expect(subscribesTo(['*'], 'recording.ready')).toBe(true);
  });
});
