import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver accepts only its built-in account; SigV4 signatures are checked against it. */
export const S3_SERVER_ACCESS_KEY_ID = 'S3RVER';
/** Secret of s3rver's built-in account. */
export const S3_SERVER_SECRET_ACCESS_KEY = 'S3RVER';
/** s3rver answers for us-east-1 (its ListObjectsV2 continuation tokens name that region). */
export const S3_SERVER_REGION = 'us-east-1';
/** Loopback only: this server has no real authentication story. */
export const S3_SERVER_DEFAULT_HOST = '127.0.0.1';

/** How to start the loopback S3 server. */
export interface S3ServerOptions {
  /** Bucket created before the server accepts requests. */
  bucket: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Where objects are kept; default a fresh temp directory that close() removes. */
  directory?: string;
}

/** A running loopback S3 server and everything a client needs to reach it (path-style). */
export interface S3Server {
  endpoint: string;
  host: string;
  port: number;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Always true: the endpoint is an IP, so virtual-hosted bucket names cannot resolve. */
  forcePathStyle: true;
  directory: string;
  /** Stops listening and removes the directory if it was a temp one; idempotent. */
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  /** Koa's middleware list; composed when run() starts listening. */
  middleware: KoaMiddleware[];
}

/** The slice of a Koa context the listing fix touches. */
interface KoaContext {
  method: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface ListBucketResult {
  Marker?: unknown;
  NextMarker?: unknown;
  IsTruncated?: boolean;
  Contents?: Array<{ Key: string }>;
  CommonPrefixes?: Array<{ Prefix: string }>;
  [field: string]: unknown;
}

type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;

// s3rver is CommonJS without type declarations; load it through require and type the bit we use.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** Starts s3rver on loopback with `bucket` created; used by integration tests and the local stack. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const host = options.host ?? S3_SERVER_DEFAULT_HOST;
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'edgelive-s3-')));
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: options.bucket }],
  });
  // s3rver's router is the last middleware; the fix must see path-style requests and a body
  // that is still an object (the XML encoder runs earlier in the chain, after `next()`).
  server.middleware.splice(server.middleware.length - 1, 0, listObjectsV2Pagination);
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    throw new Error(`S3 server could not listen on ${host}:${options.port ?? 0}`, { cause: error });
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    host,
    port: address.port,
    region: S3_SERVER_REGION,
    bucket: options.bucket,
    accessKeyId: S3_SERVER_ACCESS_KEY_ID,
    secretAccessKey: S3_SERVER_SECRET_ACCESS_KEY,
    forcePathStyle: true,
    directory,
    close() {
      closing ??= (async () => {
        await server.close();
        if (ownsDirectory) await rm(directory, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * s3rver 3.7 builds ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17)
 * does not load, so any truncated V2 listing (more than max-keys matches) fails with a 500
 * InternalError. Its V1 listing has no token, so we answer V2 requests through V1 (`marker`)
 * and mint an opaque token ourselves: base64url of the last key or common prefix returned.
 */
const listObjectsV2Pagination: KoaMiddleware = async (ctx, next) => {
  if (ctx.method !== 'GET' || single(ctx.query['list-type']) !== '2') return next();
  const { 'list-type': _listType, 'continuation-token': token, 'start-after': startAfter, ...rest } = ctx.query;
  const tokenValue = single(token);
  const marker = tokenValue ? Buffer.from(tokenValue, 'base64url').toString('utf8') : single(startAfter);
  ctx.query = { ...rest, ...(marker ? { marker } : {}) };
  await next();

  const body = ctx.body as { ListBucketResult?: ListBucketResult } | undefined;
  const result = body?.ListBucketResult;
  if (!result) return;
  const { Marker: _marker, NextMarker: _nextMarker, ...v2 } = result;
  const keys = (result.Contents ?? []).map((object) => object.Key);
  const prefixes = (result.CommonPrefixes ?? []).map((common) => common.Prefix);
  const last = [...keys, ...prefixes].sort().at(-1);
  ctx.body = {
    ListBucketResult: {
      ...v2,
      KeyCount: keys.length + prefixes.length,
      ...(tokenValue ? { ContinuationToken: tokenValue } : {}),
      ...(!tokenValue && single(startAfter) ? { StartAfter: single(startAfter) } : {}),
      ...(result.IsTruncated && last !== undefined ? { NextContinuationToken: Buffer.from(last, 'utf8').toString('base64url') } : {}),
    },
  };
};
