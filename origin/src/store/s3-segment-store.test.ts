import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_ATTEMPTS } from './retry-policy.ts';
import { CLOSE_DRAIN_TIMEOUT_MS, S3SegmentStore, type S3Command, type S3SegmentStoreConfig, type UploadEvent } from './s3-segment-store.ts';
import { readBody } from './segment-store-suite.ts';
import { SegmentStoreError } from './segment-store-error.ts';

const CONFIG: S3SegmentStoreConfig = {
  region: 'auto',
  bucket: 'media',
  accessKeyId: 'id',
  secretAccessKey: 'secret',
  forcePathStyle: true,
};
const SEGMENT = { contentType: 'video/iso.segment', cacheControl: 'public, max-age=31536000, immutable' };

type Handler = (command: S3Command, signal: AbortSignal | undefined) => Promise<unknown>;

/** A fake S3 client: records every command and answers with `handler`. */
function fakeClient(handler: Handler) {
  const sent: S3Command[] = [];
  return {
    sent,
    destroyed: 0,
    send(command: S3Command, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
      sent.push(command);
      return handler(command, options?.abortSignal);
    },
    destroy() {
      this.destroyed += 1;
    },
  };
}

function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
}

function recordingLogger() {
  const lines: Array<{ level: 'info' | 'warn'; fields: object; message: string }> = [];
  return {
    lines,
    info: (fields: object, message: string) => void lines.push({ level: 'info', fields, message }),
    warn: (fields: object, message: string) => void lines.push({ level: 'warn', fields, message }),
  };
}

async function failure(promise: Promise<unknown>): Promise<SegmentStoreError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SegmentStoreError);
  return error as SegmentStoreError;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('S3SegmentStore retries', () => {
  it('retries a 503 twice with growing backoff, then reports the upload with 3 attempts', async () => {
    let calls = 0;
    const client = fakeClient(async () => {
      calls += 1;
      if (calls <= 2) throw serviceError(calls === 1 ? 'SlowDown' : 'InternalError', calls === 1 ? 503 : 500);
      return {};
    });
    const sleeps: number[] = [];
    const uploads: UploadEvent[] = [];
    const logger = recordingLogger();
    let clock = 0;
    const store = new S3SegmentStore(CONFIG, {
      client,
      logger,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      random: () => 0,
      now: () => clock,
      onUpload: (event) => uploads.push(event),
    });

    await store.put('live/s1/720p/seg-1.m4s', new Uint8Array([1, 2, 3]), SEGMENT);

    expect(client.sent).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(uploads).toEqual([{ key: 'live/s1/720p/seg-1.m4s', bytes: 3, ms: 150, attempts: 3 }]);
    expect(logger.lines.map((line) => [line.level, line.message, line.fields])).toEqual([
      ['warn', 'segment store retrying', { op: 'put', key: 'live/s1/720p/seg-1.m4s', attempt: 1, delayMs: 50, error: 'SlowDown (HTTP 503): SlowDown' }],
      ['warn', 'segment store retrying', { op: 'put', key: 'live/s1/720p/seg-1.m4s', attempt: 2, delayMs: 100, error: 'InternalError (HTTP 500): InternalError' }],
    ]);
  });

  it('gives up after DEFAULT_MAX_ATTEMPTS with store_unavailable, the attempts and the last cause', async () => {
    const last = serviceError('ServiceUnavailable', 503);
    const client = fakeClient(async () => {
      throw last;
    });
    const uploads: UploadEvent[] = [];
    const store = new S3SegmentStore(CONFIG, { client, sleep: async () => {}, onUpload: (event) => uploads.push(event) });

    const error = await failure(store.put('live/s1/720p/seg-1.m4s', new Uint8Array([1]), SEGMENT));

    expect(error.code).toBe('store_unavailable');
    expect(error.attempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(error.key).toBe('live/s1/720p/seg-1.m4s');
    expect(error.cause).toBe(last);
    expect(error.message).toBe('put live/s1/720p/seg-1.m4s failed after 4 attempt(s): ServiceUnavailable (HTTP 503): ServiceUnavailable');
    expect(client.sent).toHaveLength(DEFAULT_MAX_ATTEMPTS);
    expect(uploads).toEqual([]);
  });

  it('fails at once with store_rejected on a 403', async () => {
    const client = fakeClient(async () => {
      throw serviceError('AccessDenied', 403);
    });
    const store = new S3SegmentStore(CONFIG, { client, sleep: async () => {} });

    const error = await failure(store.put('k.m4s', new Uint8Array([1]), SEGMENT));

    expect(error.code).toBe('store_rejected');
    expect(error.attempts).toBe(1);
    expect(client.sent).toHaveLength(1);
  });

  it('honours a configured maxAttempts', async () => {
    const client = fakeClient(async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    });
    const store = new S3SegmentStore({ ...CONFIG, maxAttempts: 2 }, { client, sleep: async () => {} });

    expect((await failure(store.get('k.m4s'))).attempts).toBe(2);
    expect(client.sent).toHaveLength(2);
  });
});

