import { describe, expect, it } from 'vitest';
import { cacheControlFor, contentTypeFor } from './media-headers.ts';

describe('media headers', () => {
  it.each([
    ['live/s1/720p/init.mp4', 'video/mp4', 'public, max-age=31536000, immutable'],
    ['live/s1/720p/seg-42.m4s', 'video/iso.segment', 'public, max-age=31536000, immutable'],
    ['live/s1/720p/seg-42.part3.m4s', 'video/iso.segment', 'public, max-age=31536000, immutable'],
    ['live/s1/audio/seg-1.m4a', 'audio/mp4', 'public, max-age=31536000, immutable'],
    ['live/s1/720p/index.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
    ['live/s1/manifest.mpd', 'application/dash+xml', 'no-cache'],
    ['SEG-1.M4S', 'video/iso.segment', 'public, max-age=31536000, immutable'],
    ['live/s1/notes', 'application/octet-stream', 'no-cache'],
    ['live/s1.d/.hidden', 'application/octet-stream', 'no-cache'],
  ])('%s → %s, %s', (fileName, contentType, cacheControl) => {
    expect(contentTypeFor(fileName)).toBe(contentType);
    expect(cacheControlFor(fileName)).toBe(cacheControl);
  });
});
