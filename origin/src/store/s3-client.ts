import { S3Client } from '@aws-sdk/client-s3';

/** The SDK's own retries stay off: `retry-policy.ts` owns backoff, so `attempts` is exact. */
export const SDK_MAX_ATTEMPTS = 1;
/** A request with no response by then is a `TimeoutError` and is retried. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A TCP/TLS connect that takes longer than this is abandoned and retried. */
export const CONNECTION_TIMEOUT_MS = 3_000;

/** How to reach an S3-compatible endpoint: R2, AWS S3, MinIO or the loopback server. */
export interface S3ConnectionConfig {
  /** Omit for AWS; R2 is `https://<account>.r2.cloudflarestorage.com`. */
  endpoint?: string;
  /** `auto` for R2. */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `true` for MinIO and loopback servers (`http://host/bucket/key` instead of `bucket.host`). */
  forcePathStyle: boolean;
}

/** Builds the SDK client for an S3-compatible endpoint. */
export function createS3Client(config: S3ConnectionConfig): S3Client {
  return new S3Client({
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS },
    // Since SDK 3.729 the default (WHEN_SUPPORTED) puts a CRC32 on every PutObject and sets
    // x-amz-checksum-mode on every GetObject. S3-compatible servers that predate this break on it:
    // - s3rver 3.7 ignores the header form (Uint8Array bodies) but stores a streamed body's
    //   aws-chunked framing and trailer as the object's bytes (pinned by a test in
    //   test/integration/segment-store.test.ts);
    // - R2 lists CRC32 only as a COMPOSITE (multipart) checksum, not for a whole object, and older
    //   MinIO and other gateways reject the trailer or x-amz-sdk-checksum-algorithm outright.
    // SigV4 already signs a SHA-256 of our Uint8Array bodies, so we send only the checksums an
    // operation requires (DeleteObjects gets a CRC32 header) and validate only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
