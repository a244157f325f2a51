import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { CachingProxy } from '../support/caching-proxy.ts';

/** The CDN stand-in of the multi-CDN e2e test, against a real upstream HTTP server. */
let upstream: Server;
let upstreamUrl: string;
let served = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    served++;
    if (req.url?.startsWith('/private')) res.writeHead(200, { 'cache-control': 'private, max-age=60' }).end(`p${served}`);
    else if (req.url?.startsWith('/short')) res.writeHead(200, { 'cache-control': 'public, max-age=1' }).end(`s${served}`);
    else if (req.method === 'POST') res.writeHead(204).end();
    else res.writeHead(200, { 'cache-control': 'public, max-age=60' }).end(`${req.url} ${served} ${req.headers.range ?? ''}`);
  });
  const port = await freePort();
  await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', () => r()));
  upstreamUrl = `http://127.0.0.1:${port}`;
});

afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

describe('CachingProxy', () => {
  it('caches by URL for max-age, skips private answers and Range requests, and serves /health', async () => {
    const proxy = new CachingProxy({ upstream: upstreamUrl, port: await freePort() });
    await proxy.start();
    try {
      const first = await fetch(`${proxy.url}/a?x=1`);
      expect(first.headers.get('x-cache')).toBe('MISS');
      const body = await first.text();
      const again = await fetch(`${proxy.url}/a?x=1`);
      expect(again.headers.get('x-cache')).toBe('HIT');
      expect(await again.text()).toBe(body);
      expect((await fetch(`${proxy.url}/a?x=2`)).headers.get('x-cache')).toBe('MISS');
      expect(await (await fetch(`${proxy.url}/private`)).text()).not.toBe(await (await fetch(`${proxy.url}/private`)).text());
      const ranged = await fetch(`${proxy.url}/a?x=1`, { headers: { range: 'bytes=0-1' } });
      expect(ranged.headers.get('x-cache')).toBe('MISS');
      expect(await ranged.text()).toMatch(/ bytes=0-1$/);
      const short = await (await fetch(`${proxy.url}/short`)).text();
      await new Promise((r) => setTimeout(r, 1100));
      expect(await (await fetch(`${proxy.url}/short`)).text()).not.toBe(short);
      expect((await fetch(`${proxy.url}/post`, { method: 'POST', body: '{}' })).status).toBe(204);
      expect(await (await fetch(`${proxy.url}/health`)).text()).toBe('ok');
      expect(proxy.stats.hits).toBe(1);
    } finally {
      await proxy.close('test over');
    }
  });

  it('refuses connections while stopped and serves again on the same port after start', async () => {
    const proxy = new CachingProxy({ upstream: upstreamUrl, port: await freePort() });
    await proxy.start();
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    await proxy.close('simulated outage');
    expect(proxy.state).toBe('stopped');
    expect(proxy.closedReason).toBe('simulated outage');
    await expect(fetch(`${proxy.url}/health`)).rejects.toThrow();
    await proxy.start();
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    await proxy.close('test over');
  });
});
