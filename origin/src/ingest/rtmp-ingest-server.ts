import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';

import { redactStreamKeys } from '../../../shared/src/keys/stream-key.ts';

const require = createRequire(import.meta.url);

/**
 * The parts of node-media-server v4's session and broadcast we rely on (read from its src/, v4.4:
 * `session/rtmp_session.js`, `server/broadcast_server.js`). Its events are synchronous and cannot be
 * vetoed asynchronously, so a publish is admitted first and closed if the edge refuses it, before
 * a single byte reaches ffmpeg.
 */
interface NmsSession {
  id: string;
  ip: string;
  streamApp: string;
  streamName: string;
  streamPath: string;
  close: () => void;
  broadcast: NmsBroadcast;
}
interface NmsBroadcast {
  publishGraceMs: number;
  /** The session publishing on this path, if any. */
  publisher: NmsSession | null;
  /** Ends the current publish now (emits donePublish for it and frees the path). */
  _finishPublish(): void;
  postPlay(session: FlvSubscriber): string | null;
  donePlay(session: FlvSubscriber): void;
}
interface NmsInstance {
  run(): Promise<void>;
  stop(): Promise<void>;
  on(event: string, fn: (s: NmsSession) => void): void;
}
/** An in-process FLV subscriber: node-media-server sends it the header, sequence headers, GOP cache and every tag. */
interface FlvSubscriber {
  id: string;
  ip: string;
  protocol: 'flv';
  streamPath: string;
  sendBuffer(buffer: Buffer): void;
  close(): void;
}

/** A broadcaster's publish as the rest of the origin sees it. */
export interface IngestPublish {
  sessionId: string;
  app: string;
  streamKey: string;
  remoteAddress: string;
  /** Starts receiving the FLV tags (header first); returns a function that stops it. */
  tap(onTag: (tag: Buffer) => void): () => void;
  /**
   * Disconnects the broadcaster (or the relaying node). `code` says why, for a relay: an error
   * code, `handover` (go on elsewhere) or `fenced`.
   */
  reject(reason: string, code?: string): void;
  /** The publish is live under `epoch` (a relay answers its ingest node). */
  onLive?(epoch: number): void;
}

/** What the ingest server tells its owner. */
export interface IngestEvents {
  onPublish(publish: IngestPublish): void;
  /** The broadcaster disconnected (or was disconnected). */
  onUnpublish(sessionId: string): void;
}

/** Lifecycle of the RTMP listener. */
export type IngestServerState = 'idle' | 'listening' | 'closed';

/** Where node-media-server listens and whom it tells. */
export interface IngestServerOptions {
  host: string;
  port: number;
  workDir: string;
  logger: Logger;
  events: IngestEvents;
  /** The broadcaster's address for a session whose peer port is this (behind the RTMP guard NMS sees only loopback). */
  resolveAddress?: (peerPort: number) => string | undefined;
}

/** node-media-server on the RTMP port, reduced to publish/unpublish events. */
export class RtmpIngestServer {
  #state: IngestServerState = 'idle';
  #nms: NmsInstance | undefined;
  readonly #opts: IngestServerOptions;

  constructor(opts: IngestServerOptions) {
    this.#opts = opts;
  }

  get state(): IngestServerState {
    return this.#state;
  }

  /** Starts listening for RTMP. */
  async start(): Promise<void> {
    const { host, port, workDir, logger, events } = this.#opts;
    const NodeMediaServer = require('node-media-server') as new (config: object) => NmsInstance;
    const storeDir = `${workDir}/nms-store`;
    mkdirSync(storeDir, { recursive: true });
    routeNmsLogs(logger); // before construction: the constructor already logs its banner
    const nms = new NodeMediaServer({ bind: host, rtmp: { port }, store: { path: storeDir } });
    nms.on('postPublish', (session) => {
      const broadcast = session.broadcast;
      // Our own reconnect window lives at the edge: end the NMS publish at once on disconnect.
      broadcast.publishGraceMs = 0;
      const old = broadcast.publisher;
      if (old && old !== session) {
        // The same full key publishes again while its old connection still looks open (a network
        // cut leaves it half-open for minutes): the key is the credential, so the new connection
        // wins. NMS would refuse it ("already has a publisher") right after this event.
        // The path holds the stream key: log the stream id only.
        logger.info({ streamId: session.streamName.split('_')[0], old: old.id, new: session.id }, 'same key published again; replacing the old connection');
        broadcast._finishPublish();
        old.close();
      }
      events.onPublish(toPublish(session, this.#opts.resolveAddress));
    });
    nms.on('donePublish', (session) => events.onUnpublish(session.id));
    await nms.run();
    this.#nms = nms;
    this.#state = 'listening';
    logger.info({ host, port }, 'RTMP ingest listening');
  }

  /** Stops listening and drops every connection. */
  async close(reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#nms?.stop();
    this.#opts.logger.info({ reason }, 'RTMP ingest closed');
  }
}

function toPublish(session: NmsSession, resolveAddress?: (peerPort: number) => string | undefined): IngestPublish {
  // NMS's `ip` is `<address>:<port>`; behind the guard the address is loopback and the port names the client.
  const peerPort = Number(/:(\d+)$/.exec(session.ip)?.[1]);
  return {
    sessionId: session.id,
    app: session.streamApp,
    streamKey: session.streamName,
    remoteAddress: (Number.isInteger(peerPort) ? resolveAddress?.(peerPort) : undefined) ?? session.ip,
    tap(onTag) {
      const subscriber: FlvSubscriber = {
        id: `tap-${session.id}`,
        ip: '', // an empty ip keeps NMS from emitting play events or checking play auth for us
        protocol: 'flv',
        streamPath: session.streamPath,
        sendBuffer: onTag,
        close: () => {},
      };
      session.broadcast.postPlay(subscriber);
      return () => session.broadcast.donePlay(subscriber);
    },
    reject() {
      session.close();
      // NMS only ends its side (half-close): a refused client must not keep the socket.
      (session as unknown as { socket?: { destroy(): void } }).socket?.destroy();
    },
  };
}

/** Sends node-media-server's console logging through pino at a sensible level. */
function routeNmsLogs(logger: Logger): void {
  const nmsLogger = require('node-media-server/src/core/logger.js') as { log: (msg: string, level?: string) => void };
  const child = logger.child({ component: 'node-media-server' });
  nmsLogger.log = (raw: string, level = 'info') => {
    // NMS writes stream paths (`/live/<key>`) into its lines; a stream key is never logged.
    const message = redactStreamKeys(String(raw));
    // NMS logs every session at info; keep those at debug so the origin's own events stand out.
    if (level === 'error') child.warn(message);
    else if (level === 'warn') child.info(message);
    else child.debug(message);
  };
}
