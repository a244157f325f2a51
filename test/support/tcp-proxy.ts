import net from 'node:net';

/**
 * What the proxy does with traffic: `forwarding` passes bytes both ways; `paused` is a network
 * blip (nothing moves either way, new connections are accepted and then held, so a client sees a
 * connect and then silence); `refusing` resets new connections and has destroyed the existing
 * ones (a peer that went away); `closed` no longer listens.
 */
export type TcpProxyMode = 'forwarding' | 'paused' | 'refusing' | 'closed';

/** Where a proxy forwards to and where it listens (0 or unset: a free port). */
export interface TcpProxyOptions {
  target: { host: string; port: number };
  listenPort?: number;
  listenHost?: string;
}

/** A loopback TCP proxy that a test owns and switches between modes to inject faults. */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: TcpProxyMode;
  /** `http://host:port` followed by `path`. */
  url(path?: string): string;
  /** Connections accepted so far, and those open now. */
  stats(): { accepted: number; open: number };
  /** Stops forwarding on every connection, both ways; new connections are accepted and held. */
  pause(): void;
  /** Resets new connections and destroys the existing ones until `resume()`. */
  refuse(): void;
  /** Forwards again: held bytes and held connections go through. */
  resume(): void;
  close(): Promise<void>;
}

/**
 * One client connection and its upstream. While the proxy is paused, bytes read from either side
 * are held here (and reading stops), and a connection accepted meanwhile opens its upstream only
 * on resume: so the far end sees nothing at all during a pause.
 */
class ProxiedConnection {
  readonly #client: net.Socket;
  readonly #target: { host: string; port: number };
  #upstream: net.Socket | undefined;
  #paused: boolean;
  readonly #held: { toUpstream: (Buffer | null)[]; toClient: (Buffer | null)[] } = { toUpstream: [], toClient: [] };
  readonly #onClose: () => void;
  #closed = false;

  constructor(client: net.Socket, target: { host: string; port: number }, paused: boolean, onClose: () => void) {
    this.#client = client;
    this.#target = target;
    this.#paused = paused;
    this.#onClose = onClose;
    client.on('error', () => this.destroy(true));
    client.on('close', () => this.destroy(false));
    this.#relay(client, 'toUpstream');
    if (!paused) this.#connectUpstream();
    else client.pause();
  }

  #connectUpstream(): void {
    const upstream = net.connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
    this.#upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => this.destroy(true));
    upstream.on('close', () => this.destroy(false));
    this.#relay(upstream, 'toClient');
    this.#flush();
  }

  /** Copies `from`'s bytes (null: its end) to the other side, or holds them while paused. */
  #relay(from: net.Socket, direction: 'toUpstream' | 'toClient'): void {
    const forward = (chunk: Buffer | null) => {
      if (this.#paused || (direction === 'toUpstream' && !this.#upstream)) {
        this.#held[direction].push(chunk);
        from.pause();
        return;
      }
      this.#write(direction, chunk);
    };
    from.on('data', (chunk: Buffer) => forward(chunk));
    from.on('end', () => forward(null));
  }

  #write(direction: 'toUpstream' | 'toClient', chunk: Buffer | null): void {
    const to = direction === 'toUpstream' ? this.#upstream : this.#client;
    if (!to || to.destroyed) return;
    if (chunk === null) to.end();
    else to.write(chunk);
  }

  #flush(): void {
    for (const direction of ['toUpstream', 'toClient'] as const) {
      for (const chunk of this.#held[direction].splice(0)) this.#write(direction, chunk);
    }
  }

  pause(): void {
    this.#paused = true;
    this.#client.pause();
    this.#upstream?.pause();
  }

  resume(): void {
    if (this.#closed) return;
    this.#paused = false;
    if (!this.#upstream) this.#connectUpstream();
    else this.#flush();
    this.#client.resume();
    this.#upstream?.resume();
  }

  /** Ends both sides; `reset` sends RST (a refused or failed peer) instead of closing politely. */
  destroy(reset: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.#client, this.#upstream]) {
      if (!s || s.destroyed) continue;
      if (reset) s.resetAndDestroy();
      else s.destroy();
    }
    this.#onClose();
  }
}

/** Starts a proxy on loopback in front of `target`, forwarding. */
export async function startTcpProxy(opts: TcpProxyOptions): Promise<TcpProxy> {
  const host = opts.listenHost ?? '127.0.0.1';
  let mode: TcpProxyMode = 'forwarding';
  let accepted = 0;
  const open = new Set<ProxiedConnection>();

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    accepted++;
    if (mode === 'refusing' || mode === 'closed') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const conn: ProxiedConnection = new ProxiedConnection(client, opts.target, mode === 'paused', () => open.delete(conn));
    open.add(conn);
    if (mode !== 'paused') client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host,
    port,
    get mode() {
      return mode;
    },
    url: (path = '') => `http://${host}:${port}${path}`,
    stats: () => ({ accepted, open: open.size }),
    pause() {
      if (mode === 'closed') return;
      mode = 'paused';
      for (const c of open) c.pause();
    },
    refuse() {
      if (mode === 'closed') return;
      mode = 'refusing';
      for (const c of [...open]) c.destroy(true);
    },
    resume() {
      if (mode === 'closed') return;
      mode = 'forwarding';
      for (const c of open) c.resume();
    },
    async close() {
      if (mode === 'closed') return;
      mode = 'closed';
      for (const c of [...open]) c.destroy(false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
