import { describe, expect, it } from 'vitest';
import { addSessionId, sessionIdOf, withoutSessionId } from './session-id.ts';
import { isSignedSession, mintSignedSession } from './signed-session.ts';

describe('session ids', () => {
  it('mints 44-character URL-safe signed ids that differ, verified only with the same secret', async () => {
    const a = await mintSignedSession('secret-one');
    expect(a).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(await mintSignedSession('secret-one')).not.toBe(a);
    expect(await isSignedSession('secret-one', a)).toBe(true);
    expect(await isSignedSession('secret-two', a)).toBe(false);
    expect(await isSignedSession(null, a)).toBe(false);
    // Without a secret the edge mints unsigned ids, which are never counted.
    expect(await mintSignedSession(null)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('reads a valid sid and ignores malformed ones', () => {
    expect(sessionIdOf(new URL('https://e/live/x/master.m3u8?sid=abcdEFGH_-12'))).toBe('abcdEFGH_-12');
    expect(sessionIdOf(new URL('https://e/live/x/master.m3u8?sid=short'))).toBeNull();
    expect(sessionIdOf(new URL('https://e/live/x/master.m3u8?sid=has%20space1'))).toBeNull();
    expect(sessionIdOf(new URL('https://e/live/x/master.m3u8'))).toBeNull();
  });

  it('drops only the sid from cache keys', () => {
    expect(withoutSessionId(new URL('https://e/live/x/720p/index.m3u8?sid=abcdefgh&_HLS_msn=4'))).toBe('https://e/live/x/720p/index.m3u8?_HLS_msn=4');
  });

  it('adds the sid to every URI line of a playlist', () => {
    const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n360p/index.m3u8?x=1\n';
    expect(addSessionId(master, 'abcdefgh')).toBe('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8?sid=abcdefgh\n#EXT-X-STREAM-INF:BANDWIDTH=2\n360p/index.m3u8?x=1&sid=abcdefgh\n');
  });
});
