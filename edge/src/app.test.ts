import { env } from 'cloudflare:workers';
import { SELF } from 'cloudflare:test';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { EdgeliveError } from '../../shared/src/errors.ts';
import { app } from './app.ts';
import { handleError, handleNotFound } from './http/error-handler.ts';

describe('app', () => {
  it('answers unknown routes with 404 not_found JSON', async () => {
    const res = await SELF.fetch('https://edge.test/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nope' } });
  });

  it('answers a bad setting with 500 naming the key', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await app.request('/v1/streams', {}, { ...env, PLAYLIST_WINDOW_SEGMENTS: 'x' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'invalid setting PLAYLIST_WINDOW_SEGMENTS: Invalid input: expected number, received NaN' } });
  });

  it('refuses every management call while ADMIN_TOKEN is unset', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await app.request('/v1/streams', { headers: { authorization: 'Bearer anything' } }, { ...env, ADMIN_TOKEN: '' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'the management API is not configured on this edge' } });
  });
});

describe('handleError', () => {
  const probe = new Hono();
  probe.get('/coded', () => {
    throw new EdgeliveError('stream_gone', 'gone for good');
  });
  probe.get('/zod', () => {
    z.object({ a: z.object({ b: z.string() }) }).parse({ a: { b: 1 } });
    return new Response();
  });
  probe.get('/boom', () => {
    throw new Error('secret detail');
  });
  probe.onError(handleError as never);
  probe.notFound(handleNotFound as never);

  it('maps coded errors to their status', async () => {
    const res = await probe.request('/coded');
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ error: { code: 'stream_gone', message: 'gone for good' } });
  });

  it('maps zod errors to 400 naming the field', async () => {
    const res = await probe.request('/zod');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'a.b: Invalid input: expected string, received number' } });
  });

  it('hides unknown errors behind 500 internal and logs them', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await probe.request('/boom');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(log).toHaveBeenCalledWith('unhandled error on GET /boom:', expect.any(Error));
  });
});