describe('S3SegmentStore requests', () => {
  it('sends PutObject with bucket, key, body, length, Content-Type and Cache-Control', async () => {
    const client = fakeClient(async () => ({}));
    const store = new S3SegmentStore(CONFIG, { client });
    const body = new Uint8Array([9, 8, 7]);

    await store.put('live/s1/720p/init.mp4', body, { contentType: 'video/mp4', cacheControl: 'public, max-age=31536000, immutable' });

    const command = client.sent[0];
    expect(command).toBeInstanceOf(PutObjectCommand);
    expect((command as PutObjectCommand).input).toEqual({
      Bucket: 'media',
      Key: 'live/s1/720p/init.mp4',
      Body: body,
      ContentLength: 3,
      ContentType: 'video/mp4',
      CacheControl: 'public, max-age=31536000, immutable',
    });
  });

  it('never has more than uploadConcurrency PutObject requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const client = fakeClient(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return {};
    });
    const store = new S3SegmentStore({ ...CONFIG, uploadConcurrency: 3 }, { client });

    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`k/${i}.m4s`, new Uint8Array([i]), SEGMENT)));

    expect(peak).toBe(3);
    expect(client.sent).toHaveLength(20);
  });

  it('maps NoSuchKey to null and streams the body with its headers', async () => {
    const client = fakeClient(async (command) => {
      const { Key } = (command as GetObjectCommand).input;
      if (Key === 'missing.m4s') throw new NoSuchKey({ message: 'no key', $metadata: { httpStatusCode: 404 } });
      return {
        Body: { transformToWebStream: () => new Response(new Uint8Array([1, 2])).body },
        ContentType: 'video/iso.segment',
        ContentLength: 2,
        CacheControl: 'no-cache',
        ETag: '"abc"',
      };
    });
    const store = new S3SegmentStore(CONFIG, { client });

    expect(await store.get('missing.m4s')).toBeNull();
    const object = await store.get('present.m4s');
    expect(object).toMatchObject({ contentType: 'video/iso.segment', contentLength: 2, cacheControl: 'no-cache', etag: '"abc"' });
    expect(await readBody(object!)).toEqual(new Uint8Array([1, 2]));
    expect(client.sent).toHaveLength(2);
  });

  it('deletePrefix follows continuation tokens and deletes each page in one request', async () => {
    const client = fakeClient(async (command) => {
      if (command instanceof ListObjectsV2Command) {
        return command.input.ContinuationToken === undefined
          ? { Contents: [{ Key: 'p/a' }, { Key: 'p/b' }], IsTruncated: true, NextContinuationToken: 't1' }
          : { Contents: [{ Key: 'p/c' }], IsTruncated: false };
      }
      return {};
    });
    const store = new S3SegmentStore(CONFIG, { client });

    expect(await store.deletePrefix('p/')).toBe(3);

    expect(client.sent.map((command) => [command.constructor.name, command.input])).toEqual([
      ['ListObjectsV2Command', { Bucket: 'media', Prefix: 'p/', MaxKeys: 1000, ContinuationToken: undefined }],
      ['DeleteObjectsCommand', { Bucket: 'media', Delete: { Objects: [{ Key: 'p/a' }, { Key: 'p/b' }], Quiet: true } }],
      ['ListObjectsV2Command', { Bucket: 'media', Prefix: 'p/', MaxKeys: 1000, ContinuationToken: 't1' }],
      ['DeleteObjectsCommand', { Bucket: 'media', Delete: { Objects: [{ Key: 'p/c' }], Quiet: true } }],
    ]);
  });

  it('deletePrefix reports per-key failures from DeleteObjects', async () => {
    const client = fakeClient(async (command) =>
      command instanceof DeleteObjectsCommand
        ? { Errors: [{ Key: 'p/b', Code: 'InternalError', Message: 'try again' }] }
        : { Contents: [{ Key: 'p/a' }, { Key: 'p/b' }], IsTruncated: false },
    );
    const store = new S3SegmentStore(CONFIG, { client });

    const error = await failure(store.deletePrefix('p/'));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toBe('deletePrefix p/: 1 of 2 deletes failed (first: p/b InternalError)');
  });

  it('ensureBucket creates a missing bucket and tolerates losing the race to create it', async () => {
    const client = fakeClient(async (command) => {
      if (command instanceof HeadBucketCommand) throw serviceError('NotFound', 404);
      if (command instanceof CreateBucketCommand) throw serviceError('BucketAlreadyOwnedByYou', 409);
      return {};
    });
    const store = new S3SegmentStore(CONFIG, { client });

    await store.ensureBucket();

    expect(client.sent.map((command) => command.constructor.name)).toEqual(['HeadBucketCommand', 'CreateBucketCommand']);
    expect(store.state).toBe('ready');
  });

  it('keeps an upload that succeeded when the onUpload hook throws', async () => {
    const logger = recordingLogger();
    const store = new S3SegmentStore(CONFIG, {
      client: fakeClient(async () => ({})),
      logger,
      onUpload: () => {
        throw new Error('metrics down');
      },
    });

    await store.put('k.m4s', new Uint8Array([1]), SEGMENT);
    expect(logger.lines).toEqual([
      { level: 'warn', fields: { key: 'k.m4s', error: 'Error: metrics down' }, message: 'segment store onUpload hook threw' },
    ]);
  });
});

