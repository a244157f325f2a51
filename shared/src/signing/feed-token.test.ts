import { describe, expect, it } from 'vitest';
import { signFeedToken, verifyFeedToken } from './feed-token.ts';

describe('feed tokens', () => {
  it('signs the stream id and expiry deterministically', async () => {
    const token = await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000);
    expect(token).toMatch(/^1700000000\.[0-9a-f]{64}$/);
    expect(await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000)).toBe(token);
  });

  it('accepts a token before its expiry and refuses it from then on', async () => {
    const token = await signFeedToken('secret', 'abcdefghijklmnop', 1000);
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', token, 999)).toBe('ok');
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', token, 1000)).toBe('expired');
  });

  it('refuses another stream, another secret, an edited expiry and garbage', async () => {
    const token = await signFeedToken('secret', 'abcdefghijklmnop', 1000);
    expect(await verifyFeedToken('secret', 'zzzzzzzzzzzzzzzz', token, 0)).toBe('mismatch');
    expect(await verifyFeedToken('other', 'abcdefghijklmnop', token, 0)).toBe('mismatch');
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', token.replace(/^1000/, '9999'), 0)).toBe('mismatch');
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', 'nope', 0)).toBe('malformed');
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', '', 0)).toBe('malformed');
  });
});
