import { EdgeliveError, isErrorBody, type ErrorCode } from '../../../shared/src/errors.ts';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import {
  keyCheckAnswerSchema,
  publishGrantSchema,
  type KeyCheckRequest,
  type EndAnnounce,
  type HeartbeatAnnounce,
  type PartAnnounce,
  type PublishGrant,
  type PublishRequest,
  type RenditionAnnounce,
  type SegmentAnnounce,
} from '../../../shared/src/schemas.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../../../shared/src/signing/request-signature.ts';

/** The edge as the origin needs it: every call signed, every announce carrying the epoch. */
export interface EdgeClient {
  /** Does this key open its stream? Asked before any lease or capacity slot is taken; a refusal throws. */
  checkKey(req: KeyCheckRequest): Promise<{ streamId: string }>;
  publish(req: PublishRequest): Promise<PublishGrant>;
  announceRendition(streamId: string, body: RenditionAnnounce): Promise<void>;
  announceSegments(streamId: string, body: SegmentAnnounce): Promise<void>;
  /** LL-HLS parts held in the origin's memory (optional: fakes that make no parts leave it out). */
  announceParts?(streamId: string, body: PartAnnounce): Promise<void>;
  heartbeat(streamId: string, body: HeartbeatAnnounce): Promise<void>;
  end(streamId: string, body: EndAnnounce): Promise<void>;
}

/** Attempts for a call that failed on the network or with a 5xx. */
export const EDGE_CALL_ATTEMPTS = 4;
/** First retry delay; doubles each attempt. */
export const EDGE_RETRY_BASE_MS = 100;
/** One call's own time limit. */
export const EDGE_CALL_TIMEOUT_MS = 5000;

/** Talks to the edge's internal API over HTTP(S). */
export class HttpEdgeClient implements EdgeClient {
  readonly #baseUrl: string;
  readonly #secret: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  /** `fetch`, `now` and `sleep` default to the real ones; tests pass a virtual clock. */
  constructor(opts: { baseUrl: string; secret: string; fetch?: typeof fetch; now?: () => number; sleep?: (ms: number) => Promise<void> }) {
    this.#baseUrl = opts.baseUrl.replace(/\/$/, '');
    this.#secret = opts.secret;
    this.#fetch = opts.fetch ?? fetch;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? sleep;
  }

  async checkKey(req: KeyCheckRequest): Promise<{ streamId: string }> {
    return keyCheckAnswerSchema.parse(await this.#call(INTERNAL_API.keyCheck, req));
  }

  async publish(req: PublishRequest): Promise<PublishGrant> {
    return publishGrantSchema.parse(await this.#call(INTERNAL_API.publish, req));
  }

  async announceRendition(streamId: string, body: RenditionAnnounce): Promise<void> {
    await this.#call(INTERNAL_API.renditions(streamId), body);
  }

  async announceSegments(streamId: string, body: SegmentAnnounce): Promise<void> {
    await this.#call(INTERNAL_API.segments(streamId), body);
  }

  async announceParts(streamId: string, body: PartAnnounce): Promise<void> {
    // One attempt: a part is worth nothing late (its segment follows), so it is never retried.
    await this.#call(INTERNAL_API.parts(streamId), body, 1);
  }

  async heartbeat(streamId: string, body: HeartbeatAnnounce): Promise<void> {
    await this.#call(INTERNAL_API.heartbeat(streamId), body);
  }

  async end(streamId: string, body: EndAnnounce): Promise<void> {
    await this.#call(INTERNAL_API.end(streamId), body);
  }

  /** POSTs a signed JSON body; retries network errors and 5xx; a 4xx becomes an EdgeliveError. */
  async #call(path: string, payload: unknown, attempts = EDGE_CALL_ATTEMPTS): Promise<unknown> {
    const body = new TextEncoder().encode(JSON.stringify(payload));
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await this.#sleep(EDGE_RETRY_BASE_MS * 2 ** (attempt - 2));
      const timestamp = Math.floor(this.#now() / 1000);
      const signature = await signRequest(this.#secret, 'POST', path, timestamp, body);
      let res: Response;
      try {
        res = await this.#fetch(`${this.#baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signature },
          body,
          signal: AbortSignal.timeout(EDGE_CALL_TIMEOUT_MS),
        });
      } catch (err) {
        lastError = new EdgeliveError('upstream_failed', `edge unreachable at ${this.#baseUrl}${path}: ${(err as Error).message}`, { cause: err });
        continue;
      }
      const json: unknown = await res.json().catch(() => null);
      if (res.ok) return json;
      const code: ErrorCode = isErrorBody(json) ? json.error.code : res.status >= 500 ? 'upstream_failed' : 'bad_request';
      const message = isErrorBody(json) ? json.error.message : `edge answered ${res.status} for ${path}`;
      lastError = new EdgeliveError(code, message);
      if (res.status < 500) break;
    }
    throw lastError;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
