import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { keyId, PLAYBACK_TOKEN_AUDIENCE, refusalMessage, signPlaybackToken, verifyPlaybackToken } from './playback-token.ts';

const OLD = 'old-playback-key-0123456789abcdefghij';
const NEW = 'new-playback-key-0123456789abcdefghij';
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const STREAM = 'stream0000000001';

/** A token made by jose directly, so a test can set any header or claim the API never would. */
async function handMade(secret: string, claims: Record<string, unknown>, header: { kid?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', ...(header.kid === undefined ? { kid: await keyId(secret) } : { kid: header.kid }) })
    .sign(new TextEncoder().encode(secret));
}

describe('playback tokens', () => {
  it('names its key by kid and carries sub, aud, iat, exp and the viewer id', async () => {
    const token = await signPlaybackToken({ current: NEW, previous: null }, { streamId: STREAM, viewerId: 'viewer-7', issuedAt: NOW, expiresAt: NOW + 600 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: await keyId(NEW) });
    expect(decodeJwt(token)).toEqual({ vid: 'viewer-7', sub: STREAM, aud: PLAYBACK_TOKEN_AUDIENCE, iat: NOW, exp: NOW + 600 });
    expect(await keyId(NEW)).toMatch(/^[0-9a-f]{16}$/);
    expect(await keyId(NEW)).not.toBe(await keyId(OLD));
    expect(await verifyPlaybackToken({ current: NEW, previous: null }, token, STREAM, NOW + 599)).toEqual({ ok: true, claims: { streamId: STREAM, viewerId: 'viewer-7', expiresAt: NOW + 600 } });
  });

  it('refuses a token after its expiry (past the 5 s leeway), for another stream, or malformed', async () => {
    const keys = { current: NEW, previous: null };
    const token = await signPlaybackToken(keys, { streamId: STREAM, issuedAt: NOW, expiresAt: NOW + 60 });
    expect(await verifyPlaybackToken(keys, token, STREAM, NOW + 64)).toMatchObject({ ok: true, claims: { viewerId: null } });
    expect(await verifyPlaybackToken(keys, token, STREAM, NOW + 66)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyPlaybackToken(keys, token, 'stream0000000002', NOW)).toEqual({ ok: false, reason: 'wrong_stream' });
    expect(await verifyPlaybackToken(keys, 'not-a-token', STREAM, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifyPlaybackToken(keys, `${token}x`.repeat(40), STREAM, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('verifies tokens of the previous key during a rotation, and refuses them once it is dropped', async () => {
    const before = await signPlaybackToken({ current: OLD, previous: null }, { streamId: STREAM, issuedAt: NOW, expiresAt: NOW + 600 });
    const rotating = { current: NEW, previous: OLD };
    expect(await verifyPlaybackToken(rotating, before, STREAM, NOW)).toMatchObject({ ok: true });
    const after = await signPlaybackToken(rotating, { streamId: STREAM, issuedAt: NOW, expiresAt: NOW + 600 });
    expect(decodeProtectedHeader(after).kid).toBe(await keyId(NEW));
    expect(await verifyPlaybackToken(rotating, after, STREAM, NOW)).toMatchObject({ ok: true });
    expect(await verifyPlaybackToken({ current: NEW, previous: null }, before, STREAM, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('refuses a forged signature under a known kid, a missing kid, a wrong audience and a missing exp', async () => {
    const keys = { current: NEW, previous: null };
    const claims = { sub: STREAM, aud: PLAYBACK_TOKEN_AUDIENCE, iat: NOW, exp: NOW + 600 };
    expect(await verifyPlaybackToken(keys, await handMade('attacker-key-0123456789abcdefghijkl', claims, { kid: await keyId(NEW) }), STREAM, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(NEW));
    expect(await verifyPlaybackToken(keys, noKid, STREAM, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(await verifyPlaybackToken(keys, await handMade(NEW, { ...claims, aud: 'someone-else' }), STREAM, NOW)).toEqual({ ok: false, reason: 'invalid_claims' });
    expect(await verifyPlaybackToken(keys, await handMade(NEW, { sub: STREAM, aud: PLAYBACK_TOKEN_AUDIENCE, iat: NOW }), STREAM, NOW)).toEqual({ ok: false, reason: 'invalid_claims' });
    expect(refusalMessage('expired')).toBe('playback token has expired');
  });
});
