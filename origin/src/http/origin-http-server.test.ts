import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import { OriginHttpServer, type NodeStatus } from './origin-http-server.ts';
import { OriginMetrics } from './origin-metrics.ts';

const STREAM = 'abcdefgh12345678';
const INIT_KEY = `live/${STREAM}/720p/init-3.mp4`;
const SEGMENT_KEY = `live/${STREAM}/720p/seg-42-e3.m4s`;
const NOT_FOUND = { error: { code: 'not_found', message: 'no such media object' } };

let store: MemorySegmentStore;
let metrics: OriginMetrics;
let status: NodeStatus & { isReady: boolean };
let server: OriginHttpServer;
let base: string;

beforeEach(async () => {
  store = new MemorySegmentStore();
  metrics = new OriginMetrics();
  status = {
    nodeId: 'origin-test-1',
    isReady: true,
    ready() {
      return this.isReady;
    },
    streamIds: () => [STREAM, 'zyxwvuts87654321'],
  };
  server = new OriginHttpServer({ host: '127.0.0.1', port: 0, status, metrics, store, logger: pino({ level: 'silent' }), requestTimeoutMs: 60_000, relayIdleTimeoutMs: 60_000 });
  await server.start();
  base = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  await server.close('test done');
});

describe('OriginHttpServer', () => {
  it('binds an ephemeral port', () => {
    expect(server.port).toBeGreaterThan(0);
  });

  it('answers /healthz with the node id, pid and streams', async () => {
    const res = await fetch(`${base}/healthz`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(JSON.stringify({ status: 'ok', nodeId: 'origin-test-1', pid: process.pid, streams: [STREAM, 'zyxwvuts87654321'] }));
  });

  it('answers /readyz 200 when ready and 503 when not', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });

    status.isReady = false;
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ ready: false });
  });

  it('serves Prometheus metrics from the node registry', async () => {
    metrics.activeStreams.set(2);
    metrics.segmentStored('720p', 1000, 20);

    const res = await fetch(`${base}/metrics`);
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(text).toContain('# HELP edgelive_active_streams Streams this node is transcoding\n# TYPE edgelive_active_streams gauge\nedgelive_active_streams 2\n');
    expect(text).toContain('edgelive_segments_stored_total{rendition="720p"} 1\n');
    expect(text).toContain('edgelive_segment_bytes_stored_total 1000\n');
    expect(text).toContain('edgelive_origin_process_cpu_user_seconds_total');
  });

  it('streams a stored media object with its headers', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    await store.put(SEGMENT_KEY, bytes, { contentType: 'video/iso.segment', cacheControl: 'public, max-age=31536000, immutable' });

    const res = await fetch(`${base}/media/${SEGMENT_KEY}`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    expect(res.headers.get('content-length')).toBe('70000');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('serves an init segment whose key arrives percent-encoded', async () => {
    await store.put(INIT_KEY, new Uint8Array([0, 0, 0, 8, 0x66, 0x74, 0x79, 0x70]), { contentType: 'video/mp4', cacheControl: 'x' });

    const res = await fetch(`${base}/media/${encodeURIComponent(INIT_KEY)}`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 0, 0, 8, 0x66, 0x74, 0x79, 0x70]);
  });

  it('serves an empty object as an empty body', async () => {
    await store.put(SEGMENT_KEY, new Uint8Array(), { contentType: 'video/iso.segment', cacheControl: 'x' });

    const res = await fetch(`${base}/media/${SEGMENT_KEY}`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('0');
    expect(await res.text()).toBe('');
  });

  it('answers HEAD with the headers and no body', async () => {
    await store.put(SEGMENT_KEY, new Uint8Array(1234), { contentType: 'video/iso.segment', cacheControl: 'x' });

    const res = await fetch(`${base}/media/${SEGMENT_KEY}`, { method: 'HEAD' });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    expect(res.headers.get('content-length')).toBe('1234');
    expect(await res.text()).toBe('');
  });

  it('answers 404 for a stored object that is missing', async () => {
    const res = await fetch(`${base}/media/${SEGMENT_KEY}`);

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(NOT_FOUND);
  });

  it.each([
    ['a key outside live/', 'other/abcdefgh12345678/720p/seg-1.m4s'],
    ['a short stream id', 'live/abc/720p/seg-1.m4s'],
    ['an upper-case stream id', 'live/ABCDEFGH12345678/720p/seg-1.m4s'],
    ['a rendition name too long', `live/${STREAM}/${'r'.repeat(17)}/seg-1.m4s`],
    ['a playlist', `live/${STREAM}/720p/index.m3u8`],
    ['a path traversal', `live/${STREAM}/720p/..%2F..%2Fsecret`],
    ['an encoded traversal in the stream id', 'live/..%2F..%2Fetc%2Fpasswd/720p/seg-1.m4s'],
    ['a missing file', `live/${STREAM}/720p/`],
    ['a malformed percent-escape', 'live%2F%E0%A4%A'],
  ])('answers 404 JSON for %s, without reading the store', async (_label, key) => {
    await store.close('must not be read');

    const res = await fetch(`${base}/media/${key}`);

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(NOT_FOUND);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}/healthz`, { method });
      expect(res.status).toBe(405);
      expect(await res.json()).toEqual({ error: { code: 'method_not_allowed', message: 'GET only' } });
    }
  });

  it('answers 404 JSON for an unknown route', async () => {
    const res = await fetch(`${base}/nope?x=1`);

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for /nope' } });
  });

  it('answers 500 internal when the store fails', async () => {
    await store.close('shutting down');

    const res = await fetch(`${base}/media/${SEGMENT_KEY}`);

    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('stops listening on close, and a second close is a no-op', async () => {
    const port = server.port;
    await server.close('first');
    await server.close('second');

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow('fetch failed');
  });
});

describe('OriginHttpServer timeouts', () => {
  /** A server whose relay route keeps reading the body until it ends, and whose store never answers. */
  async function timedServer(requestTimeoutMs: number, relayIdleTimeoutMs: number) {
    const hanging = new MemorySegmentStore();
    hanging.get = () => new Promise(() => {});
    const timed = new OriginHttpServer({
      host: '127.0.0.1',
      port: 0,
      status: { nodeId: 'n', ready: () => true, streamIds: () => [] },
      metrics: new OriginMetrics(),
      store: hanging,
      logger: pino({ level: 'silent' }),
      requestTimeoutMs,
      relayIdleTimeoutMs,
      onRelay: async (req, res) => {
        let bytes = 0;
        req.on('data', (d: Buffer) => (bytes += d.length));
        req.on('end', () => res.end(String(bytes)));
      },
    });
    await timed.start();
    return timed;
  }

  it('cuts an ordinary request at requestTimeoutMs with a 408', async () => {
    const timed = await timedServer(1_000, 60_000);
    try {
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${timed.port}${`/media/${SEGMENT_KEY}`}`);
      expect(res.status).toBe(408);
      expect(await res.json()).toEqual({ error: { code: 'request_timeout', message: 'request not completed within 1000 ms' } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await timed.close('test done');
    }
  });

  it('cuts a request whose body stalls after it was answered (a 405 to a POST)', async () => {
    const timed = await timedServer(500, 60_000);
    try {
      const { connect } = await import('node:net');
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve) => {
        const socket = connect(timed.port, '127.0.0.1', () => socket.write('POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial'));
        socket.on('data', () => {});
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
      });
      expect(closedAfter).toBeGreaterThanOrEqual(450);
      expect(closedAfter).toBeLessThan(5_000);
    } finally {
      await timed.close('test done');
    }
  });

  it('lets a relay that keeps sending outlive requestTimeoutMs, and drops one that goes idle', async () => {
    const timed = await timedServer(1_000, 800);
    try {
      const { request } = await import('node:http');
      const send = (chunks: number, everyMs: number) =>
        new Promise<{ status: number | undefined; body: string } | { error: string }>((resolve) => {
          const req = request({ host: '127.0.0.1', port: timed.port, method: 'POST', path: '/internal/v1/relay?key=x' });
          req.on('response', (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode, body }));
          });
          req.on('error', (err) => resolve({ error: err.message }));
          let sent = 0;
          const timer = setInterval(() => {
            if (sent++ < chunks) req.write(Buffer.alloc(100));
            else {
              clearInterval(timer);
              if (everyMs < 800) req.end();
            }
          }, everyMs);
        });
      // 2.5 s of steady bytes: longer than the 1 s request timeout, never idle for 800 ms.
      expect(await send(10, 250)).toEqual({ status: 200, body: '1000' });
      // Bytes stop (and the body never ends): dropped after the idle limit.
      expect(await send(1, 1_000)).toEqual({ error: 'socket hang up' });
    } finally {
      await timed.close('test done');
    }
  });
});
