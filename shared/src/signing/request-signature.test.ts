import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_CLOCK_SKEW_SECONDS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  canonicalRequest,
  signRequest,
  verifyRequest,
} from './request-signature.ts';

const SECRET = 'origin-shared-secret-0123456789';
const PATH = '/internal/v1/streams/abcdefgh12345678/segments';
const T = 1_700_000_000;
const BODY = new TextEncoder().encode('{"epoch":3,"segments":[]}');
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

async function signed(overrides: { method?: string; path?: string; body?: Uint8Array; timestamp?: number } = {}) {
  const method = overrides.method ?? 'POST';
  const path = overrides.path ?? PATH;
  const body = overrides.body ?? BODY;
  const timestamp = overrides.timestamp ?? T;
  return { method, path, body, timestamp: String(timestamp), signature: await signRequest(SECRET, method, path, timestamp, body) };
}

describe('request signature headers', () => {
  it('uses the documented header names and skew', () => {
    expect(TIMESTAMP_HEADER).toBe('x-edgelive-timestamp');
    expect(SIGNATURE_HEADER).toBe('x-edgelive-signature');
    expect(MAX_CLOCK_SKEW_SECONDS).toBe(60);
  });
});

describe('canonicalRequest', () => {
  it('puts the upper-cased method, path, timestamp and body hash on one line each', async () => {
    expect(await canonicalRequest('post', '/internal/v1/publish', T, new Uint8Array())).toBe(
      `POST\n/internal/v1/publish\n1700000000\n${EMPTY_SHA256}`,
    );
  });
});

describe('signRequest', () => {
  it('matches an HMAC-SHA256 computed independently with node:crypto', async () => {
    const bodyHash = createHash('sha256').update(BODY).digest('hex');
    const expected = createHmac('sha256', SECRET).update(`POST\n${PATH}\n${T}\n${bodyHash}`).digest('hex');

    const signature = await signRequest(SECRET, 'POST', PATH, T, BODY);

    expect(signature).toBe(expected);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches node:crypto for an empty body', async () => {
    const expected = createHmac('sha256', 'k').update(`GET\n/x\n0\n${EMPTY_SHA256}`).digest('hex');
    expect(await signRequest('k', 'GET', '/x', 0, new Uint8Array())).toBe(expected);
  });

  it('differs for a different secret', async () => {
    expect(await signRequest('another-secret-0123456789', 'POST', PATH, T, BODY)).not.toBe(await signRequest(SECRET, 'POST', PATH, T, BODY));
  });
});

describe('verifyRequest', () => {
  it('accepts what signRequest produced', async () => {
    expect(await verifyRequest(SECRET, await signed(), T)).toBe('ok');
  });

  it('treats the method case-insensitively, as the canonical form upper-cases it', async () => {
    expect(await verifyRequest(SECRET, { ...(await signed()), method: 'post' }, T)).toBe('ok');
  });

  it('refuses a changed method', async () => {
    expect(await verifyRequest(SECRET, { ...(await signed()), method: 'PUT' }, T)).toBe('mismatch');
  });

  it('refuses a changed path', async () => {
    expect(await verifyRequest(SECRET, { ...(await signed()), path: '/internal/v1/streams/abcdefgh12345678/end' }, T)).toBe('mismatch');
  });

  it('refuses a changed body', async () => {
    const req = await signed();
    const body = req.body.slice();
    body[0] = body[0]! ^ 1;
    expect(await verifyRequest(SECRET, { ...req, body }, T)).toBe('mismatch');
  });

  it('refuses a changed timestamp that is still within the skew', async () => {
    expect(await verifyRequest(SECRET, { ...(await signed()), timestamp: String(T + 1) }, T)).toBe('mismatch');
  });

  it('refuses a different secret', async () => {
    expect(await verifyRequest('not-the-origin-secret-000', await signed(), T)).toBe('mismatch');
  });

  it('accepts a timestamp exactly MAX_CLOCK_SKEW_SECONDS away in either direction', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, req, T + MAX_CLOCK_SKEW_SECONDS)).toBe('ok');
    expect(await verifyRequest(SECRET, req, T - MAX_CLOCK_SKEW_SECONDS)).toBe('ok');
  });

  it('calls a timestamp one second beyond the skew stale, in either direction', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, req, T + MAX_CLOCK_SKEW_SECONDS + 1)).toBe('stale');
    expect(await verifyRequest(SECRET, req, T - MAX_CLOCK_SKEW_SECONDS - 1)).toBe('stale');
  });

  it('takes the allowed skew as a parameter', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, req, T + 5, 5)).toBe('ok');
    expect(await verifyRequest(SECRET, req, T - 6, 5)).toBe('stale');
    expect(await verifyRequest(SECRET, req, T + 600, 600)).toBe('ok');
  });

  it('calls a non-integer or non-numeric timestamp stale', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, { ...req, timestamp: '1700000000.5' }, T)).toBe('stale');
    expect(await verifyRequest(SECRET, { ...req, timestamp: 'yesterday' }, T)).toBe('stale');
  });

  it('reports missing headers', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, { ...req, timestamp: null }, T)).toBe('missing');
    expect(await verifyRequest(SECRET, { ...req, signature: null }, T)).toBe('missing');
    expect(await verifyRequest(SECRET, { ...req, timestamp: null, signature: null }, T)).toBe('missing');
    expect(await verifyRequest(SECRET, { ...req, timestamp: '' }, T)).toBe('missing');
    expect(await verifyRequest(SECRET, { ...req, signature: '' }, T)).toBe('missing');
  });

  it('calls a malformed signature a mismatch', async () => {
    const req = await signed();
    expect(await verifyRequest(SECRET, { ...req, signature: req.signature.slice(0, 63) }, T)).toBe('mismatch');
    expect(await verifyRequest(SECRET, { ...req, signature: `${req.signature}0` }, T)).toBe('mismatch');
    expect(await verifyRequest(SECRET, { ...req, signature: req.signature.toUpperCase() }, T)).toBe('mismatch');
    expect(await verifyRequest(SECRET, { ...req, signature: 'z'.repeat(64) }, T)).toBe('mismatch');
    expect(await verifyRequest(SECRET, { ...req, signature: '0'.repeat(64) }, T)).toBe('mismatch');
  });

  it('checks staleness before the signature format', async () => {
    expect(await verifyRequest(SECRET, { ...(await signed()), signature: 'nope' }, T + 3600)).toBe('stale');
  });
});
