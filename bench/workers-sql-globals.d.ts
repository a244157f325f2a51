// The few Workers types that the edge modules benches run in Node (bench:dvr, bench:relay-pass) refer to. Their real
// definitions live in @cloudflare/workers-types, which cannot be loaded beside Node's own types;
// these match the members the edge uses.
type SqlStorageValue = ArrayBuffer | string | number | null;
interface SqlStorageCursor<T> {
  toArray(): T[];
  one(): T;
  readonly rowsWritten: number;
  [Symbol.iterator](): IterableIterator<T>;
}
interface SqlStorage {
  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T>;
}
interface R2Bucket {
  delete(keys: string | string[]): Promise<void>;
}
/** workerd's byte stream pair (the playlist push's subscriptions are made of them). */
declare class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {}
