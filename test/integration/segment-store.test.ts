import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3SegmentStore, type S3SegmentStoreConfig, type UploadEvent } from '../../origin/src/store/s3-segment-store.ts';
import { describeSegmentStore, readBody, type RawObjectHead } from '../../origin/src/store/segment-store-suite.ts';
import { SegmentStoreError } from '../../origin/src/store/segment-store-error.ts';
import { DEFAULT_MAX_ATTEMPTS } from '../../origin/src/store/retry-policy.ts';
import { startS3Server, type S3Server } from '../support/s3-server.ts';

const BUCKET = 'edgelive-test';
let server: S3Server;
let raw: S3Client;

function configFor(s: S3Server, bucket = s.bucket): S3SegmentStoreConfig {
  return {
    endpoint: s.endpoint,
    region: s.region,
    bucket,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    forcePathStyle: true,
  };
}

const noWait = async (): Promise<void> => {};

async function failure(promise: Promise<unknown>): Promise<SegmentStoreError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SegmentStoreError);
  return error as SegmentStoreError;
}

beforeAll(async () => {
  server = await startS3Server({ bucket: BUCKET });
  // A plain SDK client, to look at what actually landed in the bucket.
  raw = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  raw.destroy();
  await server.close();
});

describeSegmentStore('S3SegmentStore on s3rver', {
  create: () => new S3SegmentStore(configFor(server)),
  async rawHead(key): Promise<RawObjectHead | null> {
    try {
      const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      return { contentType: head.ContentType, cacheControl: head.CacheControl, contentLength: head.ContentLength };
    } catch (error) {
      if (error instanceof Error && error.name === 'NotFound') return null;
      throw error;
    }
  },
});