describe('S3SegmentStore lifecycle', () => {
  it('lets an in-flight upload finish on close, then destroys the client and logs once', async () => {
    let finish!: () => void;
    const client = fakeClient(() => new Promise((resolve) => (finish = () => resolve({}))));
    const logger = recordingLogger();
    const store = new S3SegmentStore(CONFIG, { client, logger });

    const upload = store.put('k.m4s', new Uint8Array([1]), SEGMENT);
    await vi.waitFor(() => expect(client.sent).toHaveLength(1));
    const closed = store.close('SIGTERM');
    expect(store.state).toBe('closing');
    expect((await failure(store.put('late.m4s', new Uint8Array([1]), SEGMENT))).code).toBe('store_closed');

    finish();
    await upload;
    await closed;
    await store.close('again');

    expect(store.state).toBe('closed');
    expect(client.destroyed).toBe(1);
    expect(logger.lines).toEqual([
      { level: 'info', fields: { bucket: 'media', reason: 'SIGTERM', drained: true }, message: 'segment store closed' },
    ]);
  });

  it('aborts work still running after CLOSE_DRAIN_TIMEOUT_MS with store_closed', async () => {
    vi.useFakeTimers();
    const client = fakeClient(
      (_command, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
        }),
    );
    const store = new S3SegmentStore(CONFIG, { client });

    const upload = failure(store.put('k.m4s', new Uint8Array([1]), SEGMENT));
    await vi.advanceTimersByTimeAsync(0);
    const closed = store.close('SIGTERM');
    await vi.advanceTimersByTimeAsync(CLOSE_DRAIN_TIMEOUT_MS);
    await closed;

    const error = await upload;
    expect(error.code).toBe('store_closed');
    expect(error.message).toBe('put k.m4s aborted: segment store closed: SIGTERM');
    expect(error.attempts).toBe(1);
    expect(store.state).toBe('closed');
  });
});
