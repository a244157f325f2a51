/**
 * A small RTMP-aware TCP guard on the public RTMP port, forwarding to node-media-server on a
 * loopback port. node-media-server allocates from the lengths a client declares before anyone is
 * authenticated and has no connection cap or handshake deadline, so every connection passes here
 * first: caps per address and in total, a deadline for the handshake and for a `publish`, chunk
 * size and message lengths checked (RtmpChunkInspector) before a byte reaches the server behind,
 * and addresses that keep presenting wrong keys turned away for a while.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_RTMP_LIMITS, RtmpChunkInspector, type RtmpLimits } from './rtmp-chunk-inspector.ts';

/** The guard's limits (config.ts reads them; defaults below). */
export interface RtmpGuardSettings {
  /** Connections at once from one address. */
  maxPerAddress: number;
  /** Connections at once in total. */
  maxTotal: number;
  /** From accept to the end of the handshake. */
  handshakeTimeoutMs: number;
  /** From accept to a `publish` command (the key is then checked with the edge by the publish run). */
  publishTimeoutMs: number;
  /** Refused publishes from one address within a minute after which it is turned away. */
  maxRefusalsPerMinute: number;
  /** How long an address that hit that is turned away. */
  banMs: number;
  limits: RtmpLimits;
}

/** Defaults: a broadcaster needs one connection; a studio a few. */
export const DEFAULT_RTMP_GUARD: RtmpGuardSettings = {
  maxPerAddress: 8,
  maxTotal: 64,
  handshakeTimeoutMs: 5_000,
  publishTimeoutMs: 10_000,
  maxRefusalsPerMinute: 5,
  banMs: 60_000,
  limits: DEFAULT_RTMP_LIMITS,
};

/** Lifecycle of the guard's listener. */
export type RtmpGuardState = 'idle' | 'listening' | 'closed';

/** Counters for logs and tests. */
export interface RtmpGuardStats {
  accepted: number;
  refusedCap: number;
  refusedBanned: number;
  cutViolation: number;
  cutTimeout: number;
}

/** The TCP guard: one server, a pair of sockets per client. */
export class RtmpGuard {
  #state: RtmpGuardState = 'idle';
  #server: Server | undefined;
  readonly #opts: { host: string; port: number; upstreamHost: string; upstreamPort: number; settings: RtmpGuardSettings; logger: Logger };
  readonly #byAddress = new Map<string, number>();
  readonly #sockets = new Set<Socket>();
  /** The client address behind each upstream connection, by the upstream socket's local port. */
  readonly #clients = new Map<number, string>();
  readonly #refusals = new Map<string, number[]>();
  readonly #banned = new Map<string, number>();
  readonly stats: RtmpGuardStats = { accepted: 0, refusedCap: 0, refusedBanned: 0, cutViolation: 0, cutTimeout: 0 };

  constructor(opts: { host: string; port: number; upstreamHost: string; upstreamPort: number; settings?: RtmpGuardSettings; logger: Logger }) {
    this.#opts = { ...opts, settings: opts.settings ?? DEFAULT_RTMP_GUARD };
  }

  get state(): RtmpGuardState {
    return this.#state;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === 'object' && address ? address.port : this.#opts.port;
  }

  /** The broadcaster's address behind a node-media-server session's peer port (it sees only the guard). */
  clientAddress(upstreamLocalPort: number): string | undefined {
    return this.#clients.get(upstreamLocalPort);
  }

  /** A publish from `address` was refused (wrong key): enough of them within a minute turns the address away. */
  noteRefusal(address: string, now = Date.now()): void {
    const recent = (this.#refusals.get(address) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    this.#refusals.set(address, recent);
    if (this.#refusals.size > 10_000) this.#refusals.clear();
    if (recent.length >= this.#opts.settings.maxRefusalsPerMinute && !this.#banned.has(address)) {
      this.#banned.set(address, now + this.#opts.settings.banMs);
      this.#opts.logger.warn({ address, refusals: recent.length, banMs: this.#opts.settings.banMs }, 'rtmp guard: address keeps presenting wrong keys; turning it away for a while');
    }
  }

  /** Starts listening on the public port. */
  async start(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    server.maxConnections = this.#opts.settings.maxTotal * 2; // the kernel-level backstop; #accept enforces the real cap
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port, this.#opts.host, resolve);
    });
    this.#server = server;
    this.#state = 'listening';
    this.#opts.logger.info({ host: this.#opts.host, port: this.port, upstreamPort: this.#opts.upstreamPort }, 'RTMP guard listening');
  }

  /** Stops listening and drops every connection. */
  async close(reason: string): Promise<void> {
    if (this.#state !== 'listening') return;
    this.#state = 'closed';
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    this.#opts.logger.info({ reason, stats: this.stats }, 'RTMP guard closed');
  }

  #isBanned(address: string, now: number): boolean {
    const until = this.#banned.get(address);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#banned.delete(address);
    this.#refusals.delete(address);
    return false;
  }

  #accept(client: Socket): void {
    const { settings, logger } = this.#opts;
    const address = client.remoteAddress ?? 'unknown';
    const now = Date.now();
    if (this.#isBanned(address, now)) {
      this.stats.refusedBanned++;
      client.destroy();
      return;
    }
    const mine = this.#byAddress.get(address) ?? 0;
    if (mine >= settings.maxPerAddress || this.#sockets.size >= settings.maxTotal * 2) {
      this.stats.refusedCap++;
      logger.debug({ address, mine, total: this.#sockets.size / 2 }, 'rtmp guard: connection over the cap refused');
      client.destroy();
      return;
    }
    this.stats.accepted++;
    this.#byAddress.set(address, mine + 1);
    const inspector = new RtmpChunkInspector(settings.limits);
    const upstream = createConnection({ host: this.#opts.upstreamHost, port: this.#opts.upstreamPort });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let closed = false;
    const end = (why: 'violation' | 'timeout' | 'closed', detail?: string) => {
      if (closed) return;
      closed = true;
      clearTimeout(handshakeTimer);
      clearTimeout(publishTimer);
      if (why === 'violation') this.stats.cutViolation++;
      if (why === 'timeout') this.stats.cutTimeout++;
      if (why !== 'closed') logger.info({ address, reason: detail }, 'rtmp guard: connection cut');
      // Destroyed, not ended: a refused or hostile client keeps no half-open socket here.
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
      if (upstream.localPort !== undefined) this.#clients.delete(upstream.localPort);
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#byAddress.delete(address);
      else this.#byAddress.set(address, left);
    };
    const handshakeTimer = setTimeout(() => {
      if (!inspector.handshakeDone) end('timeout', `no handshake within ${settings.handshakeTimeoutMs} ms`);
    }, settings.handshakeTimeoutMs);
    const publishTimer = setTimeout(() => {
      if (!inspector.publishSeen) end('timeout', `no publish within ${settings.publishTimeoutMs} ms`);
    }, settings.publishTimeoutMs);
    upstream.once('connect', () => {
      if (upstream.localPort !== undefined) this.#clients.set(upstream.localPort, address);
    });
    client.on('data', (bytes: Buffer) => {
      const violation = inspector.push(bytes);
      if (violation) return end('violation', `${violation.code}: ${violation.message}`);
      if (!upstream.write(bytes)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    upstream.on('data', (bytes: Buffer) => {
      if (!client.write(bytes)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    for (const s of [client, upstream]) {
      s.on('close', () => end('closed'));
      s.on('error', () => end('closed'));
    }
  }
}

/** A free TCP port on loopback for the server behind the guard. */
export async function loopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('could not find a free loopback port');
  return address.port;
}
