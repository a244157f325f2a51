/** One object read back from the segment store; `body` must be consumed or cancelled. */
export interface StoredObject {
  /**
   * A Web stream, so it can go straight into `new Response(body)` (Hono) or through
   * `Readable.fromWeb(body)` into a node:http response without buffering the segment.
   */
  body: ReadableStream<Uint8Array>;
  contentType: string;
  contentLength: number;
  /** The Cache-Control stored with the object, when the store keeps one. */
  cacheControl?: string;
  /** The object's quoted HTTP entity tag, as the store reports it. */
  etag?: string;
}

/** Headers written with every object. */
export interface PutOptions {
  contentType: string;
  cacheControl: string;
}

/** Where media bytes live (R2, S3, the loopback S3 server or memory); the bucket owns them. */
export interface SegmentStore {
  /** Stores `body` under `key`, replacing any earlier object; resolves once it is durable. */
  put(key: string, body: Uint8Array, opts: PutOptions): Promise<void>;
  /** Reads `key`; `null` when there is no such object. */
  get(key: string): Promise<StoredObject | null>;
  /** Deletes every object whose key starts with `prefix` (never empty) and returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Deletes these objects (absent ones count as deleted); at most 1000 keys a call. */
  deleteKeys(keys: readonly string[]): Promise<void>;
  /** Stops accepting work, lets in-flight work finish, releases resources; idempotent. */
  close(reason: string): Promise<void>;
}
