import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { IngestPublish } from '../ingest/rtmp-ingest-server.ts';
import { relayHeaders, relayTarget, type RelayClosed } from './relay-protocol.ts';

/** Relay output queued towards a slow transcoding node before it is given up as lost. */
export const MAX_RELAY_BACKLOG_BYTES = 16 * 1024 * 1024;

/** Lifecycle of one relay attempt. */
export type FlvRelayState = 'connecting' | 'live' | 'finishing' | 'closed';

/** How a relay ended, for the ingest node's placement. */
export type RelayOutcome =
  | { kind: 'refused'; status: number; code: string; message: string } // the target said no before going live
  | { kind: 'closed'; code: string; reason: string } // the target ended it on purpose (handover → place again)
  | { kind: 'lost'; reason: string } // connection broke or stalled: the target is presumed dead
  | { kind: 'finished' }; // the broadcaster stopped and the target drained

/**
 * Pushes one broadcaster's FLV from its ingest node to the node that transcodes it: a chunked HTTP
 * POST fed by an in-process FLV subscriber (which starts with the header, sequence headers and the
 * GOP cache, so a new target starts on a keyframe).
 */
export class FlvRelay {
  #state: FlvRelayState = 'connecting';
  #req: ClientRequest | undefined;
  #untap: (() => void) | undefined;
  #done!: (outcome: RelayOutcome) => void;
  /** Resolves once, with how the relay ended. */
  readonly outcome: Promise<RelayOutcome>;
  readonly #opts: { publish: IngestPublish; targetUrl: string; targetNodeId: string; secret: string; takeoverFrom: string | undefined; logger: Logger; idleTimeoutMs: number; onLive: () => void };

  constructor(opts: { publish: IngestPublish; targetUrl: string; targetNodeId: string; secret: string; takeoverFrom: string | undefined; logger: Logger; idleTimeoutMs: number; onLive: () => void }) {
    this.#opts = opts;
    this.outcome = new Promise((resolve) => (this.#done = resolve));
  }

  get state(): FlvRelayState {
    return this.#state;
  }

  /** Opens the POST and starts streaming. */
  async start(): Promise<void> {
    const { publish, targetUrl, secret, takeoverFrom, logger } = this.#opts;
    const target = relayTarget(takeoverFrom);
    const headers = await relayHeaders(secret, target, publish.streamKey, Date.now());
    const req = request(`${targetUrl}${target}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'video/x-flv', 'x-edgelive-remote': publish.remoteAddress },
      agent: false,
    });
    this.#req = req;
    req.setNoDelay(true);
    // No bytes moving either way for this long (a blackholed network, a frozen target) is a loss;
    // a healthy relay writes every frame, so this never cuts one that works, however long it runs.
    req.setTimeout(this.#opts.idleTimeoutMs, () => this.#end({ kind: 'lost', reason: `relay idle for ${this.#opts.idleTimeoutMs} ms` }));
    req.on('response', (res) => this.#onResponse(res));
    req.on('error', (err) => this.#end({ kind: 'lost', reason: err.message }));
    req.flushHeaders();
    this.#untap = publish.tap((tag) => {
      if (this.#state === 'closed' || this.#state === 'finishing') return;
      req.write(tag);
      if (req.writableLength > MAX_RELAY_BACKLOG_BYTES) {
        logger.warn({ target: this.#opts.targetNodeId, queued: req.writableLength }, 'relay target is not keeping up; giving it up');
        this.#end({ kind: 'lost', reason: `relay backlog over ${MAX_RELAY_BACKLOG_BYTES} bytes` });
      }
    });
  }

  /** The broadcaster stopped: end the body so the target drains, announces the end and answers. */
  finish(): void {
    if (this.#state === 'closed' || this.#state === 'finishing') return;
    this.#state = 'finishing';
    this.#untap?.();
    this.#req?.end();
  }

  /** Drops the relay now (the ingest node is closing or the broadcaster was refused). */
  close(reason: string): void {
    this.#end({ kind: 'closed', code: 'closed', reason });
  }

  #onResponse(res: IncomingMessage): void {
    let body = '';
    res.setEncoding('utf8');
    if (res.statusCode === 200 && this.#state === 'connecting') {
      this.#state = 'live';
      this.#opts.onLive();
    }
    res.on('data', (d: string) => {
      if (body.length < 10_000) body += d;
    });
    res.on('end', () => {
      if (res.statusCode !== 200) {
        let code = 'upstream_failed';
        let message = `relay target answered ${res.statusCode}`;
        try {
          const e = (JSON.parse(body) as { error: { code: string; message: string } }).error;
          code = e.code;
          message = e.message;
        } catch {
          // not our error shape: keep the status
        }
        this.#end({ kind: 'refused', status: res.statusCode ?? 0, code, message });
        return;
      }
      const line = body.trim().split('\n').pop() ?? '';
      let closed: RelayClosed | undefined;
      try {
        closed = JSON.parse(line) as RelayClosed;
      } catch {
        closed = undefined;
      }
      if (closed?.type === 'closed') this.#end(this.#state === 'finishing' && closed.code === 'finished' ? { kind: 'finished' } : { kind: 'closed', code: closed.code, reason: closed.reason });
      else this.#end({ kind: 'lost', reason: 'relay answer ended without its closing line' });
    });
    res.on('error', (err) => this.#end({ kind: 'lost', reason: err.message }));
    res.on('aborted', () => this.#end({ kind: 'lost', reason: 'relay answer aborted' }));
  }

  #end(outcome: RelayOutcome): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#untap?.();
    this.#req?.destroy();
    this.#opts.logger.info({ target: this.#opts.targetNodeId, outcome }, 'relay ended');
    this.#done(outcome);
  }
}
