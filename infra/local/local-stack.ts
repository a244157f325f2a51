import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../origin/src/config.ts';
import { OriginNode } from '../../origin/src/origin-node.ts';
import { startRedisServer, type RedisServer } from '../../test/support/redis-server.ts';
import { startS3Server, type S3Server } from '../../test/support/s3-server.ts';
import { OriginProcess } from './origin-process.ts';
import { freePort } from './free-port.ts';
import { startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

/** Ports of the local stack; 0 picks a free one. */
export interface LocalStackPorts {
  edge: number;
  rtmp: number;
  originHttp: number;
  s3: number;
  inspector: number;
}

/** The contract's defaults (../shared/ARCHITECTURE.md, "Public contract"). */
export const DEFAULT_PORTS: LocalStackPorts = { edge: 8787, rtmp: 1935, originHttp: 8100, s3: 9000, inspector: 9229 };

/** Options of a local stack. */
export interface LocalStackOptions {
  ports?: Partial<LocalStackPorts>;
  host?: string;
  adminToken?: string;
  originSecret?: string;
  /** HS256 key of playback tokens (`PLAYBACK_SIGNING_KEY`); generated when unset. */
  playbackSigningKey?: string;
  /** Where S3 objects and Durable Object state persist; a fresh temp folder when unset. */
  dataDir?: string;
  /** Extra origin settings (environment-variable names, as config.ts reads them). */
  originEnv?: Record<string, string>;
  /** Extra edge vars (wrangler.toml [vars] names). */
  edgeVars?: Record<string, string>;
  logger?: Logger;
  /**
   * Origin nodes. 1 (the default) runs one node in this process with no Redis, as before; more
   * start a local redis-server and run each node as its own process (`REDIS_URL` set), node k on
   * RTMP port + k and HTTP port + k (with port 0, free ports).
   */
  origins?: number;
  /** Port of the local redis-server in cluster mode (0: a free one). */
  redisPort?: number;
  /**
   * Run a single origin node as its own process too (no Redis), so a test can signal it like a
   * real deployment. Always true with more than one node.
   */
  originProcesses?: boolean;
}

/** A running local stack: S3 server on loopback, the edge under workerd, one origin node. */
export interface LocalStack {
  edgeUrl: string;
  rtmpUrl: string;
  originHttpUrl: string;
  s3: S3Server;
  adminToken: string;
  originSecret: string;
  /** The in-process node (single-node mode only). */
  origin: OriginNode | undefined;
  /** The node processes (cluster mode only), node k at index k. */
  origins: OriginProcess[];
  /** The local redis-server (cluster mode only). */
  redis: RedisServer | undefined;
  close(): Promise<void>;
}

async function pick(port: number | undefined, fallback: number): Promise<number> {
  const p = port ?? fallback;
  return p === 0 ? freePort() : p;
}

/**
 * Starts the whole path on this machine with embedded defaults: no Redis, one origin node, the
 * same S3 code path as production against a loopback S3 server, and the edge Worker in workerd.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const host = opts.host ?? '127.0.0.1';
  const ports: LocalStackPorts = {
    edge: await pick(opts.ports?.edge, DEFAULT_PORTS.edge),
    rtmp: await pick(opts.ports?.rtmp, DEFAULT_PORTS.rtmp),
    originHttp: await pick(opts.ports?.originHttp, DEFAULT_PORTS.originHttp),
    s3: await pick(opts.ports?.s3, DEFAULT_PORTS.s3),
    inspector: await pick(opts.ports?.inspector, DEFAULT_PORTS.inspector),
  };
  const adminToken = opts.adminToken ?? randomBytes(24).toString('base64url');
  const originSecret = opts.originSecret ?? randomBytes(24).toString('base64url');
  // Only the edge holds it: tokens are minted and checked there, never by the origin.
  const playbackSigningKey = opts.playbackSigningKey ?? randomBytes(32).toString('base64url');
  const logger = opts.logger ?? pino({ level: 'info' });
  const dataDir = opts.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => logger.warn({ err }, 'local stack: cleanup failed'));
  };
  try {
    const s3 = await startS3Server({ bucket: 'edgelive-media', host, port: ports.s3, ...(dataDir ? { directory: join(dataDir, 's3') } : {}) });
    cleanups.push(() => s3.close());
    logger.info({ endpoint: s3.endpoint }, 'local S3 server listening');

    let persistTo = dataDir ? join(dataDir, 'wrangler') : undefined;
    if (!persistTo) {
      const temp = mkdtempSync(join(tmpdir(), 'edgelive-edge-'));
      cleanups.push(async () => rmSync(temp, { recursive: true, force: true }));
      persistTo = temp;
    }
    const edge: WranglerDev = await startWranglerDev({
      host,
      port: ports.edge,
      inspectorPort: ports.inspector,
      persistTo,
      vars: {
        ADMIN_TOKEN: adminToken,
        ORIGIN_SECRET: originSecret,
        PLAYBACK_SIGNING_KEY: playbackSigningKey,
        INGEST_URL: `rtmp://${host}:${ports.rtmp}/live`,
        ORIGIN_PULL_URL: `http://${host}:${ports.originHttp}/media`,
        // Local development: test secrets may be short (production refuses under 32 characters).
        EDGELIVE_ENV: 'development',
        // The edge's R2 binding is miniflare's own bucket here; media live in the loopback S3
        // server, so the StreamDO's purges also go to the origin's signed delete route.
        MEDIA_DELETE_URL: `http://${host}:${ports.originHttp}/internal/v1/media/delete`,
        ...opts.edgeVars,
      },
      onLog: (line) => logger.debug({ component: 'wrangler' }, line),
    });
    cleanups.push(() => edge.close());
    logger.info({ url: edge.url }, 'edge (workerd) listening');

    const baseEnv: Record<string, string> = {
      ORIGIN_SECRET: originSecret,
      EDGELIVE_ENV: 'development',
      EDGE_URL: edge.url,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      LOG_LEVEL: logger.level,
      ...(process.env.FFMPEG_PATH ? { FFMPEG_PATH: process.env.FFMPEG_PATH } : {}),
    };
    const count = opts.origins ?? 1;
    if (count > 1 || opts.originProcesses) {
      let redis: RedisServer | undefined;
      if (count > 1) {
        const server = await startRedisServer({ port: opts.redisPort ?? 0 });
        redis = server;
        cleanups.push(() => server.close());
        logger.info({ url: server.url }, 'local redis-server listening');
      }
      const origins: OriginProcess[] = [];
      for (let k = 0; k < count; k++) {
        // Node 0 takes the stack's ports (the edge's ORIGIN_PULL_URL points at it).
        const rtmp = k === 0 ? ports.rtmp : opts.ports?.rtmp === 0 ? await freePort() : ports.rtmp + k;
        const http = k === 0 ? ports.originHttp : opts.ports?.originHttp === 0 ? await freePort() : ports.originHttp + k;
        const node = new OriginProcess({ nodeId: `origin-${k}`, host, rtmpPort: rtmp, httpPort: http, env: { ...baseEnv, ...(redis ? { REDIS_URL: redis.url } : {}), ...opts.originEnv }, logger });
        origins.push(node);
        cleanups.push(() => node.close());
      }
      await Promise.all(origins.map((o) => o.start()));
      return { edgeUrl: edge.url, rtmpUrl: origins[0]!.rtmpUrl, originHttpUrl: origins[0]!.httpUrl, s3, adminToken, originSecret, origin: undefined, origins, redis, close };
    }

    const config = loadConfig({
      ...baseEnv,
      BIND_HOST: host,
      RTMP_PORT: String(ports.rtmp),
      HTTP_PORT: String(ports.originHttp),
      NODE_ID: `local-${ports.rtmp}`,
      ...opts.originEnv,
    });
    const origin = new OriginNode(config, { logger });
    await origin.start();
    cleanups.push(() => origin.stop('local stack stopping'));

    return {
      edgeUrl: edge.url,
      rtmpUrl: `rtmp://${host}:${ports.rtmp}/live`,
      originHttpUrl: `http://${host}:${ports.originHttp}`,
      s3,
      adminToken,
      originSecret,
      origin,
      origins: [],
      redis: undefined,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
