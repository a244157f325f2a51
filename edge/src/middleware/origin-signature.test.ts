import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { signed } from '../test-support/edge-client.ts';
import { staleSignatureMessage } from './origin-signature.ts';

describe('staleSignatureMessage (pure)', () => {
  it('says how far the caller clock is off, which way, and the allowed skew', () => {
    expect(staleSignatureMessage('1000', 1075, 60)).toBe("signature stale: request clock is 75 s behind the edge's, allowed ±60 s — check NTP on the origin");
    expect(staleSignatureMessage('1090', 1000, 5)).toBe("signature stale: request clock is 90 s ahead of the edge's, allowed ±5 s — check NTP on the origin");
    expect(staleSignatureMessage('yesterday', 1000, 60)).toBe('signature stale: timestamp "yesterday" is not whole seconds since the epoch');
  });
});

describe('originSignature skew (SIGNATURE_MAX_SKEW_SECONDS, 60 s by default)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('accepts a clock 59 s off, refuses 75 s off with 401 and logs it once per call', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const now = Math.floor(Date.now() / 1000);
    const body = { streamKey: 'nope', nodeId: 'n', source: {} };
    // Within the skew the signature is fine; the body then fails validation (400), not auth.
    expect((await signed(INTERNAL_API.publish, body, { timestamp: now - 59 })).status).toBe(400);
    const res = await signed(INTERNAL_API.publish, body, { timestamp: now - 75 });
    expect(res.status).toBe(401);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toMatch(/^signature stale: request clock is 7[56] s behind the edge's, allowed ±60 s — check NTP on the origin$/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(`POST ${INTERNAL_API.publish}: ${message}`);
  });
});
