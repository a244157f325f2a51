import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One cached answer. */
interface Entry {
  status: number;
  headers: [string, string][];
  body: Buffer;
  storedAt: number;
  maxAge: number;
}

/** Lifecycle of a proxy: it can be stopped (its port refuses connections) and started again. */
export type CachingProxyState = 'stopped' | 'running';

// Hop-by-hop and length headers are the proxy's own business (RFC 9110 §7.6.1).
const SKIPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'upgrade']);

/** `max-age` of a shareable answer, or 0 when a shared cache must not keep it (private, no-store, none). */
function sharedMaxAge(cacheControl: string | null): number {
  if (!cacheControl || /\b(private|no-store|no-cache)\b/.test(cacheControl)) return 0;
  return Number(/\bmax-age=(\d+)/.exec(cacheControl)?.[1] ?? 0);
}

/**
 * A small caching reverse proxy standing in for a CDN in tests: GETs are cached by URL for their
 * `max-age` (never `private`/`no-store`, never Range requests), everything is forwarded to
 * `upstream`, and `/health` answers 200 while running. `stop()` closes the port; `start()` reopens it.
 */
export class CachingProxy {
  readonly #upstream: string;
  readonly #host: string;
  #port: number;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  readonly #cache = new Map<string, Entry>();
  #state: CachingProxyState = 'stopped';
  /** Why it was last closed (tests print it), null while it never was. */
  closedReason: string | null = null;
  /** Requests by path prefix outcome, for assertions. */
  readonly stats = { hits: 0, misses: 0, forwarded: [] as string[] };

  constructor(opts: { upstream: string; port: number; host?: string }) {
    this.#upstream = opts.upstream.replace(/\/+$/, '');
    this.#port = opts.port;
    this.#host = opts.host ?? '127.0.0.1';
  }

  /** Base URL viewers use (`http://host:port`). */
  get url(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  get state(): CachingProxyState {
    return this.#state;
  }

  /** Listens on the proxy's port (the same one after a stop). */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => resolve());
    });
    this.#server = server;
    this.#state = 'running';
  }

  /** Closes the port and every open connection, like a CDN edge that went away; the cache is dropped. */
  async close(reason: string): Promise<void> {
    if (this.#state === 'stopped' || !this.#server) return;
    const server = this.#server;
    this.#server = null;
    this.#state = 'stopped';
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#cache.clear();
    this.closedReason = reason;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const cacheable = req.method === 'GET' && req.headers.range === undefined;
    const now = Date.now();
    const cached = cacheable ? this.#cache.get(path) : undefined;
    if (cached && now - cached.storedAt < cached.maxAge * 1000) {
      this.stats.hits++;
      const age = Math.floor((now - cached.storedAt) / 1000);
      res.writeHead(cached.status, [...cached.headers.flat(), 'age', String(age), 'x-cache', 'HIT']).end(cached.body);
      return;
    }
    this.stats.misses++;
    this.stats.forwarded.push(path);
    try {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await readBody(req));
      const headers: Record<string, string> = {};
      for (const name of ['range', 'content-type', 'accept']) {
        const v = req.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      const upstream = await fetch(`${this.#upstream}${path}`, { method: req.method, headers, body, signal: AbortSignal.timeout(30_000) });
      const bytes = Buffer.from(await upstream.arrayBuffer());
      const out: [string, string][] = [];
      upstream.headers.forEach((value, name) => {
        if (!SKIPPED.has(name)) out.push([name, value]);
      });
      const maxAge = sharedMaxAge(upstream.headers.get('cache-control'));
      if (cacheable && upstream.status === 200 && maxAge > 0) this.#cache.set(path, { status: 200, headers: out, body: bytes, storedAt: now, maxAge });
      res.writeHead(upstream.status, [...out.flat(), 'x-cache', 'MISS']).end(bytes);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream failed: ${(err as Error).message}`);
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
