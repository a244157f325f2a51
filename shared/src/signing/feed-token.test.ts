import { describe, expect, it } from 'vitest';
import { signFeedToken, verifyFeedToken } from './feed-token.ts';

describe('feed tokens', () => {
  it('signs the stream id, expiry and a random nonce: two tokens of the same second differ', async () => {
    const token = await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000);
    expect(token).toMatch(/^1700000000\.[0-9a-f]{16}\.[0-9a-f]{64}$/);
    const other = await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000);
    expect(other).not.toBe(token);
    expect(other.slice(-16)).not.toBe(token.slice(-16)); // the edge caps sockets by this tail
    expect(await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000, '0123456789abcdef')).toBe(await signFeedToken('secret', 'abcdefghijklmnop', 1_700_000_000, '0123456789abcdef'));
    for (const t of [token, other]) expect(await verifyFeedToken('secret', 'abcdefghijklmnop', t, 0)).toBe('ok');
  });

  it('still verifies a token minted without a nonce, and refuses an edited nonce', async () => {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', new TextEncoder().encode('secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), new TextEncoder().encode('feed\nabcdefghijklmnop\n1000')));
    const legacy = `1000.${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', legacy, 999)).toBe('ok');
    const token = await signFeedToken('secret', 'abcdefghijklmnop', 1000, '0123456789abcdef');
    expect(await verifyFeedToken('secret', 'abcdefghijklmnop', token.replace('0123456789abcdef', 'fedcba9876543210'), 0)).toBe('mismatch');
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
