export type { PutOptions, SegmentStore, StoredObject } from './segment-store.ts';
export { SegmentStoreError, isSegmentStoreError, type SegmentStoreErrorCode } from './segment-store-error.ts';
export { IMMUTABLE_CACHE_CONTROL, MANIFEST_CACHE_CONTROL, cacheControlFor, contentTypeFor } from './media-headers.ts';
export { MemorySegmentStore } from './memory-segment-store.ts';
export {
  CLOSE_DRAIN_TIMEOUT_MS,
  DEFAULT_UPLOAD_CONCURRENCY,
  S3SegmentStore,
  type S3SegmentStoreConfig,
  type S3SegmentStoreDeps,
  type S3SegmentStoreState,
  type StoreLogger,
  type UploadEvent,
} from './s3-segment-store.ts';
export { createS3Client, type S3ConnectionConfig } from './s3-client.ts';
