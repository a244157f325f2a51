import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ORIGIN_MEDIA_DELETE_PATH, PART_FILE_PATTERN, THUMBNAIL_DIR } from '../../../shared/src/internal-api.ts';
import { handleMediaDelete, isStreamMediaKey } from './media-delete-route.ts';
import { RELAY_PATH } from '../cluster/relay-protocol.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from '../../../shared/src/signing/request-signature.ts';
import type { SegmentStore } from '../store/segment-store.ts';
import { timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import type { RecentParts } from '../store/recent-parts.ts';
import type { OriginMetrics } from './origin-metrics.ts';

/** What the HTTP server asks of the node it serves. */
export interface NodeStatus {
  nodeId: string;
  ready(): boolean;
  streamIds(): string[];
}


/** What the HTTP server serves from. */
export interface HttpServerOptions {
  host: string;
  port: number;
  status: NodeStatus;
  metrics: OriginMetrics;
  store: SegmentStore;
  /** LL-HLS parts in memory, served before the store is asked (parts are never stored). */
  recentParts?: RecentParts;
  logger: Logger;
  /** Whole-request limit of every request but the relay (Node's own `requestTimeout` would cut a relay after 300 s). */
  requestTimeoutMs: number;
  /** A relay that sends no bytes for this long is dropped (its ingest node is presumed gone). */
  relayIdleTimeoutMs: number;
  /**
   * ORIGIN_SECRET: when set, `/media` (the edge's origin pull) answers only requests signed with it,
   * like the internal API, and `POST /internal/v1/media/delete` (signed) deletes media for the edge;
   * unset (tests only), `/media` is open and the delete route does not exist.
   */
  secret?: string;
  /** Bearer token for `/metrics` and the detailed `/healthz` from off the host; unset: loopback peers only. */
  metricsToken?: string | undefined;
  /** `POST /internal/v1/relay`: another node relays a broadcaster's FLV here for transcoding. */
  onRelay?: (req: IncomingMessage, res: ServerResponse, target: string) => Promise<void>;
}

/**
 * The origin's own HTTP: `/healthz`, `/readyz`, `/metrics` (Prometheus) and `/media/<key>`, which
 * the edge pulls from when its R2 binding misses (the local stack, or a store other than R2).
 */
export class OriginHttpServer {
  #server: Server | undefined;
  readonly #opts: HttpServerOptions;

  constructor(opts: HttpServerOptions) {
    this.#opts = opts;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === 'object' && address ? address.port : this.#opts.port;
  }

  /** Starts listening. */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#limitTime(req, res);
      this.#handle(req, res).catch((err: unknown) => {
        this.#opts.logger.error({ err, url: req.url }, 'origin http handler failed');
        if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: 'internal error' } });
        else res.destroy();
      });
    });
    // Node's requestTimeout (300 s, whole request) cannot exempt one route, and a relay is one
    // chunked POST that lives as long as the broadcast: it is off here, and #limitTime applies the
    // same limit to every other request, and an idle limit to the relay.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port, this.#opts.host, resolve);
    });
    this.#server = server;
    this.#opts.logger.info({ host: this.#opts.host, port: this.port }, 'origin HTTP listening');
  }

  /** Stops listening and closes idle connections. */
  async close(reason: string): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#opts.logger.info({ reason }, 'origin HTTP closed');
  }

  /** The relay gets an idle limit; every other request a whole-request limit. */
  #limitTime(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'POST' && req.url?.startsWith(RELAY_PATH)) {
      req.socket.setTimeout(this.#opts.relayIdleTimeoutMs, () => {
        this.#opts.logger.warn({ idleMs: this.#opts.relayIdleTimeoutMs }, 'relay idle too long; dropping it');
        req.destroy();
      });
      return;
    }
    // The limit covers the whole exchange: a request whose body stalls after we answered (a
    // 405 to a POST) would otherwise hold its socket for ever, since Node's own limit is off.
    const timer = setTimeout(() => {
      this.#opts.logger.warn({ url: req.url, timeoutMs: this.#opts.requestTimeoutMs }, 'origin http request took too long; closing it');
      if (!res.headersSent) json(res, 408, { error: { code: 'request_timeout', message: `request not completed within ${this.#opts.requestTimeoutMs} ms` } });
      req.socket.destroy();
    }, this.#opts.requestTimeoutMs);
    // Both sides closed (request body consumed or aborted, answer sent or connection gone): done.
    // No listener goes on the socket itself: keep-alive connections carry many requests.
    let open = 2;
    const closed = () => {
      if (--open === 0) clearTimeout(timer);
    };
    req.once('close', closed);
    res.once('close', closed);
  }

  /** A request from this host, or carrying the metrics token. */
  #operator(req: IncomingMessage): boolean {
    const peer = req.socket.remoteAddress ?? '';
    if (peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1') return true;
    const token = this.#opts.metricsToken;
    return token !== undefined && timingSafeEqualHex(req.headers.authorization ?? '', `Bearer ${token}`);
  }

  /** True when no secret is configured, or the request carries a fresh signature of its method and path by it. */
  async #signed(req: IncomingMessage, url: URL): Promise<boolean> {
    const secret = this.#opts.secret;
    if (secret === undefined) return true;
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : null;
    };
    const verdict = await verifyRequest(
      secret,
      { method: req.method ?? 'GET', path: url.pathname, timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER), body: new Uint8Array() },
      Math.floor(Date.now() / 1000),
    );
    return verdict === 'ok';
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://origin');
    const { status, metrics, store } = this.#opts;
    if (req.method === 'POST' && url.pathname === RELAY_PATH && this.#opts.onRelay) return this.#opts.onRelay(req, res, `${url.pathname}${url.search}`);
    if (req.method === 'POST' && url.pathname === ORIGIN_MEDIA_DELETE_PATH && this.#opts.secret !== undefined) {
      return handleMediaDelete(req, res, url.pathname, { secret: this.#opts.secret, store, logger: this.#opts.logger });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume(); // drain a body nobody reads, so the finished answer frees the connection
      return json(res, 405, { error: { code: 'method_not_allowed', message: 'GET only' } });
    }
    // Live stream ids and process details are for operators: loopback or the metrics token. Anyone may learn the node is up.
    if (url.pathname === '/healthz') return json(res, 200, this.#operator(req) ? { status: 'ok', nodeId: status.nodeId, pid: process.pid, streams: status.streamIds() } : { status: 'ok' });
    if (url.pathname === '/readyz') {
      const ready = status.ready();
      return json(res, ready ? 200 : 503, { ready });
    }
    if (url.pathname === '/metrics') {
      if (!this.#operator(req)) return json(res, 401, { error: { code: 'unauthorized', message: 'metrics are served to loopback or with the metrics token' } });
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (url.pathname.startsWith('/media/')) {
      if (!(await this.#signed(req, url))) return json(res, 401, { error: { code: 'unauthorized', message: 'signature missing or wrong' } });
      const key = safeDecode(url.pathname.slice('/media/'.length));
      // Only media under `live/<id>/<rendition>/` and the stream's thumbnails.
      if (key === undefined || !isStreamMediaKey(key)) return json(res, 404, { error: { code: 'not_found', message: 'no such media object' } });
      if (PART_FILE_PATTERN.test(key.slice(key.lastIndexOf('/') + 1))) {
        // A part asked for before it is made (a preload hint) is held, not 404.
        const part = await this.#opts.recentParts?.getOrWait(key);
        if (!part) return json(res, 404, { error: { code: 'not_found', message: 'no such part (parts are kept for a few seconds)' } });
        res.writeHead(200, { 'content-type': 'video/iso.segment', 'content-length': part.length, 'cache-control': 'public, max-age=31536000, immutable' });
        return void res.end(req.method === 'HEAD' ? undefined : part);
      }
      const object = await store.get(key);
      if (!object) return json(res, 404, { error: { code: 'not_found', message: 'no such media object' } });
      // The latest thumbnail is overwritten every few seconds; everything else never changes.
      const cacheControl = key.endsWith(`/${THUMBNAIL_DIR}/latest.jpg`) ? 'public, max-age=5' : 'public, max-age=31536000, immutable';
      res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.contentLength, 'cache-control': cacheControl });
      if (req.method === 'HEAD') return void res.end();
      const body = object.body;
      if (body instanceof Uint8Array) res.end(body);
      else (body instanceof Readable ? body : Readable.fromWeb(body as import('node:stream/web').ReadableStream)).pipe(res);
      return;
    }
    json(res, 404, { error: { code: 'not_found', message: `no route for ${url.pathname}` } });
  }
}

/** decodeURIComponent, or undefined for a malformed escape (a 404, not a 500). */
function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
