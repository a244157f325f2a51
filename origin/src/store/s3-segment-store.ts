import { setMaxListeners } from 'node:events';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type DeleteObjectsCommandOutput,
  type GetObjectCommandOutput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { checkObjectKey, checkPrefix } from './object-key.ts';
import { createS3Client, type S3ConnectionConfig } from './s3-client.ts';
import { retry, type RetryOutcome, type Sleep } from './retry-policy.ts';
import { describeS3Error, httpStatusOf, isMissingObject, isRetryableS3Error, storeErrorCodeFor } from './s3-error-classification.ts';
import type { PutOptions, SegmentStore, StoredObject } from './segment-store.ts';
import { SegmentStoreError } from './segment-store-error.ts';
import { Semaphore } from './semaphore.ts';

/** Concurrent PutObject requests per store unless configured otherwise. */
export const DEFAULT_UPLOAD_CONCURRENCY = 8;
/** How long close() lets in-flight work finish before aborting it. */
export const CLOSE_DRAIN_TIMEOUT_MS = 5_000;
/** ListObjectsV2 and DeleteObjects both take at most 1000 keys per request. */
const KEYS_PER_PAGE = 1000;

/** The bucket, how to reach it, and how hard to push it. */
export interface S3SegmentStoreConfig extends S3ConnectionConfig {
  bucket: string;
  /** Bound on concurrent uploads; default DEFAULT_UPLOAD_CONCURRENCY. */
  uploadConcurrency?: number;
  /** Attempts per operation including the first; default DEFAULT_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

/** The commands this store sends. */
export type S3Command =
  | PutObjectCommand
  | GetObjectCommand
  | HeadBucketCommand
  | CreateBucketCommand
  | ListObjectsV2Command
  | DeleteObjectsCommand;

/** The slice of S3Client this store uses, so a test fake is one object literal. */
export interface S3Sender {
  send(command: S3Command, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** What the store logs through (pino's Logger fits). */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** One successful upload, for metrics; `ms` runs from put() to success, queueing and retries included. */
export interface UploadEvent {
  key: string;
  bytes: number;
  ms: number;
  attempts: number;
}

/** Collaborators; all optional, the real ones are built from the config. */
export interface S3SegmentStoreDeps {
  client?: S3Sender;
  logger?: StoreLogger;
  onUpload?: (event: UploadEvent) => void;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
}

/** Lifecycle of an S3SegmentStore. */
export type S3SegmentStoreState = 'created' | 'ready' | 'closing' | 'closed';

const silentLogger: StoreLogger = { info() {}, warn() {} };

/** SegmentStore over any S3-compatible bucket, with bounded uploads and explicit retries. */
export class S3SegmentStore implements SegmentStore {
  readonly #bucket: string;
  readonly #client: S3Sender;
  readonly #logger: StoreLogger;
  readonly #onUpload: ((event: UploadEvent) => void) | undefined;
  readonly #uploads: Semaphore;
  readonly #maxAttempts: number | undefined;
  readonly #sleep: Sleep | undefined;
  readonly #random: (() => number) | undefined;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  #state: S3SegmentStoreState = 'created';
  #closed: Promise<void> | undefined;

  constructor(config: S3SegmentStoreConfig, deps: S3SegmentStoreDeps = {}) {
    this.#bucket = config.bucket;
    this.#client = deps.client ?? createS3Client(config);
    this.#logger = deps.logger ?? silentLogger;
    this.#onUpload = deps.onUpload;
    this.#uploads = new Semaphore(config.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY);
    this.#maxAttempts = config.maxAttempts;
    this.#sleep = deps.sleep;
    this.#random = deps.random;
    this.#now = deps.now ?? (() => performance.now());
    // Every request and backoff sleep listens on this one signal; Node would warn past 10.
    setMaxListeners(0, this.#abort.signal);
  }

  /** Where the store is in its lifecycle. */
  get state(): S3SegmentStoreState {
    return this.#state;
  }

  /** Checks that the bucket exists and the credentials work; fails with a store error if not. */
  async start(): Promise<void> {
    this.#assertOpen(this.#bucket);
    await this.#track(() => this.#call('start', this.#bucket, () => this.#send(new HeadBucketCommand({ Bucket: this.#bucket }))));
    this.#markReady();
  }

  /** Creates the bucket if it is missing (for the local stack; production buckets are provisioned). */
  async ensureBucket(): Promise<void> {
    this.#assertOpen(this.#bucket);
    await this.#track(async () => {
      const exists = await this.#call('ensureBucket', this.#bucket, async () => {
        try {
          await this.#send(new HeadBucketCommand({ Bucket: this.#bucket }));
          return true;
        } catch (error) {
          if (httpStatusOf(error) === 404) return false;
          throw error;
        }
      });
      if (exists) return;
      await this.#call('ensureBucket', this.#bucket, async () => {
        try {
          await this.#send(new CreateBucketCommand({ Bucket: this.#bucket }));
        } catch (error) {
          // Another node created it between our HEAD and PUT: that is the state we wanted.
          const name = error instanceof Error ? error.name : '';
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
        }
      });
      this.#logger.info({ bucket: this.#bucket }, 'segment store created bucket');
    });
    this.#markReady();
  }

  /** Uploads with Content-Type and Cache-Control; at most `uploadConcurrency` run at once. */
  async put(key: string, body: Uint8Array, opts: PutOptions): Promise<void> {
    checkObjectKey(key);
    this.#assertOpen(key);
    await this.#track(async () => {
      const started = this.#now();
      const { attempts } = await this.#attempt('put', key, async () => {
        const release = await this.#uploads.acquire();
        try {
          await this.#send(
            new PutObjectCommand({
              Bucket: this.#bucket,
              Key: key,
              Body: body,
              ContentLength: body.byteLength,
              ContentType: opts.contentType,
              CacheControl: opts.cacheControl,
            }),
          );
        } finally {
          release();
        }
      });
      this.#reportUpload({ key, bytes: body.byteLength, ms: this.#now() - started, attempts });
    });
  }

  /** Reads an object as a Web stream; `null` for NoSuchKey, an error for a missing bucket. */
  async get(key: string): Promise<StoredObject | null> {
    checkObjectKey(key);
    this.#assertOpen(key);
    return this.#track(async () => {
      const output = await this.#call('get', key, async () => {
        try {
          return (await this.#send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }))) as GetObjectCommandOutput;
        } catch (error) {
          if (isMissingObject(error)) return null;
          throw error;
        }
      });
      if (output === null) return null;
      if (!output.Body) throw new SegmentStoreError('store_unavailable', `get ${key}: response had no body`, { key });
      return {
        body: output.Body.transformToWebStream(),
        contentType: output.ContentType ?? 'application/octet-stream',
        contentLength: output.ContentLength ?? 0,
        ...(output.CacheControl === undefined ? {} : { cacheControl: output.CacheControl }),
        ...(output.ETag === undefined ? {} : { etag: output.ETag }),
      };
    });
  }

  /** Lists the prefix page by page and deletes each page with one DeleteObjects request. */
  async deletePrefix(prefix: string): Promise<number> {
    checkPrefix(prefix);
    this.#assertOpen(prefix);
    return this.#track(async () => {
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await this.#call('list', prefix, async () => {
          const command = new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: KEYS_PER_PAGE, ContinuationToken: token });
          return (await this.#send(command)) as ListObjectsV2CommandOutput;
        });
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
        if (keys.length > 0) {
          const result = await this.#call('delete', prefix, async () => {
            const command = new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } });
            return (await this.#send(command)) as DeleteObjectsCommandOutput;
          });
          const failed = result.Errors ?? [];
          if (failed.length > 0) {
            const first = failed[0];
            const code = failed.some((e) => e.Code === 'AccessDenied') ? 'store_rejected' : 'store_unavailable';
            throw new SegmentStoreError(code, `deletePrefix ${prefix}: ${failed.length} of ${keys.length} deletes failed (first: ${first?.Key} ${first?.Code})`, { key: prefix });
          }
          // Count what we listed, not the response: S3 (and s3rver) report absent keys as deleted too.
          deleted += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return deleted;
    });
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const first = keys[0]!;
    this.#assertOpen(first);
    await this.#track(async () => {
      const result = await this.#call('delete', first, async () => {
        const command = new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } });
        return (await this.#send(command)) as DeleteObjectsCommandOutput;
      });
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        const code = failed.some((e) => e.Code === 'AccessDenied') ? 'store_rejected' : 'store_unavailable';
        throw new SegmentStoreError(code, `deleteKeys: ${failed.length} of ${keys.length} deletes failed (first: ${failed[0]?.Key} ${failed[0]?.Code})`, { key: first });
      }
    });
  }

  /** Refuses new work, waits up to CLOSE_DRAIN_TIMEOUT_MS for in-flight requests, then aborts them and ends the client (and any body still streaming). */
  close(reason: string): Promise<void> {
    this.#closed ??= this.#shutDown(reason);
    return this.#closed;
  }

  async #shutDown(reason: string): Promise<void> {
    this.#state = 'closing';
    const pending = Promise.allSettled([...this.#inFlight]);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      pending.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, CLOSE_DRAIN_TIMEOUT_MS, false))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.#abort.abort(new SegmentStoreError('store_closed', `segment store closed: ${reason}`));
      await pending;
    }
    this.#client.destroy();
    this.#state = 'closed';
    this.#logger.info({ bucket: this.#bucket, reason, drained }, 'segment store closed');
  }

  #send(command: S3Command): Promise<unknown> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return this.#client.send(command, { abortSignal: signal });
  }

  /** Runs `run` under the retry policy and turns a final failure into a SegmentStoreError. */
  async #call<T>(op: string, key: string, run: () => Promise<T>): Promise<T> {
    return (await this.#attempt(op, key, run)).value;
  }

  async #attempt<T>(op: string, key: string, run: () => Promise<T>): Promise<{ value: T; attempts: number }> {
    const outcome = await retry(run, {
      isRetryable: isRetryableS3Error,
      signal: this.#abort.signal,
      ...(this.#maxAttempts === undefined ? {} : { maxAttempts: this.#maxAttempts }),
      ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
      ...(this.#random === undefined ? {} : { random: this.#random }),
      onRetry: ({ attempt, delayMs, error }) => {
        this.#logger.warn({ op, key, attempt, delayMs, error: describeS3Error(error) }, 'segment store retrying');
      },
    });
    if (!outcome.ok) throw this.#failure(op, key, outcome);
    return outcome;
  }

  #failure(op: string, key: string, outcome: Extract<RetryOutcome<unknown>, { ok: false }>): SegmentStoreError {
    const { error, attempts } = outcome;
    if (error instanceof SegmentStoreError) return error;
    if (outcome.aborted) {
      const reason: unknown = this.#abort.signal.reason;
      const why = reason instanceof Error ? reason.message : 'segment store closed';
      return new SegmentStoreError('store_closed', `${op} ${key} aborted: ${why}`, { cause: error, key, attempts });
    }
    const message = `${op} ${key} failed after ${attempts} attempt(s): ${describeS3Error(error)}`;
    return new SegmentStoreError(storeErrorCodeFor(error), message, { cause: error, key, attempts });
  }

  #reportUpload(event: UploadEvent): void {
    try {
      this.#onUpload?.(event);
    } catch (error) {
      // A broken metrics hook must not fail an upload that succeeded.
      this.#logger.warn({ key: event.key, error: String(error) }, 'segment store onUpload hook threw');
    }
  }

  #assertOpen(key: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new SegmentStoreError('store_closed', `segment store is ${this.#state}`, { key });
    }
  }

  #markReady(): void {
    if (this.#state === 'created') this.#state = 'ready';
  }

  async #track<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.#inFlight.add(promise);
    try {
      return await promise;
    } finally {
      this.#inFlight.delete(promise);
    }
  }
}
