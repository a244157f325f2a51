import { describe, expect, it } from 'vitest';
import type { SourceInfo } from '../../../shared/src/types.ts';
import { publishRefusal, type PublishState } from './publish-policy.ts';

const source: SourceInfo = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 3000 };
const idle: PublishState = { id: 's1', status: 'idle', keyMatches: true, publisherFresh: false, nodeId: null, epoch: 0 };

describe('publishRefusal', () => {
  it.each<PublishState>([
    idle,
    { ...idle, status: 'error' },
    // A reconnect: the publisher left, even one whose last word is recent (it said goodbye).
    { ...idle, status: 'reconnecting', publisherFresh: true, nodeId: null },
    { ...idle, status: 'live', publisherFresh: false, nodeId: 'n1' },
  ])(
    'lets a valid key publish to a %o stream',
    (state) => {
      expect(publishRefusal(state, source)).toBeNull();
    },
  );

  it('checks the key before anything else', () => {
    expect(publishRefusal({ ...idle, keyMatches: false, status: 'ended' }, { ...source, videoCodec: 'vp9' })).toEqual({
      code: 'stream_key_invalid',
      reason: 'key_mismatch',
      message: 'stream key is not valid',
    });
  });

  it('refuses an ended stream', () => {
    expect(publishRefusal({ ...idle, status: 'ended' }, source)?.code).toBe('stream_ended');
  });

  it.each([
    [{ videoCodec: 'hevc' }, 'received video "hevc" with audio "aac"; accepted: video "h264" with audio "aac"'],
    [{ audioCodec: 'none' }, 'received video "h264" with audio "none"; accepted: video "h264" with audio "aac"'],
    [{ videoCodec: 'unknown:12', audioCodec: 'mp3' }, 'received video "unknown:12" with audio "mp3"; accepted: video "h264" with audio "aac"'],
  ])('refuses codecs %o naming what was received and what is accepted', (codecs, message) => {
    expect(publishRefusal(idle, { ...source, ...codecs })).toEqual({ code: 'unsupported_codec', reason: 'unsupported_codec', message });
  });

  it('refuses a second publisher while the first is fresh', () => {
    expect(publishRefusal({ ...idle, status: 'live', publisherFresh: true, nodeId: 'n1' }, source)).toEqual({
      code: 'conflict',
      reason: 'already_publishing',
      message: 'stream s1 is already publishing from node n1',
    });
  });

  it('lets a takeover replace exactly the current epoch of a live stream whose publisher looks fresh', () => {
    const live: PublishState = { ...idle, status: 'live', publisherFresh: true, nodeId: 'n1', epoch: 4 };
    expect(publishRefusal(live, source, { previousEpoch: 4 })).toBeNull();
    expect(publishRefusal(live, source, { previousEpoch: 3 })).toEqual({ code: 'conflict', reason: 'already_publishing', message: 'stream s1 is already publishing from node n1' });
  });

  it('does not let a takeover skip the key, ended or codec checks', () => {
    const live: PublishState = { ...idle, status: 'live', publisherFresh: true, nodeId: 'n1', epoch: 4 };
    expect(publishRefusal({ ...live, keyMatches: false }, source, { previousEpoch: 4 })?.code).toBe('stream_key_invalid');
    expect(publishRefusal({ ...live, status: 'ended' }, source, { previousEpoch: 4 })?.code).toBe('stream_ended');
    expect(publishRefusal(live, { ...source, videoCodec: 'hevc' }, { previousEpoch: 4 })?.code).toBe('unsupported_codec');
  });
});