describe('S3SegmentStore on s3rver', () => {
  it('reports each upload to onUpload with bytes and one attempt', async () => {
    const events: UploadEvent[] = [];
    const logger = pino({ level: 'silent' });
    const store = new S3SegmentStore(configFor(server), { logger, onUpload: (event) => events.push(event) });
    await store.put('metrics/seg-1.m4s', new Uint8Array(4096), { contentType: 'video/iso.segment', cacheControl: 'no-cache' });
    await store.close('test finished');

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ key: 'metrics/seg-1.m4s', bytes: 4096, attempts: 1 });
    expect(events[0]?.ms).toBeGreaterThanOrEqual(0);
  });

  it('returns the quoted MD5 as etag (s3rver, like S3, for single-part uploads)', async () => {
    const store = new S3SegmentStore(configFor(server));
    await store.put('etag/hello.m4s', new TextEncoder().encode('hello world'), { contentType: 'video/iso.segment', cacheControl: 'no-cache' });
    const object = await store.get('etag/hello.m4s');
    await readBody(object!);
    await store.close('test finished');

    expect(object?.etag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
  });

  it('deletes more than one 1000-key page under a prefix', { timeout: 60_000 }, async () => {
    const store = new S3SegmentStore(configFor(server), {});
    const keys = Array.from({ length: 1005 }, (_, i) => `paged/seg-${String(i).padStart(4, '0')}.m4s`);
    await Promise.all(keys.map((key) => store.put(key, new Uint8Array([1]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' })));

    expect(await store.deletePrefix('paged/')).toBe(1005);
    expect(await store.get('paged/seg-1004.m4s')).toBeNull();
    await store.close('test finished');
  });

  it('start() passes for an existing bucket and ensureBucket() creates a missing one', async () => {
    const existing = new S3SegmentStore(configFor(server));
    await existing.start();
    expect(existing.state).toBe('ready');
    await existing.close('test finished');

    const fresh = new S3SegmentStore(configFor(server, 'edgelive-fresh'));
    const missing = await failure(fresh.start());
    expect(missing.code).toBe('store_rejected');

    await fresh.ensureBucket();
    await fresh.ensureBucket();
    await fresh.start();
    await fresh.put('a/b.m4s', new Uint8Array([5]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' });
    expect(await readBody((await fresh.get('a/b.m4s'))!)).toEqual(new Uint8Array([5]));
    await fresh.close('test finished');
    expect(fresh.state).toBe('closed');
  });

  it('maps a missing bucket on get to store_rejected, not to null', async () => {
    const store = new S3SegmentStore(configFor(server, 'no-such-bucket'));
    const error = await failure(store.get('a/b.m4s'));
    await store.close('test finished');

    expect(error.code).toBe('store_rejected');
    expect(error.attempts).toBe(1);
    expect((error.cause as Error).name).toBe('NoSuchBucket');
  });

  it('maps an unknown access key to store_rejected without retrying', async () => {
    // s3rver checks only the access key id: it does not verify SigV4 signatures.
    const store = new S3SegmentStore({ ...configFor(server), accessKeyId: 'NOT-S3RVER' });
    const error = await failure(store.put('a/b.m4s', new Uint8Array([1]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' }));
    await store.close('test finished');

    expect(error.code).toBe('store_rejected');
    expect(error.attempts).toBe(1);
    expect((error.cause as Error).name).toBe('InvalidAccessKeyId');
  });

  it('retries a refused connection and then fails with store_unavailable', async () => {
    const gone = await startS3Server({ bucket: BUCKET });
    await gone.close();
    const delays: number[] = [];
    const store = new S3SegmentStore(configFor(gone), {
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0,
    });
    const error = await failure(store.put('a/b.m4s', new Uint8Array([1]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' }));
    await store.close('test finished');

    expect(error.code).toBe('store_unavailable');
    expect(error.attempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(delays).toEqual([50, 100, 200]);
  });

  it('serves a path-style client even though vhost buckets are on', async () => {
    const store = new S3SegmentStore({ ...configFor(server), forcePathStyle: false }, { sleep: noWait });
    // With an IP endpoint the SDK falls back to path-style by itself, so this works too.
    await store.put('vhost/seg.m4s', new Uint8Array([3]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' });
    expect(await readBody((await store.get('vhost/seg.m4s'))!)).toEqual(new Uint8Array([3]));
    await store.close('test finished');
  });
});

describe('startS3Server', () => {
  it('paginates ListObjectsV2 with continuation tokens (s3rver alone answers 500 here)', async () => {
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `list/${k}`, Body: new Uint8Array([1]) }))));
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }));
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ''));
      expect(page.KeyCount).toBe(pages.at(-1)?.length);
      token = page.NextContinuationToken;
      expect(token !== undefined).toBe(page.IsTruncated);
    } while (token !== undefined);

    expect(pages).toEqual([['list/a', 'list/b'], ['list/c', 'list/d'], ['list/e']]);
    const after = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/c' }));
    expect(after.Contents?.map((object) => object.Key)).toEqual(['list/d', 'list/e']);
  });

  it('uses a fresh temp directory, picks a free port and removes the directory on close', async () => {
    const { access } = await import('node:fs/promises');
    const other = await startS3Server({ bucket: 'other' });
    expect(other.port).toBeGreaterThan(0);
    expect(other.port).not.toBe(server.port);
    expect(other.endpoint).toBe(`http://127.0.0.1:${other.port}`);
    await access(other.directory);
    await other.close();
    await other.close();
    await expect(access(other.directory)).rejects.toThrow();
  });
});

describe('s3rver quirk behind requestChecksumCalculation: WHEN_REQUIRED', () => {
  it('with SDK defaults, a streamed PutObject is stored with its aws-chunked framing', async () => {
    const defaults = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    await defaults.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'quirk/streamed', Body: Readable.from([Buffer.from('hello stream')]), ContentLength: 12 }),
    );
    const stored = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'quirk/streamed' }));
    const text = await stored.Body!.transformToString();
    defaults.destroy();

    // If this starts failing, s3rver (or the SDK) changed and the setting can be revisited.
    expect(text).not.toBe('hello stream');
    expect(text).toContain('x-amz-checksum-crc32:');
    expect(stored.ContentEncoding).toBe('aws-chunked');
  });

  it('with WHEN_REQUIRED, the same streamed PutObject stores the plain bytes', async () => {
    await raw.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'quirk/plain', Body: Readable.from([Buffer.from('hello stream')]), ContentLength: 12 }),
    );
    const stored = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'quirk/plain' }));

    expect(await stored.Body!.transformToString()).toBe('hello stream');
    expect(stored.ContentEncoding).toBeUndefined();
  });
});
